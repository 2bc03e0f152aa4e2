"""E-mail sent because of a change: rendered in the reader's language and sent only
once the change is committed, so a rolled-back change never e-mails anyone."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import Promise


def email_on_commit(
    *, subject: str | Promise, template: str, context: dict, to: str, language: str = ""
) -> None:
    """Send one e-mail after the transaction commits, in `language` (the current one when
    empty); a lazy `subject` is translated in that language too."""
    language = language or translation.get_language()

    def send() -> None:
        with translation.override(language):
            body = render_to_string(template, context)
            send_mail(str(subject), body, None, [to])

    transaction.on_commit(send)
