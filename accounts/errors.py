"""The one kind of refusal a person can act on."""


class RuleError(Exception):
    """A rule refused what someone tried; the message is for the person who tried it.

    The web shows it next to the form, the API answers 400 with it: every refusal of
    every app extends this class, so the two can never disagree."""
