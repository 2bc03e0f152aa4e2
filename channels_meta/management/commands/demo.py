from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import onboarding
from accounts.models import Organization, User

DEMO_EMAIL = "owner@demo.padu.example"
DEMO_PASSWORD = "padu-demo-2026"  # noqa: S105 - printed for the person running the demo
DEMO_ORGANIZATION = "Demo Coffee Co."
DEFAULT_SIMULATOR_PORT = 8900
# The demo plays a Meta app against the simulator; these are not secrets of any real app.
DEMO_APP = {
    "META_APP_ID": "100000000000001",
    "META_APP_SECRET": "padu-demo-app-secret",
    "META_VERIFY_TOKEN": "padu-demo-verify-token",
    "META_INSTAGRAM_APP_ID": "100000000000002",
    "META_INSTAGRAM_APP_SECRET": "padu-demo-instagram-app-secret",
}
TAIL_LINES = 15


def describe_exit(returncode: int) -> str:
    """How a process ended, as Popen reports it (a negative code is a signal)."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    reader: threading.Thread | None = None


class Supervisor:
    """Runs the demo's processes as one: their output goes to `out`, each line marked
    with the process's name. When one stops by itself, `run` says on `err` which one and
    why (exit code or signal, and its last lines), stops the others and returns 1; when
    asked to stop (Ctrl-C, `stop()`), it stops them all and returns 0."""

    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        env: dict[str, str] | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        grace_seconds: float = 15.0,
    ) -> None:
        self.commands = commands
        self.env = env
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.grace_seconds = grace_seconds
        self.children: list[Child] = []
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> int:
        try:
            for name, command in self.commands.items():
                self.children.append(self._start(name, command))
            while not self._stopping.is_set():
                for child in self.children:
                    if child.process.poll() is not None:
                        self._report(child)
                        return 1
                self._stopping.wait(0.2)
            return 0
        except KeyboardInterrupt:
            return 0
        finally:
            self._stop_all()

    def _start(self, name: str, command: list[str]) -> Child:
        process = subprocess.Popen(  # noqa: S603
            command,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Its own process group: Ctrl-C in the terminal reaches the supervisor only,
            # which then stops every process in order.
            process_group=0,
        )
        child = Child(name=name, process=process)
        child.reader = threading.Thread(target=self._forward, args=(child,), daemon=True)
        child.reader.start()
        return child

    def _forward(self, child: Child) -> None:
        for line in child.process.stdout:
            line = line.rstrip("\n")
            child.tail.append(line)
            with self._write_lock:
                self.out.write(f"{child.name:>9} | {line}\n")
                self.out.flush()

    def _report(self, child: Child) -> None:
        if child.reader is not None:
            child.reader.join(timeout=2)
        lines = [
            f"\nPadu demo: the {child.name} process stopped by itself "
            f"({describe_exit(child.process.returncode)}).",
        ]
        if child.tail:
            lines.append("Its last lines:")
            lines.extend(f"    {line}" for line in child.tail)
        lines.append("Stopping the other processes.")
        with self._write_lock:
            self.err.write("\n".join(lines) + "\n")
            self.err.flush()

    def _stop_all(self) -> None:
        running = [child for child in self.children if child.process.poll() is None]
        for child in running:
            child.process.terminate()
        for child in running:
            try:
                child.process.wait(timeout=self.grace_seconds)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        for child in self.children:
            if child.reader is not None:
                child.reader.join(timeout=2)


class Command(BaseCommand):
    help = (
        "Seed a demo organisation and run the web server, a Celery worker, beat, and the "
        "Meta simulator standing in for Meta. If one of them stops, the demo stops too."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--simulator-port",
            type=int,
            default=int(os.environ.get("SIMULATOR_PORT") or DEFAULT_SIMULATOR_PORT),
            help="Port of the Meta simulator (default: SIMULATOR_PORT, else 8900).",
        )
        parser.add_argument(
            "--seed-only", action="store_true", help="Create the demo data and exit."
        )

    def handle(self, *args, port: int, simulator_port: int, seed_only: bool, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo does not run with PADU_ENV=production.")
        slug = self._seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"\nPadu demo: open http://127.0.0.1:{port}/o/{slug}/ "
                f"(or http://localhost:{port}/o/{slug}/)\n"
                f"Sign in as {DEMO_EMAIL} with the password {DEMO_PASSWORD} "
                "(unless you changed it)\n"
                f"The Meta simulator stands in for Meta at http://127.0.0.1:{simulator_port}/ "
                "(its businesses and tokens: /_sim/state)\n"
                "Press Ctrl-C to stop.\n"
            )
        )
        if seed_only:
            return
        supervisor = Supervisor(
            self._commands(port, simulator_port), env=self._environment(port, simulator_port)
        )
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda *_: supervisor.stop())
        if supervisor.run() != 0:
            raise CommandError("The demo stopped because one of its processes did (see above).")

    def _seed(self) -> str:
        """The demo organisation and its owner, made on the first run only: the owner's
        password is set when the account is created and never again."""
        owner = User.objects.with_email(DEMO_EMAIL).first()
        organization = (
            Organization.objects.filter(memberships__user=owner).first() if owner else None
        )
        if organization is None:
            organization, provisioned = onboarding.organization_create_by_operator(
                name=DEMO_ORGANIZATION, owner_email=DEMO_EMAIL, password=DEMO_PASSWORD
            )
            owner = provisioned.user
        if owner is not None and not owner.full_name:
            owner.full_name = "Demo Owner"
            onboarding.user_update_profile(user=owner, changed_fields=["full_name"])
        return organization.slug

    def _environment(self, port: int, simulator_port: int) -> dict[str, str]:
        simulator = f"http://127.0.0.1:{simulator_port}"
        return {
            **os.environ,
            **DEMO_APP,
            # Lines appear as they are written, so a process's last words are not lost.
            "PYTHONUNBUFFERED": "1",
            # What a newcomer sees is Padu's own pages, its 404 and 500 included, not
            # Django's debug pages (WhiteNoise still serves the static files);
            # DEBUG=true make run brings the debug pages back.
            "DEBUG": os.environ.get("DEBUG", "false"),
            "SITE_URL": f"http://127.0.0.1:{port}",
            "META_GRAPH_URL": simulator,
            "META_INSTAGRAM_GRAPH_URL": simulator,
            "META_INSTAGRAM_API_URL": simulator,
            "META_DIALOG_URL": simulator,
            "META_INSTAGRAM_AUTHORIZE_URL": f"{simulator}/oauth/authorize",
            # Customers' media comes from the simulator's own address.
            "META_MEDIA_HOSTS": simulator,
        }

    def _commands(self, port: int, simulator_port: int) -> dict[str, list[str]]:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "padu"]
        return {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [*celery, "beat", "--loglevel=INFO"],
            "simulator": [
                python,
                "manage.py",
                "meta_simulator",
                "--port",
                str(simulator_port),
                "--target",
                f"http://127.0.0.1:{port}/webhooks/meta/",
                # Businesses, tokens and subscriptions outlive a restart, so connected
                # channels stay connected.
                "--state-file",
                str(settings.VAR_DIR / "simulator-state.json"),
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
        }
