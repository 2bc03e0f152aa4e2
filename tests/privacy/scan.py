"""Looks for a piece of personal data everywhere Padu keeps data: every text, JSON, file
name and binary column of every table, and the stored files."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.db.models.functions import Cast

from channels_meta.webhooks.retention import BodyText

TEXT_FIELDS = (models.CharField, models.TextField, models.FileField)


def _as_text(field: models.Field):
    if isinstance(field, models.JSONField):
        return Cast(field.name, models.TextField())
    if isinstance(field, models.BinaryField):
        return BodyText(field.name)
    if isinstance(field, TEXT_FIELDS):
        return models.F(field.name)
    return None


def columns_holding(needle: str) -> list[str]:
    """`app.Model.field` of every column in which some row holds `needle` (in any case)."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            text = _as_text(field)
            if text is None:
                continue
            rows = model._base_manager.annotate(scanned=text)
            if rows.filter(scanned__icontains=needle).exists():
                found.append(f"{model._meta.label}.{field.name}")
    return found


def stored_files() -> set[str]:
    """Every file in the storage, by its name there."""
    root = Path(default_storage.location)
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
