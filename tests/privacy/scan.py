"""Looks for a piece of personal data everywhere Padu keeps data: every text, JSON, file
name and binary column of every table, and the stored files."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.db.models.functions import Cast

TEXT_FIELDS = (models.CharField, models.TextField, models.FileField)


def _as_text(field: models.Field):
    if isinstance(field, models.JSONField):
        return Cast(field.name, models.TextField())
    if isinstance(field, TEXT_FIELDS):
        return models.F(field.name)
    return None


def _bytes_hold(model: type[models.Model], field: models.Field, needle: str) -> bool:
    wanted = needle.lower().encode()
    rows = model._base_manager.values_list(field.name, flat=True)
    return any(wanted in bytes(value).lower() for value in rows.iterator() if value)


def columns_holding(needle: str) -> list[str]:
    """`app.Model.field` of every column in which some row holds `needle` (in any case)."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            text = _as_text(field)
            if isinstance(field, models.BinaryField):
                holds = _bytes_hold(model, field, needle)
            elif text is not None:
                rows = model._base_manager.annotate(scanned=text)
                holds = rows.filter(scanned__icontains=needle).exists()
            else:
                continue
            if holds:
                found.append(f"{model._meta.label}.{field.name}")
    return found


def stored_files() -> set[str]:
    """Every file in the storage, by its name there."""
    root = Path(default_storage.location)
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
