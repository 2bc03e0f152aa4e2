import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Trunc

import accounts.validators


def confirm_existing_accounts(apps, schema_editor):
    # Nothing recorded whether older accounts proved their address; they keep working.
    User = apps.get_model("accounts", "User")
    User.objects.filter(email_confirmed_at__isnull=True).update(
        email_confirmed_at=models.F("date_joined")
    )


def move_sign_ins_to_people(apps, schema_editor):
    # A sign-in was copied into every organisation of the person; keep one, on the person.
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    copies = AuditEvent.objects.filter(action="user.signed_in", organization__isnull=False)
    # The copies of one sign-in were made microseconds apart, from the same address.
    kept = copies.values(
        "actor_id", "ip", second=Trunc("created_at", "second", output_field=models.DateTimeField())
    ).annotate(first=models.Min("id"))
    keep_ids = [row["first"] for row in kept]
    AuditEvent.objects.filter(pk__in=keep_ids).update(organization=None)
    copies.exclude(pk__in=keep_ids).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_confirmed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Until then the account opens only the organisations it created.",
                null=True,
                verbose_name="e-mail address confirmed",
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty when platform staff created it.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="full_name",
            field=models.CharField(
                blank=True,
                max_length=150,
                validators=[accounts.validators.validate_single_line],
                verbose_name="full name",
            ),
        ),
        migrations.AlterField(
            model_name="organization",
            name="name",
            field=models.CharField(
                max_length=120,
                validators=[accounts.validators.validate_single_line],
                verbose_name="name",
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "-created_at"], name="audit_event_actor_idx"),
        ),
        migrations.RunPython(confirm_existing_accounts, migrations.RunPython.noop),
        migrations.RunPython(move_sign_ins_to_people, migrations.RunPython.noop),
    ]
