"""Every change to channels, their tokens and their templates goes through here."""
