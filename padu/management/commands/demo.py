"""`make run`: the demo organisation, and Padu's processes with the Meta simulator
playing customers, run as one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from accounts.models import Membership
from channels_meta.connected import ChannelError
from channels_meta.graph.errors import GraphError
from padu import demo
from padu.demo import DEMO_EMAIL, DEMO_PASSWORD

DEFAULT_SIMULATOR_PORT = 8900
SIMULATOR_START_SECONDS = 60
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

    def say(self, name: str, line: str) -> None:
        """A line of the demo's own, marked with `name`, between the processes' lines."""
        with self._write_lock:
            self.out.write(f"{name:>9} | {line}\n")
            self.out.flush()

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
            self.say(child.name, line)

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
        "Meta simulator standing in for Meta, with its Page, Instagram account and "
        "WhatsApp number connected and customers writing. If one process stops, the demo "
        "stops too."
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
        membership = demo.organization_seed()
        slug = membership.organization.slug
        self.stdout.write(
            self.style.SUCCESS(
                f"\nPadu demo: open http://127.0.0.1:{port}/o/{slug}/inbox/ "
                f"(or http://localhost:{port}/o/{slug}/inbox/)\n"
                f"Sign in as {DEMO_EMAIL} with the password {DEMO_PASSWORD} "
                "(unless you changed it)\n"
                f"The Meta simulator stands in for Meta at http://127.0.0.1:{simulator_port}/ "
                "(its businesses and tokens: /_sim/state)\n"
                "Press Ctrl-C to stop.\n"
            )
        )
        if seed_only:
            return
        meta = self._meta_settings(port, simulator_port)
        # This process connects the demo's channels: it talks to the simulator too.
        for name, value in meta.items():
            setattr(settings, name, value)
        businesses = settings.VAR_DIR / "demo-businesses.json"
        businesses.parent.mkdir(parents=True, exist_ok=True)
        businesses.write_text(json.dumps(demo.BUSINESSES, indent=2))
        supervisor = Supervisor(
            self._commands(port, simulator_port, businesses),
            env=self._environment(port, simulator_port),
        )
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda *_: supervisor.stop())
        threading.Thread(
            target=self._connect_channels,
            args=(supervisor, membership, f"http://127.0.0.1:{simulator_port}"),
            daemon=True,
        ).start()
        if supervisor.run() != 0:
            raise CommandError("The demo stopped because one of its processes did (see above).")

    def _connect_channels(
        self, supervisor: Supervisor, membership: Membership, simulator: str
    ) -> None:
        """Once the simulator answers, connect the demo's channels (on the first run, or
        when they are no longer active) and say what was done."""
        try:
            with httpx.Client(base_url=simulator, timeout=10.0) as dialog:
                deadline = time.monotonic() + SIMULATOR_START_SECONDS
                while True:
                    try:
                        dialog.get("/")
                        break
                    except httpx.TransportError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.3)
                connected = demo.channels_connect(membership=membership, dialog=dialog)
        except (ChannelError, GraphError, httpx.HTTPError) as error:
            supervisor.say(
                "demo",
                f"Could not connect the demo's channels ({error}); connect them on the "
                "Channels page.",
            )
            return
        finally:
            connections.close_all()
        if not connected.channels:
            supervisor.say("demo", "The demo's Page, Instagram account and number are connected.")
        for channel in connected.channels:
            supervisor.say("demo", f"Connected {channel.get_kind_display()} {channel.name}.")
        for problem in connected.problems:
            supervisor.say("demo", problem)
        if connected.templates:
            supervisor.say("demo", f"Synced {connected.templates} WhatsApp templates.")

    def _meta_settings(self, port: int, simulator_port: int) -> dict[str, str]:
        """The Meta app and hosts the demo plays against the simulator."""
        simulator = f"http://127.0.0.1:{simulator_port}"
        return {
            **DEMO_APP,
            "SITE_URL": f"http://127.0.0.1:{port}",
            "META_GRAPH_URL": simulator,
            "META_INSTAGRAM_GRAPH_URL": simulator,
            "META_INSTAGRAM_API_URL": simulator,
            "META_DIALOG_URL": simulator,
            "META_INSTAGRAM_AUTHORIZE_URL": f"{simulator}/oauth/authorize",
        }

    def _environment(self, port: int, simulator_port: int) -> dict[str, str]:
        return {
            **os.environ,
            **self._meta_settings(port, simulator_port),
            # Lines appear as they are written, so a process's last words are not lost.
            "PYTHONUNBUFFERED": "1",
            # What a newcomer sees is Padu's own pages, its 404 and 500 included, not
            # Django's debug pages (WhiteNoise still serves the static files);
            # DEBUG=true make run brings the debug pages back.
            "DEBUG": os.environ.get("DEBUG", "false"),
            # Customers' media comes from the simulator's own address.
            "META_MEDIA_HOSTS": f"http://127.0.0.1:{simulator_port}",
        }

    def _commands(self, port: int, simulator_port: int, businesses: Path) -> dict[str, list[str]]:
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
                # channels stay connected; the demo's businesses are made on the first run.
                "--state-file",
                str(settings.VAR_DIR / "demo-simulator-state.json"),
                "--state",
                str(businesses),
                "--seed",
                "1",
                # Customers of the connected businesses (six each, so that the opening
                # has a customer of its own for each of its WhatsApp messages): an
                # opening burst of a dozen messages, then a few a minute; half of them
                # answer a reply, which is delivered and then read a moment after it is
                # sent.
                "--customers",
                "36",
                "--subscribed-only",
                "--opening",
                "13",
                "--rate",
                "0.05",
                "--answers",
                "0.5",
                "--receipt-delay",
                "1.5",
                # A few duplicated and reordered webhooks, as Meta sends them.
                "--duplicates",
                "0.05",
                "--reorder",
                "0.1",
            ],
        }
