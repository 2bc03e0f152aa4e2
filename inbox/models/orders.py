"""Customers' orders, kept for the business's books."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from channels_meta.models import Channel
from inbox.models.contacts import Contact


class OrderRecord(models.Model):
    """An order a customer placed from the business's catalogue (WhatsApp), kept after
    its conversation goes: what was ordered and when, and who ordered it until the
    record is anonymized (the customer's erasure, or once the organisation's years for
    order records have passed)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, related_name="+")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, related_name="order_records"
    )
    customer_id = models.CharField(_("customer id at Meta"), max_length=160, blank=True)
    customer_name = models.CharField(_("customer's name"), max_length=200, blank=True)
    message_external_id = models.CharField(
        _("order message id at Meta"), max_length=200, blank=True
    )
    ordered_at = models.DateTimeField(_("ordered at"))
    catalog_id = models.CharField(_("catalogue"), max_length=100, blank=True)
    items = models.JSONField(
        _("items"), default=list, help_text=_("Product id, quantity, unit price, currency.")
    )
    anonymized_at = models.DateTimeField(_("anonymized at"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("order record")
        verbose_name_plural = _("order records")
        indexes = [
            models.Index(fields=["organization", "ordered_at"], name="order_record_org_ordered")
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} of {self.ordered_at:%Y-%m-%d}"
