import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels_meta", "0004_message_template_organization"),
    ]

    operations = [
        migrations.AlterField(
            model_name="messagetemplate",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="message_templates",
                to="accounts.organization",
            ),
        ),
    ]
