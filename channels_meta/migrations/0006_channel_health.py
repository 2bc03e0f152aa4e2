from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels_meta", "0005_message_template_organization_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="account_restrictions",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Meta's restriction_info: type, expiry and remediation of each.",
                verbose_name="account restrictions",
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="account_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not reported"),
                    ("good", "In good standing"),
                    ("violation", "Policy violation reported"),
                    ("restricted", "Restricted"),
                    ("scheduled_for_disable", "Scheduled to be disabled"),
                    ("disabled", "Disabled by Meta"),
                    ("deleted", "Deleted"),
                    ("removed", "No longer shared with Padu"),
                    ("offboarded", "Disconnected after a device change"),
                ],
                max_length=24,
                verbose_name="account standing",
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="account_status_detail",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="account standing detail"
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="display_name_rejection",
            field=models.CharField(
                blank=True, max_length=64, verbose_name="display name rejection reason"
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="display_name_requested",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="requested display name"
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="display_name_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not reported"),
                    ("APPROVED", "Approved"),
                    ("PENDING", "Pending review"),
                    ("DEFERRED", "Review deferred"),
                    ("REJECTED", "Rejected"),
                ],
                max_length=10,
                verbose_name="display name review",
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="health_updated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="health last reported"),
        ),
        migrations.AddField(
            model_name="channel",
            name="messaging_limit",
            field=models.CharField(blank=True, max_length=32, verbose_name="messaging limit"),
        ),
        migrations.AddField(
            model_name="channel",
            name="quality_rating",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not rated yet"),
                    ("GREEN", "High"),
                    ("YELLOW", "Medium"),
                    ("RED", "Low"),
                ],
                max_length=8,
                verbose_name="quality rating",
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="sending_blocked_until",
            field=models.DateTimeField(
                blank=True,
                help_text="Meta temporarily blocked this account for a policy reason (error 368).",
                null=True,
                verbose_name="sending blocked by Meta until",
            ),
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="category_change_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="category changes on"),
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="category_change_to",
            field=models.CharField(
                blank=True, max_length=32, verbose_name="category Meta will change it to"
            ),
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="quality_score",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not rated yet"),
                    ("GREEN", "High"),
                    ("YELLOW", "Medium"),
                    ("RED", "Low"),
                ],
                max_length=8,
                verbose_name="quality",
            ),
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="status_reason",
            field=models.CharField(
                blank=True,
                help_text="Why Meta gave the template its status (rejection, pause, disabling).",
                max_length=500,
                verbose_name="Meta's reason",
            ),
        ),
        migrations.AlterField(
            model_name="messagetemplate",
            name="status",
            field=models.CharField(
                choices=[
                    ("APPROVED", "Approved"),
                    ("PENDING", "Pending review"),
                    ("REJECTED", "Rejected"),
                    ("PAUSED", "Paused"),
                    ("DISABLED", "Disabled"),
                    ("FLAGGED", "Flagged: at risk of being disabled"),
                    ("IN_APPEAL", "In appeal"),
                    ("ARCHIVED", "Archived"),
                    ("PENDING_DELETION", "Being deleted"),
                    ("DELETED", "Deleted"),
                    ("LIMIT_EXCEEDED", "Over the account's template limit"),
                ],
                max_length=20,
                verbose_name="status",
            ),
        ),
    ]
