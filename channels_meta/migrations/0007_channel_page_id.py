from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels_meta", "0006_channel_health"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="page_id",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The Page an Instagram account is linked to: its webhooks come through "
                    "the Page's subscription."
                ),
                max_length=64,
                verbose_name="Facebook Page id",
            ),
        ),
    ]
