from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from channels_meta import oauth
from channels_meta.connected import ChannelError
from channels_meta.models import ChannelKind
from channels_meta.services import channels


class Command(BaseCommand):
    help = (
        "Connect a channel with a token you already have (a system-user token, usually); "
        "the token is checked with Meta before it is saved."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--kind", required=True, choices=ChannelKind.values)
        parser.add_argument(
            "--external-id",
            required=True,
            help="Page id, Instagram account id or WhatsApp phone number id.",
        )
        parser.add_argument("--waba-id", default="", help="WhatsApp Business Account id.")
        parser.add_argument("--token", required=True)
        parser.add_argument("--name", default="", help="A name to show instead of Meta's.")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        if options["kind"] == ChannelKind.WHATSAPP and not options["waba_id"]:
            raise CommandError("A WhatsApp channel needs --waba-id.")
        try:
            account = oauth.account_from_token(
                kind=options["kind"],
                external_id=options["external_id"],
                waba_id=options["waba_id"],
                token=options["token"],
            )
            if options["name"]:
                account.name = options["name"]
            connection = channels.channels_connect(
                organization=organization, accounts=[account], connected_by=None
            )
        except ChannelError as error:
            raise CommandError(str(error)) from error
        (channel,) = connection.channels
        for problem in connection.problems:
            self.stderr.write(problem)
        self.stdout.write(f"Connected {channel} (channel {channel.pk}) to {organization.slug}.")
