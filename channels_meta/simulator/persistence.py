"""The simulator's memory on disk, so that a restarted simulator is the same Meta: the
tokens it issued still work, the accounts it subscribed are still subscribed, a comment
answered privately cannot be answered again, and messaging windows stay open.

Not kept: what was sent and received (logs for tests), rate-limit counters, webhooks
waiting to be delivered, media customers sent.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from pathlib import Path

from channels_meta.simulator.state import (
    Comment,
    CustomerProfile,
    InstagramAccount,
    MetaUser,
    Page,
    PhoneNumber,
    SimulatorState,
    Token,
    Waba,
)

FORMAT = 1


def snapshot(state: SimulatorState) -> dict:
    """Everything worth keeping, as JSON-ready data."""
    with state.lock:
        return {
            "format": FORMAT,
            "seed": state.seed,
            "generation": state.generation,
            "users": [asdict(user) for user in state.users.values()],
            "pages": [asdict(page) for page in state.pages.values()],
            "instagram_accounts": [asdict(a) for a in state.instagram_accounts.values()],
            "wabas": [asdict(waba) for waba in state.wabas.values()],
            "phone_numbers": [asdict(phone) for phone in state.phone_numbers.values()],
            "tokens": [asdict(token) for token in state.tokens.values()],
            "codes": dict(state.codes),
            "subscriptions": {key: sorted(fields) for key, fields in state.subscriptions.items()},
            "instagram_login_ids": sorted(state.instagram_login_ids),
            "last_inbound": [
                [business_id, customer_id, at]
                for (business_id, customer_id), at in state.last_inbound.items()
            ],
            "comments": [asdict(comment) for comment in state.comments.values()],
            "profiles": [asdict(profile) for profile in state.profiles.values()],
            "regulars": [list(regular) for regular in state.regulars],
            "last_event_at": state._last_event_at,
        }


def restore(state: SimulatorState, data: dict) -> None:
    """Make `state` what `data` (from `snapshot`) describes.

    The random generator is not restored but seeded anew for the next generation: ids
    made after the last save and before a crash would otherwise be made again."""
    if data.get("format") != FORMAT:
        raise ValueError(f"Unknown simulator state format {data.get('format')!r}.")
    with state.lock:
        state.users = {u["id"]: MetaUser(**u) for u in data["users"]}
        state.pages = {p["id"]: Page(**p) for p in data["pages"]}
        state.instagram_accounts = {
            a["id"]: InstagramAccount(**a) for a in data["instagram_accounts"]
        }
        state.wabas = {w["id"]: Waba(**w) for w in data["wabas"]}
        state.phone_numbers = {p["id"]: PhoneNumber(**p) for p in data["phone_numbers"]}
        state.tokens = {t["value"]: Token(**t) for t in data["tokens"]}
        state.codes = dict(data["codes"])
        state.subscriptions = {key: set(fields) for key, fields in data["subscriptions"].items()}
        state.instagram_login_ids = set(data.get("instagram_login_ids", []))
        state.last_inbound = {
            (business_id, customer_id): at for business_id, customer_id, at in data["last_inbound"]
        }
        state.comments = {c["id"]: Comment(**c) for c in data["comments"]}
        state.profiles = {p["id"]: CustomerProfile(**p) for p in data.get("profiles", [])}
        state.regulars = [tuple(regular) for regular in data["regulars"]]
        state._last_event_at = data["last_event_at"]
        state.generation = data["generation"] + 1
        seed = data["seed"] if state.seed is None else state.seed
        state.random.seed(None if seed is None else f"{seed}/{state.generation}")


class StateFile:
    """A simulator state kept in a JSON file, replaced whole (written to a temporary
    file, then renamed) whenever it changed."""

    def __init__(self, path: Path, state: SimulatorState) -> None:
        self.path = path
        self.state = state
        self._saved = ""
        self._lock = threading.Lock()

    def load(self) -> bool:
        """Restore the state from the file; False when there is no file yet."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return False
        restore(self.state, json.loads(text))
        self._saved = ""
        return True

    def save(self) -> bool:
        """Write the state if it changed since the last save; True when written."""
        with self._lock:
            text = json.dumps(snapshot(self.state), sort_keys=True, ensure_ascii=False)
            if text == self._saved:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with open(temporary, "w") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
            self._saved = text
            return True

    def save_every(self, seconds: float, stop: threading.Event) -> None:
        """Save whenever something changed, checking every `seconds` until `stop`."""
        while not stop.wait(seconds):
            try:
                self.save()
            except RuntimeError:
                # A collection changed size while it was copied; the next round saves it.
                continue
