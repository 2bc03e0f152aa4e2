from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.api_keys import api_key_create
from accounts.models import ApiKey, Membership
from tests.channels_meta.conftest import meta, recording  # noqa: F401  (the simulator)


@dataclass
class Api:
    """An API caller holding one key: `get`/`post`/… take a path under the organisation's
    `/api/v1/o/<slug>/` (or a full path) and send JSON."""

    client: Client
    key: str
    row: ApiKey
    slug: str

    def url(self, path: str) -> str:
        return path if path.startswith("/") else f"/api/v1/o/{self.slug}/{path}"

    def _send(self, method: str, path: str, body=None, **headers):
        if self.key:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.key}")
        if method == "get":
            return self.client.get(self.url(path), body, **headers)
        data = json.dumps(body) if body is not None else ""
        return getattr(self.client, method)(
            self.url(path), data, content_type="application/json", **headers
        )

    def get(self, path: str, query=None, **headers):
        return self._send("get", path, query, **headers)

    def post(self, path: str, body=None, **headers):
        return self._send("post", path, body, **headers)

    def put(self, path: str, body=None, **headers):
        return self._send("put", path, body, **headers)

    def patch(self, path: str, body=None, **headers):
        return self._send("patch", path, body, **headers)

    def delete(self, path: str, **headers):
        return self._send("delete", path, None, **headers)


def api_for(membership: Membership, scope: str = "write") -> Api:
    row, key = api_key_create(membership=membership, name=f"{scope} key", scope=scope)
    return Api(client=Client(), key=key, row=row, slug=membership.organization.slug)


@pytest.fixture
def api(world) -> Api:
    """A read-and-write key made by the first organisation's owner."""
    return api_for(world.owner)


@pytest.fixture
def read_api(world) -> Api:
    return api_for(world.owner, "read")
