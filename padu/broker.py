"""The embedded Celery broker: queues kept as files under var/, safe between processes.

kombu's file-system transport creates a message's file before it locks and writes it,
and its readers do not lock, so a worker can read half a message and die on a
JSONDecodeError; a reader also moves the file it takes to the temporary folder, which is
a copy when that folder is on another file system. This transport keeps kombu's file
per message, named so that the oldest sorts first, and changes how files move:

- a publisher writes a message into its own folder and renames it into the queue, so a
  message is in the queue whole or not at all;
- a consumer takes a message by renaming it into its own folder (of two consumers one
  rename wins), and deletes it when the task is acknowledged; a rejected or unfinished
  message goes back to the queue;
- every process holds a lock on its folder while it lives. A consumer that finds the
  folder of a process that is gone puts the messages it had taken back in the queue, so
  a worker killed in the middle of a task loses nothing: the task runs again, as it
  would with Redis;
- each queue has its own folder, so polling an empty queue does not list the backlog
  of another;
- the bindings of an exchange (kombu's control files) are replaced whole, under a lock.

settings.py selects it (`broker_transport` "padu.broker:Transport") when the broker URL
is `filesystem://`, which is the default when no broker is configured.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from queue import Empty
from typing import IO, ClassVar

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

# How often a consumer looks for messages left behind by processes that are gone.
RECOVER_EVERY_SECONDS = 5.0
OWNER_NAME = re.compile(r"\A\d+-[0-9a-f]{8}\Z")
# Queue names become folder names; Celery's (celery, celery@host.celery.pidbox,
# celeryev.<uuid>, ...) fit.
QUEUE_NAME = re.compile(r"\A[A-Za-z0-9_@:+-][A-Za-z0-9._@:+-]*\Z")


def queue_of(name: str) -> str:
    """The queue of a message file named `<time>_<uuid>.<queue>.msg`."""
    return name.partition(".")[2].removesuffix(".msg")


def queue_folder(queues: str | Path, queue: str) -> Path:
    if not QUEUE_NAME.match(queue):
        raise ChannelError(f"Invalid queue name: {queue!r}")
    return Path(queues) / queue


def _move_into_queue(path: Path, queues: str | Path, name: str) -> None:
    """Rename a whole message file into its queue's folder (made on first use)."""
    folder = queue_folder(queues, queue_of(name))
    try:
        os.rename(path, folder / name)
    except FileNotFoundError:
        if not path.exists():
            raise
        folder.mkdir(parents=True, exist_ok=True)
        os.rename(path, folder / name)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file at `path` (created if missing)."""
    with open(path, "ab") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


class _Owner:
    """This process's folder under the processing folder, locked while the process lives.

    The lock is an flock on `<name>.lock`: the kernel drops it when the process ends,
    however it ends, which is how others tell that the folder's messages are orphans."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.folder = root / self.name
        # Under the recovery lock, so no one sees the lock file before it is locked.
        with _locked(root / "recover.lock"):
            self._lock: IO[bytes] | None = open(root / f"{self.name}.lock", "wb")  # noqa: SIM115
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX)
            self.folder.mkdir()

    def forget(self) -> None:
        """In a forked child: let go of the parent's lock without releasing it."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None


_owners: dict[Path, _Owner] = {}
_owners_lock = threading.Lock()


def _owner(root: Path) -> _Owner:
    with _owners_lock:
        owner = _owners.get(root)
        if owner is None:
            owner = _owners[root] = _Owner(root)
        return owner


def _forget_owners_after_fork() -> None:
    # A forked child (a prefork pool process) is not its parent: it makes its own folder
    # when it first publishes, and must not keep the parent's lock alive after the
    # parent is gone.
    global _owners_lock
    _owners_lock = threading.Lock()
    for owner in _owners.values():
        owner.forget()
    _owners.clear()


os.register_at_fork(after_in_child=_forget_owners_after_fork)


def recover_orphans(root: Path, queues: Path) -> int:
    """Put the messages taken by processes that are gone back in their queues and remove
    their folders; messages they were still writing are dropped (never published).
    Returns how many messages went back."""
    if not root.is_dir():
        return 0
    restored = 0
    with _locked(root / "recover.lock"):
        names = {entry.removesuffix(".lock") for entry in os.listdir(root)}
        for name in sorted(n for n in names if OWNER_NAME.match(n)):
            lock_path = root / f"{name}.lock"
            try:
                lock = open(lock_path, "rb")  # noqa: SIM115
            except FileNotFoundError:
                lock = None
            try:
                if lock is not None:
                    try:
                        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its process is alive
                restored += _empty_folder(root / name, queues)
                with suppress(FileNotFoundError):
                    lock_path.unlink()
            finally:
                if lock is not None:
                    lock.close()
    if restored:
        logger.warning("Put %d messages of a stopped process back in the queue.", restored)
    return restored


def adopt_flat_messages(queues: Path) -> int:
    """Move messages left by kombu's own transport (all queues in one folder) into
    their queues' folders."""
    adopted = 0
    with suppress(FileNotFoundError):
        for entry in os.scandir(queues):
            if entry.name.endswith(".msg") and entry.is_file():
                with suppress(FileNotFoundError):
                    _move_into_queue(Path(entry.path), queues, entry.name)
                    adopted += 1
    return adopted


