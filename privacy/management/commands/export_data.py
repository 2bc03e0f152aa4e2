from __future__ import annotations

from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from accounts.selectors import user_for_email
from privacy import exports


class Command(BaseCommand):
    help = (
        "Export everything an organisation holds (--org SLUG), or everything Padu keeps "
        "about one user (--user EMAIL), as a ZIP of JSON files with a manifest."
    )

    def add_arguments(self, parser) -> None:
        subject = parser.add_mutually_exclusive_group(required=True)
        subject.add_argument("--org", help="The organisation's slug.")
        subject.add_argument("--user", help="The user's e-mail address.")
        parser.add_argument("--output", required=True, help="The ZIP file to write.")

    def handle(self, *args, org: str | None, user: str | None, output: str, **options) -> None:
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organisation has the slug {org!r}.")
            write = partial(exports.organization_export, organization)
        else:
            account = user_for_email(user)
            if account is None:
                raise CommandError("No account has that e-mail address.")
            write = partial(exports.user_export, account)
        path = Path(output)
        try:
            with path.open("wb") as out:
                manifest = write(out)
        except OSError as error:
            if path.is_file():
                path.unlink()  # half an export is no export
            raise CommandError(f"The export could not be written: {error.strerror}.") from error
        rows = sum(manifest["files"].values())
        self.stdout.write(
            f"{output}: {rows} rows in {len(manifest['files'])} files, "
            f"{manifest['stored_files']} stored files"
        )
        if manifest["missing_files"]:
            self.stderr.write(
                f"{len(manifest['missing_files'])} stored files were missing (listed in "
                "manifest.json)."
            )
