from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_single_line(value: str) -> None:
    """Names end up in e-mail subjects and page titles: no line breaks or other control
    characters."""
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise ValidationError(
            _("Use a single line of text, without line breaks or control characters."),
            code="control_characters",
        )