def _empty_folder(folder: Path, queues: Path) -> int:
    if not folder.is_dir():
        return 0
    restored = 0
    for entry in os.listdir(folder):
        if entry.endswith(".msg"):
            _move_into_queue(folder / entry, queues, entry)
            restored += 1
        else:
            (folder / entry).unlink()
    folder.rmdir()
    return restored


class Channel(filesystem.Channel):
    """kombu's file-system channel with atomic publishing and claimed, acknowledged reads."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # delivery tag -> the claimed file, deleted on acknowledgement
        self._claims: dict[str, Path] = {}
        self._no_ack_queues: set[str] = set()
        # queue -> names seen in the last listing, oldest first, not yet tried
        self._pending: dict[str, deque[str]] = {}
        self._recovered_at = float("-inf")
        self.waiting_for_acks = False

    @cached_property
    def processing_folder(self) -> Path:
        default = Path(self.data_folder_in).parent / "processing"
        return Path(self.transport_options.get("processing_folder", default))

    # Publishing

    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        # kombu's name format, with wall-clock time: monotonic time starts again at a
        # reboot, and the queue outlives one.
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        part = _owner(self.processing_folder).folder / f"{name}.part"
        try:
            part.write_bytes(str_to_bytes(dumps(payload)))
            _move_into_queue(part, self.data_folder_out, name)
        except OSError as exc:
            with suppress(OSError):
                part.unlink()
            raise ChannelError(f"Cannot add a message to queue {queue!r}") from exc

    # Consuming

    def drain_events(self, timeout=None, callback=None):
        self.waiting_for_acks = bool(self._consumers) and not self.qos.can_consume()
        return super().drain_events(timeout=timeout, callback=callback)

    def _get(self, queue: str) -> dict:
        if time.monotonic() - self._recovered_at > RECOVER_EVERY_SECONDS:
            self._recovered_at = time.monotonic()
            adopt_flat_messages(Path(self.data_folder_in))
            recover_orphans(self.processing_folder, Path(self.data_folder_in))
        source = queue_folder(self.data_folder_in, queue)
        claims = _owner(self.processing_folder).folder
        pending = self._pending.setdefault(queue, deque())
        listed = False
        while True:
            if not pending:
                if listed:
                    raise Empty()
                pending.extend(self._listing(source))
                listed = True
                continue
            name = pending.popleft()
            claimed = claims / name
            try:
                os.rename(source / name, claimed)
            except FileNotFoundError:
                continue  # another consumer took it first
            payload = self._read_claimed(claimed)
            if payload is not None:
                return self._remember(queue, payload, claimed)

    @staticmethod
    def _listing(source: Path) -> list[str]:
        try:
            return sorted(name for name in os.listdir(source) if name.endswith(".msg"))
        except FileNotFoundError:
            return []

    def _read_claimed(self, path: Path) -> dict | None:
        try:
            return loads(bytes_to_str(path.read_bytes()))
        except ValueError:
            # Not written by this transport: set it aside rather than fail on it at
            # every start.
            unreadable = self.processing_folder / "unreadable"
            unreadable.mkdir(exist_ok=True)
            os.rename(path, unreadable / path.name)
            logger.error("Set aside an unreadable message file: %s", unreadable / path.name)
            return None

    def _remember(self, queue: str, payload: dict, claimed: Path) -> dict:
        tag = payload.get("properties", {}).get("delivery_tag")
        if tag is None or queue in self._no_ack_queues:
            claimed.unlink()
        else:
            self._claims[tag] = claimed
        return payload

    @staticmethod
    def _forget(path: Path | None) -> None:
        if path is not None:
            with suppress(FileNotFoundError):
                path.unlink()

    def _size(self, queue: str) -> int:
        return len(self._listing(queue_folder(self.data_folder_in, queue)))

    def _purge(self, queue: str) -> int:
        source = queue_folder(self.data_folder_in, queue)
        count = 0
        for name in self._listing(source):
            with suppress(FileNotFoundError):
                (source / name).unlink()
                count += 1
        return count

    # Acknowledgements

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_cancel(self, consumer_tag):
        queue = self._tag_to_queue.get(consumer_tag)
        result = super().basic_cancel(consumer_tag)
        if queue is not None and queue not in self._active_queues:
            self._no_ack_queues.discard(queue)
        return result

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self._forget(self._claims.pop(message.delivery_tag, None))
        return message

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(self._claims.pop(delivery_tag, None))
        self._wake()

    def basic_reject(self, delivery_tag, requeue=False):
        # Taken out first: a requeued message can be claimed again, under the same tag,
        # before this returns.
        claimed = self._claims.pop(delivery_tag, None)
        super().basic_reject(delivery_tag, requeue=requeue)
        self._forget(claimed)
        self._wake()

    def _wake(self) -> None:
        transport = self.connection
        if transport is not None:
            transport.acknowledged.set()

    def _restore(self, message) -> None:
        claimed = self._claims.pop(message.delivery_tag, None)
        super()._restore(message)
        self._forget(claimed)

    # Exchange bindings (fan-out and topic routing), one file per exchange

    def get_table(self, exchange):
        try:
            table = loads(bytes_to_str(self._exchange_file(exchange).read_bytes()))
        except FileNotFoundError:
            return []
        return [filesystem.exchange_queue_t(*binding) for binding in table]

    def _change_table(self, exchange: str, change: Callable[[list], None]) -> None:
        file = self._exchange_file(exchange)
        file.parent.mkdir(parents=True, exist_ok=True)
        with _locked(file.with_name(f"{file.name}.lock")):
            table = self.get_table(exchange)
            change(table)
            temporary = file.with_name(f".{file.name}.{uuid.uuid4().hex}")
            temporary.write_bytes(str_to_bytes(dumps(table)))
            os.replace(temporary, file)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def add(table: list) -> None:
            if binding not in table:
                table.insert(0, binding)

        self._change_table(exchange, add)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def remove(table: list) -> None:
            if binding in table:
                table.remove(binding)

        self._change_table(exchange, remove)


class Transport(filesystem.Transport):
    """kombu's file-system transport with the channel above."""

    Channel = Channel

    # kombu shares one record of declared exchanges and bindings among all connections
    # of a process; here there is one per control folder, so that a binding recorded
    # for one broker folder is not taken as written in another.
    states: ClassVar[dict[str, virtual.BrokerState]] = {}

    def __init__(self, client, **kwargs) -> None:
        super().__init__(client, **kwargs)
        control = str(Path(client.transport_options.get("control_folder", "control")).resolve())
        self.state = self.states.setdefault(control, virtual.BrokerState())
        self.acknowledged = threading.Event()

    def drain_events(self, connection, timeout=None):
        # kombu's loop, except that a consumer which may take no more messages until its
        # tasks finish (prefetch limit) wakes at the acknowledgement, not a whole polling
        # interval later: with two processes and 0.05 s that was 45 tasks/s at most.
        started = time.monotonic()
        interval = self.polling_interval
        if timeout and interval and interval > timeout:
            interval = timeout
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise TimeoutError() from None
                if any(channel.waiting_for_acks for channel in self.channels):
                    self.acknowledged.wait(interval)
                    self.acknowledged.clear()
                elif interval is not None:
                    time.sleep(interval)
