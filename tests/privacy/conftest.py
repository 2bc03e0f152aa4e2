"""The Meta simulator's fixture, for the privacy tests that release channels at Meta."""

from tests.channels_meta.conftest import meta  # noqa: F401
