from __future__ import annotations

from datetime import datetime

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, User
from channels_meta.models import MessageTemplate, TemplateStatus
from inbox.models import (
    Contact,
    ConversationKind,
    ConversationStatus,
    EventType,
    Label,
    SavedReply,
    SendMode,
)
from inbox.selectors import Cursor, ListFilters

TABS = [("mine", _("Mine")), ("unassigned", _("Unassigned")), ("all", _("All"))]
STATUS_FILTERS = [*ConversationStatus.choices, ("all", _("Any status"))]


class QuickSelect(forms.Select):
    """A select built in Python: the inbox shows eight on every page, and Django renders
    each option of a select through a template of its own."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (
                    option["value"],
                    mark_safe(" selected") if option["selected"] else "",
                    option["label"],
                )
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(widget["attrs"]), options
        )


def parse_cursor(value: str) -> Cursor | None:
    """A cursor from the URL, or None when it is missing or not one of ours."""
    at, _sep, pk = (value or "").partition("~")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    return Cursor(moment, int(pk)) if pk.isdigit() and moment.tzinfo else None


class ListFilterForm(forms.Form):
    """The list's filters, read from the query string; anything invalid is ignored."""

    tab = forms.ChoiceField(choices=TABS, required=False, widget=QuickSelect)
    status = forms.ChoiceField(
        choices=STATUS_FILTERS, required=False, label=_("Status"), widget=QuickSelect
    )
    channel = forms.TypedChoiceField(
        coerce=int, required=False, label=_("Channel"), widget=QuickSelect
    )
    kind = forms.ChoiceField(
        choices=[("", _("Messages and comments")), *ConversationKind.choices],
        required=False,
        label=_("Kind"),
        widget=QuickSelect,
    )
    assignee = forms.TypedChoiceField(
        coerce=int, required=False, label=_("Assignee"), widget=QuickSelect
    )
    label = forms.TypedChoiceField(coerce=int, required=False, label=_("Label"), widget=QuickSelect)
    unread = forms.BooleanField(required=False, label=_("Unread only"))
    q = forms.CharField(required=False, max_length=100, label=_("Search"), strip=True)

    def __init__(self, *args, channels, members, labels, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("All channels"))] + [
            (channel.pk, channel.name) for channel in channels
        ]
        self.fields["assignee"].choices = [("", _("Anyone"))] + [
            (member.user_id, member.user.get_full_name()) for member in members
        ]
        self.fields["label"].choices = [("", _("Any label"))] + [
            (label.pk, label.name) for label in labels
        ]

    def filters(self) -> ListFilters:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
        for name in self.errors:
            data.pop(name, None)
        return ListFilters(
            tab=data.get("tab", "all"),
            status=data.get("status", ConversationStatus.OPEN),
            channel=data.get("channel"),
            kind=data.get("kind", ""),
            assignee=data.get("assignee"),
            label=data.get("label"),
            unread=data.get("unread", False),
            q=data.get("q", ""),
        )


class ReplyForm(forms.Form):
    """A reply: a text, or a file with an optional caption (the text). What the channel
    takes is the reply service's to decide."""

    text = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        strip=False,
        required=False,
    )
    mode = forms.ChoiceField(choices=SendMode.choices, required=False, label=_("Send as"))
    file = forms.FileField(required=False, label=_("Attach an image or document"))


class TemplateForm(forms.Form):
    template = forms.ModelChoiceField(queryset=MessageTemplate.objects.none(), label=_("Template"))
    parameters = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, channel, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = channel.templates.filter(
            status=TemplateStatus.APPROVED
        ).order_by("name", "language")

    def parameter_values(self) -> list[str]:
        """Placeholder values, one field per placeholder (`p1`, `p2`, …)."""
        values = []
        for number in range(1, 11):
            value = self.data.get(f"p{number}")
            if value is None:
                break
            values.append(str(value))
        return values


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        coerce=int, required=False, label=_("Assignee"), widget=QuickSelect
    )

    def __init__(self, *args, members, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody"))] + [
            (member.user_id, member.user.get_full_name()) for member in members
        ]

    def assignee_user(self, members: list[Membership]) -> User | None:
        wanted = self.cleaned_data.get("assignee")
        return next((m.user for m in members if m.user_id == wanted), None)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=ConversationStatus.choices, label=_("Status"), widget=QuickSelect
    )
    snoozed_until = forms.DateTimeField(
        required=False,
        label=_("Snooze until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class LabelsForm(forms.Form):
    labels = forms.ModelMultipleChoiceField(
        queryset=Label.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Labels"),
    )

    def __init__(self, *args, labels, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["labels"].queryset = labels


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["custom_name", "email", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["name", "colour"]


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["shortcut", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"text": _("{first_name} becomes the customer's first name.")}


class BridgeModeForm(forms.Form):
    bridge_mode = forms.BooleanField(
        label=_("Bridge mode"),
        required=False,
        help_text=_(
            "Remove each message's text and files from Padu once every endpoint has "
            "acknowledged it."
        ),
    )


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where your system receives events: an https address on the internet."),
    )
    description = forms.CharField(label=_("Description"), max_length=100, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Forward events"), required=False, initial=True)
