"""Secrets kept out of the logs: query strings and the tokens in Padu's links.

OAuth callbacks carry their `code` and `state` in the query string; invitation,
password-reset and e-mail confirmation links carry a token in the path. Anyone who can
read a log line must not be able to use either. Gunicorn's access log (padu/gunicorn.conf.py)
and Django's log records (the `scrub_secrets` filter in settings) both go through `scrub`.
"""

from __future__ import annotations

import logging
import re

REDACTED = "REDACTED"

_QUERY = re.compile(r"(?<=[^\s\"'])\?[^\s\"']+")
# A link's secret segment where a path starts: at the start of the text, after a space,
# quote or bracket, or after a URL's host. Not /o/<slug>/invitations/<id>/revoke/.
_LINK_SECRET = re.compile(
    r"(?P<head>(?:^|(?<=[\s\"'(])|//[^/\s\"']+)"
    r"/(?:invitations|account/confirm|password-reset/[^/\s\"'?#]+)/)"
    r"[^/\s\"'?#]+"
)


def scrub(text: str) -> str:
    """`text` without query strings and without the tokens of invitation, password-reset
    and e-mail confirmation links."""
    text = _QUERY.sub("", text)
    return _LINK_SECRET.sub(rf"\g<head>{REDACTED}", text)


class ScrubSecrets(logging.Filter):
    """Scrubs every record it passes (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True
