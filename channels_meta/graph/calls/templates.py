"""A WhatsApp Business Account's message templates."""

from __future__ import annotations

from typing import Any

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import node_path
from channels_meta.graph.client import client

TEMPLATE_FIELDS = "id,name,language,status,category,quality_score,components"


@sensitive_variables("token")
def templates_list(*, waba_id: str, token: str) -> list[dict[str, Any]]:
    """Every message template of a WhatsApp Business Account, across pages."""
    return list(
        client().paginate(
            node_path(waba_id, "message_templates"),
            token=token,
            params={"fields": TEMPLATE_FIELDS, "limit": 100},
        )
    )
