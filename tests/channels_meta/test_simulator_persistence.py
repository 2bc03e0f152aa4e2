"""A simulator saved to its state file and started again is the same Meta: connected
channels stay connected."""

from __future__ import annotations

import json

import pytest

from channels_meta.models import Channel, ChannelKind
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.persistence import StateFile
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.traffic import Traffic
from tests.channels_meta.conftest import APP_ID, APP_SECRET
from tests.channels_meta.test_connect import connect

pytestmark = pytest.mark.django_db


def restarted(path, seed=7) -> SimulatorState:
    state = SimulatorState(app_id=APP_ID, app_secret=APP_SECRET, seed=seed)
    assert StateFile(path, state).load()
    return state


def test_a_connected_channels_token_and_subscription_survive_a_restart(
    client, world, meta, tmp_path
):
    client.force_login(world.owner.user)
    connect(client, meta, world.org, "facebook")
    page = Channel.objects.get(kind=ChannelKind.MESSENGER, name="Kahve Evi")
    path = tmp_path / "simulator-state.json"
    assets = meta.state.describe()

    StateFile(path, meta.state).save()
    state = restarted(path)

    assert state.token_problem(page.get_token()) is None
    assert state.subscriptions[page.external_id] == meta.state.subscriptions[page.external_id]
    assert state.describe() == assets


def test_what_the_simulator_remembers_survives_a_restart(meta, tmp_path):
    account = meta.assets["instagram_accounts"][0]
    comment = meta.http.post(
        "/_sim/comment", json={"instagram_id": account["id"], "text": "Price?"}
    ).json()
    meta.state.comments[comment["comment_id"]].private_replied = True
    written = meta.customer_writes(
        kind="instagram", business_id=account["id"], text="hi", name="Sara Ahmadi"
    )
    meta.http.post("/_sim/expire_token", json={"token": account["system_token"]})
    path = tmp_path / "simulator-state.json"

    StateFile(path, meta.state).save()
    state = restarted(path)

    assert state.comments[comment["comment_id"]].private_replied
    assert (account["id"], written["customer_id"]) in state.last_inbound
    assert state.profiles[written["customer_id"]].name == "Sara Ahmadi"
    assert state.token_problem(account["system_token"])[0] == 463
    assert state.phone_numbers == meta.state.phone_numbers
    assert state.wabas == meta.state.wabas


def test_ids_made_after_a_restart_are_not_the_ones_made_before_it(tmp_path):
    path = tmp_path / "simulator-state.json"
    before = SimulatorState(app_id=APP_ID, app_secret=APP_SECRET, seed=7)
    before.seed_default()
    StateFile(path, before).save()
    # Made after the last save, then the simulator crashed: the restart must not repeat them.
    lost = {before.new_id() for _ in range(100)} | {before.new_token("user", "1").value}

    after = restarted(path)

    made = {after.new_id() for _ in range(100)} | {after.new_token("user", "1").value}
    assert not lost & made


def test_the_same_customers_keep_writing_after_a_restart(tmp_path):
    path = tmp_path / "simulator-state.json"
    state = SimulatorState(app_id=APP_ID, app_secret=APP_SECRET, seed=7)
    state.seed_default()
    first = Traffic(MetaSimulator(state), customers=6, rate=1).regulars
    StateFile(path, state).save()

    again = Traffic(MetaSimulator(restarted(path)), customers=6, rate=1).regulars

    assert again == first


def test_the_file_is_rewritten_only_when_something_changed(meta, tmp_path):
    path = tmp_path / "simulator-state.json"
    state_file = StateFile(path, meta.state)

    assert state_file.save()
    assert not state_file.save()
    meta.state.system_token_for("new-asset")
    assert state_file.save()
    assert json.loads(path.read_text())["format"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["simulator-state.json"]
