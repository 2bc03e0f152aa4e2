from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import onboarding, services
from accounts.models import Organization, User

DEMO_EMAIL = "owner@demo.padu.example"
DEMO_PASSWORD = "padu-demo-2026"  # noqa: S105 - printed for the person running the demo
DEMO_ORGANIZATION = "Demo Coffee Co."
SIMULATOR_PORT = 8900
# The demo plays a Meta app against the simulator; these are not secrets of any real app.
DEMO_APP = {
    "META_APP_ID": "100000000000001",
    "META_APP_SECRET": "padu-demo-app-secret",
    "META_VERIFY_TOKEN": "padu-demo-verify-token",
}


class Command(BaseCommand):
    help = (
        "Seed a demo organisation and run the web server, a Celery worker, beat, and the "
        "Meta simulator standing in for Meta."
    )

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
                f"The Meta simulator stands in for Meta at http://127.0.0.1:{SIMULATOR_PORT}/ "
                "(its businesses and tokens: /_sim/state)\n"
                "Press Ctrl-C to stop.\n"
            )
        )
        if not seed_only:
            self._run(port)

    def _seed(self) -> str:
        # The password is set once: restarting the demo signs nobody out.
        owner = User.objects.with_email(DEMO_EMAIL).first() or onboarding.user_create_by_operator(
            email=DEMO_EMAIL, password=DEMO_PASSWORD
        )
        if not owner.full_name:
            owner.full_name = "Demo Owner"
            owner.save(update_fields=["full_name"])
        organization = Organization.objects.filter(memberships__user=owner).first()
        if organization is None:
            organization = services.organization_create(name=DEMO_ORGANIZATION, owner=owner)
        return organization.slug

    def _run(self, port: int) -> None:
        python = sys.executable
        simulator = f"http://127.0.0.1:{SIMULATOR_PORT}"
        environment = {
            **os.environ,
            **DEMO_APP,
            "SITE_URL": f"http://127.0.0.1:{port}",
            "META_GRAPH_URL": simulator,
            "META_INSTAGRAM_GRAPH_URL": simulator,
            "META_INSTAGRAM_API_URL": simulator,
            "META_DIALOG_URL": simulator,
            "META_INSTAGRAM_AUTHORIZE_URL": f"{simulator}/oauth/authorize",
        }
        commands = [
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            [python, "-m", "celery", "-A", "padu", "worker", "--loglevel=INFO", "--concurrency=2"],
            [python, "-m", "celery", "-A", "padu", "beat", "--loglevel=INFO"],
            [
                python,
                "manage.py",
                "meta_simulator",
                "--port",
                str(SIMULATOR_PORT),
                "--target",
                f"http://127.0.0.1:{port}/webhooks/meta/",
                "--seed",
                "1",
                # Live customer traffic, with a few duplicated and reordered webhooks.
                "--rate",
                "0.5",
                "--customers",
                "12",
                "--duplicates",
                "0.05",
                "--reorder",
                "0.1",
            ],
        ]
        processes = [
            subprocess.Popen(command, env=environment)  # noqa: S603
            for command in commands
        ]
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
