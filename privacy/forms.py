from __future__ import annotations

from django import forms

from privacy.models import RetentionPolicy


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["conversation_days", "disconnected_channel_days"]
