"""The embedded broker (padu/broker.py): messages cross processes whole, once, and a
consumer that dies gives its messages back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kombu import Connection

from padu import broker

ROOT = Path(__file__).resolve().parent.parent
TRANSPORTS = {"kombu": "filesystem", "padu": "padu.broker:Transport"}

# One side of a conversation through a file-system broker in `folder`:
#   publish COUNT SIZE   put COUNT messages of SIZE bytes
#   consume COUNT        take and acknowledge COUNT messages, checking each is whole
#   take                 take one message, then die without acknowledging it
PEER = """
import os, sys, time
from kombu import Connection
role, transport, folder, *numbers = sys.argv[1:]
options = {name: os.path.join(folder, name) for name in ("queue", "control", "processing")}
for path in options.values():
    os.makedirs(path, exist_ok=True)
options = {"data_folder_in": options["queue"], "data_folder_out": options["queue"],
           "control_folder": options["control"], "processing_folder": options["processing"],
           "polling_interval": 0}
with Connection("filesystem://", transport=transport, transport_options=options) as connection:
    queue = connection.SimpleQueue("race")
    if role == "publish":
        count, size = int(numbers[0]), int(numbers[1])
        for number in range(count):
            if os.path.exists(os.path.join(folder, "stop")):
                break
            queue.put({"number": number, "body": "x" * size})
    elif role == "consume":
        count, seen = int(numbers[0]), 0
        deadline = time.monotonic() + 60
        try:
            while seen < count and time.monotonic() < deadline:
                try:
                    message = queue.get(block=True, timeout=0.001)
                except queue.Empty:
                    continue
                assert len(message.payload["body"]) == int(numbers[1]), "a part of a message"
                message.ack()
                seen += 1
        finally:
            open(os.path.join(folder, "stop"), "w").close()
        print(seen)
    else:
        message = queue.get(block=True, timeout=10)
        print(message.payload["number"], flush=True)
        os._exit(9)
"""


def peer(transport: str, folder: Path, role: str, *numbers: int) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", PEER, role, TRANSPORTS[transport], str(folder), *map(str, numbers)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def connection(folder: Path) -> Connection:
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "processing_folder": str(folder / "processing"),
        "polling_interval": 0,
    }
    for path in ("queue", "control", "processing"):
        (folder / path).mkdir(exist_ok=True)
    return Connection("filesystem://", transport=TRANSPORTS["padu"], transport_options=options)


@pytest.mark.parametrize(("transport", "whole"), [("kombu", False), ("padu", True)])
def test_a_consumer_polling_while_large_messages_are_published_reads_only_whole_ones(
    tmp_path, transport, whole
):
    # kombu's own transport creates the file, then locks and writes it; a consumer that
    # polls meanwhile reads it empty or half written and dies on a JSONDecodeError.
    count, size = 60, 4 * 1024 * 1024
    consumer = peer(transport, tmp_path, "consume", count, size)
    publisher = peer(transport, tmp_path, "publish", count, size)
    publisher.communicate(timeout=120)
    output, errors = consumer.communicate(timeout=120)

    if whole:
        assert consumer.returncode == 0, errors
        assert output.split() == [str(count)]
    else:
        assert consumer.returncode != 0
        assert "JSONDecodeError" in errors or "a part of a message" in errors


def test_a_message_taken_by_a_consumer_that_dies_goes_back_to_the_queue(tmp_path):
    with connection(tmp_path) as publishing:
        queue = publishing.SimpleQueue("race")
        queue.put({"number": 1, "body": ""})
        queue.put({"number": 2, "body": ""})

    dying = peer("padu", tmp_path, "take")
    output, _ = dying.communicate(timeout=60)
    assert dying.returncode == 9
    assert output.split() == ["1"]

    with connection(tmp_path) as consuming:
        queue = consuming.SimpleQueue("race")
        numbers = []
        for _ in range(2):
            message = queue.get(timeout=10)
            numbers.append(message.payload["number"])
            message.ack()
    assert sorted(numbers) == [1, 2]
    assert list((tmp_path / "queue" / "race").iterdir()) == []


def test_an_acknowledged_message_is_gone_and_a_rejected_one_comes_back(tmp_path):
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("work")
        queue.put({"n": 1})
        queue.put({"n": 2})
        first = queue.get(timeout=5)
        first.ack()
        second = queue.get(timeout=5)
        second.requeue()
        again = queue.get(timeout=5)
        again.ack()

        assert (first.payload, again.payload) == ({"n": 1}, {"n": 2})
        assert queue.qsize() == 0
    owners = [path for path in (tmp_path / "processing").iterdir() if path.is_dir()]
    assert [list(folder.iterdir()) for folder in owners] == [[]]


def test_an_unreadable_message_file_is_set_aside_not_fatal(tmp_path):
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("work")
        # What kombu's own transport leaves when it dies between creating and writing.
        (tmp_path / "queue" / "work").mkdir(parents=True, exist_ok=True)
        (tmp_path / "queue" / "work" / "00000000000000000001_dead.work.msg").write_bytes(b"")
        queue.put({"n": 1})

        message = queue.get(timeout=5)
        message.ack()

    assert message.payload == {"n": 1}
    unreadable = tmp_path / "processing" / "unreadable"
    assert [path.name for path in unreadable.iterdir()] == ["00000000000000000001_dead.work.msg"]


def test_messages_left_by_kombus_own_transport_are_still_delivered(tmp_path):
    with Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(tmp_path / "queue"),
            "data_folder_out": str(tmp_path / "queue"),
            "control_folder": str(tmp_path / "control"),
        },
    ) as old:
        for path in ("queue", "control"):
            (tmp_path / path).mkdir()
        old.SimpleQueue("work").put({"n": "old"})

    with connection(tmp_path) as conn:
        message = conn.SimpleQueue("work").get(timeout=5)
        message.ack()

    assert message.payload == {"n": "old"}


def test_bindings_of_an_exchange_survive_concurrent_changes(tmp_path):
    with connection(tmp_path) as conn:
        channel = conn.default_channel
        for number in range(5):
            channel._queue_bind("broadcast", "", "", f"queue-{number}")
        channel._delete("queue-2", "broadcast", "", "")

        queues = sorted(binding.queue for binding in channel.get_table("broadcast"))
    assert queues == ["queue-0", "queue-1", "queue-3", "queue-4"]
    assert json.loads((tmp_path / "control" / "broadcast.exchange").read_text())


def test_a_queue_name_that_is_not_a_folder_name_is_refused():
    with pytest.raises(broker.ChannelError):
        broker.queue_folder("/queues", "../elsewhere")


def test_soak_20000_tasks_with_a_two_process_worker_and_beat_lose_and_repeat_nothing(tmp_path):
    """The embedded default end to end: 20,000 tasks published while beat publishes too,
    a worker with two processes; no task lost, none run twice, no process crashed.
    bench/embedded_broker.py does the work and prints the same figures."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    finished = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "bench/embedded_broker.py",
            "--tasks",
            "20000",
            "--stall",
            "30",
            "--json",
            "--var-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )

    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert (result["lost"], result["duplicated"]) == (0, 0), result
    assert result["worker_alive_until_stopped"], result
    assert result["beat_alive_until_stopped"], result
    assert (result["worker_exit"], result["beat_exit"]) == (0, 0), result
    assert result["log_failures"] == [], result
    assert result["beat_ticks"] > 0
    assert finished.returncode == 0
