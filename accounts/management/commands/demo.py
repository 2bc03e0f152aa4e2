from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Organization

DEMO_EMAIL = "owner@demo.padu.example"
DEMO_PASSWORD = "padu-demo-2026"  # noqa: S105 - printed for the person running the demo
DEMO_ORGANIZATION = "Demo Coffee Co."


class Command(BaseCommand):
    help = "Seed a demo organisation and run the web server, a Celery worker and beat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--seed-only", action="store_true", help="Create the demo data and exit."
        )

    def handle(self, *args, port: int, seed_only: bool, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo does not run with PADU_ENV=production.")
        slug = self._seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"\nPadu demo: open http://127.0.0.1:{port}/o/{slug}/\n"
                f"Sign in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}\n"
                "Press Ctrl-C to stop.\n"
            )
        )
        if not seed_only:
            self._run(port)

    def _seed(self) -> str:
        owner = services.user_get_or_create(email=DEMO_EMAIL, password=DEMO_PASSWORD)
        if not owner.full_name:
            owner.full_name = "Demo Owner"
            owner.save(update_fields=["full_name"])
        organization = Organization.objects.filter(memberships__user=owner).first()
        if organization is None:
            organization = services.organization_create(name=DEMO_ORGANIZATION, owner=owner)
        return organization.slug

    def _run(self, port: int) -> None:
        python = sys.executable
        commands = [
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            [python, "-m", "celery", "-A", "padu", "worker", "--loglevel=INFO", "--concurrency=2"],
            [python, "-m", "celery", "-A", "padu", "beat", "--loglevel=INFO"],
        ]
        processes = [subprocess.Popen(command) for command in commands]  # noqa: S603
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
