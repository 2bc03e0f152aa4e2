import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Templates carry their organisation, like every tenant-owned row: added empty,
    then filled in from each template's channel. 0005 makes it required (in a
    transaction of its own: PostgreSQL will not alter a table with updates pending
    their foreign-key checks)."""

    dependencies = [
        ("accounts", "0001_initial"),
        ("channels_meta", "0003_webhook_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="messagetemplate",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="message_templates",
                to="accounts.organization",
            ),
        ),
        migrations.RunSQL(
            sql="""
                UPDATE channels_meta_messagetemplate
                SET organization_id = (
                    SELECT organization_id FROM channels_meta_channel
                    WHERE channels_meta_channel.id = channels_meta_messagetemplate.channel_id
                )
                WHERE organization_id IS NULL
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
