"""Tests never leave this machine (the guard in tests/conftest.py)."""

from __future__ import annotations

import socket

import pytest

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors
from tests.conftest import InternetGuardError


def test_a_socket_to_another_host_fails_the_test():
    with socket.socket() as sock, pytest.raises(InternetGuardError, match=r"192\.0\.2\.1"):
        sock.connect(("192.0.2.1", 443))


def test_connect_ex_to_another_host_fails_the_test():
    with socket.socket() as sock, pytest.raises(InternetGuardError, match=r"192\.0\.2\.2"):
        sock.connect_ex(("192.0.2.2", 443))


def test_a_datagram_to_another_host_fails_the_test():
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(InternetGuardError, match=r"192\.0\.2\.3"),
    ):
        sock.sendto(b"ping", ("192.0.2.3", 53))


def test_loopback_stays_reachable():
    host, port = "127.0.0.1", 6379
    with socket.create_connection((host, port), timeout=2):
        pass


def test_a_graph_call_without_the_simulator_reaches_nobody():
    with pytest.raises(errors.TransientError, match="Could not reach Meta"):
        graph_client.client().get("me", token="EAAG-not-a-token")
