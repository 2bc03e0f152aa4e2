from django.db import migrations
from django.db.models import OuterRef, Subquery


def organization_from_channel(apps, schema_editor):
    # A receipt belongs to the organisation of the channel Meta reported it on.
    PendingReceipt = apps.get_model("inbox", "PendingReceipt")
    Channel = apps.get_model("channels_meta", "Channel")
    PendingReceipt.objects.update(
        organization_id=Subquery(
            Channel.objects.filter(pk=OuterRef("channel_id")).values("organization_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0002_pendingreceipt_organization"),
    ]

    operations = [
        migrations.RunPython(organization_from_channel, migrations.RunPython.noop),
    ]
