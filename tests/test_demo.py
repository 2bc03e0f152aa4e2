"""The demo command: one process stopping stops the demo, visibly; Ctrl-C stops it
cleanly; a restart keeps the owner's password."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from channels_meta.management.commands.demo import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    Command,
    Supervisor,
)
from tests.workers import ROOT

SLEEPER = [sys.executable, "-c", "import time; print('serving', flush=True); time.sleep(120)"]


def failing(code: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        f"import sys; print('cannot read the queue'); sys.exit({code})",
    ]


def test_a_process_that_stops_stops_the_demo_and_is_named_with_its_last_words():
    out, err = StringIO(), StringIO()
    supervisor = Supervisor({"web": SLEEPER, "worker": failing(3)}, out=out, err=err)

    started = time.monotonic()
    status = supervisor.run()

    assert status == 1
    assert "the worker process stopped by itself (exit code 3)" in err.getvalue()
    assert "    cannot read the queue" in err.getvalue()
    assert "Stopping the other processes." in err.getvalue()
    assert "   worker | cannot read the queue" in out.getvalue()
    web = supervisor.children[0].process
    assert web.returncode == -signal.SIGTERM
    assert time.monotonic() - started < 30


def test_a_process_killed_by_a_signal_is_named_with_the_signal():
    err = StringIO()
    killed = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]

    status = Supervisor({"simulator": killed, "beat": SLEEPER}, out=StringIO(), err=err).run()

    assert status == 1
    assert "the simulator process stopped by itself (killed by SIGKILL)" in err.getvalue()


def test_stopping_the_demo_stops_every_process_and_succeeds():
    supervisor = Supervisor({"web": SLEEPER, "beat": SLEEPER}, out=StringIO(), err=StringIO())
    threading.Timer(1.0, supervisor.stop).start()

    assert supervisor.run() == 0
    assert all(child.process.returncode is not None for child in supervisor.children)


RUN_SUPERVISOR = """
import sys
from channels_meta.management.commands.demo import Supervisor
sleeper = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)"]
sys.exit(Supervisor({"web": sleeper, "worker": sleeper}).run())
"""


def test_ctrl_c_stops_the_demo_cleanly_with_status_0():
    # As a terminal does: SIGINT to the supervisor's whole process group.
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup()\n" + RUN_SUPERVISOR],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "padu.settings", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if len(lines) == 2:
            break
    os.killpg(process.pid, signal.SIGINT)
    _, errors = process.communicate(timeout=60)

    assert process.returncode == 0, errors
    assert "stopped by itself" not in errors


@pytest.mark.django_db
def test_restarting_the_demo_keeps_the_owners_password_and_organisation():
    call_command("demo", "--seed-only", stdout=StringIO())
    owner = User.objects.get(email=DEMO_EMAIL)
    assert owner.check_password(DEMO_PASSWORD)
    assert owner.email_confirmed
    owner.set_password("a password of my own")
    owner.save(update_fields=["password"])

    call_command("demo", "--seed-only", stdout=StringIO())

    owner.refresh_from_db()
    assert owner.check_password("a password of my own")
    assert owner.full_name == "Demo Owner"
    assert owner.memberships.count() == 1


AS_THE_DEMO_WEB_SERVER = """
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
missing = client.get("/no-such-page/")
css = client.get("/static/css/padu.css")
print(settings.DEBUG, missing.status_code, b"<h1>Not found</h1>" in missing.content,
      css.status_code)
"""


def test_the_demo_runs_with_debug_off_and_still_serves_its_static_files(monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    environment = Command()._environment(port=8000, simulator_port=8900)

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", AS_THE_DEMO_WEB_SERVER],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "padu.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "404", "True", "200"]
