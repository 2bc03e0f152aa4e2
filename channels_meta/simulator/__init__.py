"""A stand-in for Meta: the Graph API endpoints, login dialogs and webhooks Padu uses.

It imports nothing of Padu, and no production module imports it.
"""
