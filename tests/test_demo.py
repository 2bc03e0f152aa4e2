"""The demo command: one process stopping stops the demo, visibly; Ctrl-C stops it
cleanly; a restart keeps the owner's password; the demo organisation gets its channels
through the simulator's login dialog and a system-user token, as a person would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from io import StringIO

import httpx
import pytest
from django.core.management import call_command

from accounts.models import User
from channels_meta.graph import client as graph_client
from channels_meta.models import Channel, ChannelStatus, MessageTemplate, TemplateStatus
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.state import SimulatorState
from inbox.models import Label, SavedReply
from padu import demo
from padu.management.commands.demo import (
    DEMO_APP,
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
from padu.management.commands.demo import Supervisor
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


@pytest.fixture
def demo_simulator(settings):
    """The simulator with the demo's businesses, where Meta and its dialogs would be."""
    for name, value in DEMO_APP.items():
        setattr(settings, name, value)
    state = SimulatorState(app_id=DEMO_APP["META_APP_ID"], app_secret=DEMO_APP["META_APP_SECRET"])
    state.load(demo.BUSINESSES)
    transport = httpx.WSGITransport(app=MetaSimulator(state))
    graph_client.use_transport(transport)
    with httpx.Client(transport=transport, base_url="http://127.0.0.1:8900") as dialog:
        yield state, dialog
    graph_client.use_transport(None)


@pytest.mark.django_db
def test_the_demo_organisation_gets_a_page_its_instagram_account_and_a_number(demo_simulator):
    state, dialog = demo_simulator
    membership = demo.organization_seed()

    connected = demo.channels_connect(membership=membership, dialog=dialog)

    channels = {c.kind: c for c in Channel.objects.for_org(membership.organization)}
    assert sorted(channels) == ["instagram", "messenger", "whatsapp"]
    assert {c.status for c in channels.values()} == {ChannelStatus.ACTIVE}
    assert channels["messenger"].meta_user_id  # through Facebook Login
    assert channels["instagram"].page_id == demo.PAGE_ID
    assert {demo.PAGE_ID, demo.WABA_ID} <= set(state.subscriptions)
    approved = MessageTemplate.objects.filter(
        channel=channels["whatsapp"], status=TemplateStatus.APPROVED
    )
    assert connected.templates == 3
    assert approved.count() == 2
    assert Label.objects.for_org(membership.organization).count() == 3
    assert SavedReply.objects.for_org(membership.organization).count() == 3


@pytest.mark.django_db
def test_starting_the_demo_again_connects_nothing_twice(demo_simulator):
    _state, dialog = demo_simulator
    membership = demo.organization_seed()
    demo.channels_connect(membership=membership, dialog=dialog)

    again = demo.channels_connect(membership=demo.organization_seed(), dialog=dialog)

    assert again.channels == []
    assert Channel.objects.count() == 3
    assert Label.objects.count() == 3
