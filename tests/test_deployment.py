"""The docker-compose deployment: only the proxy is published and only it may set
forwarded headers; the logs keep no query strings and no link tokens."""

from __future__ import annotations

import ipaddress
import os
import re
import runpy
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from django.urls import reverse

from padu.logging import REDACTED, scrub
from tests.workers import worker_database_url

ROOT = Path(__file__).resolve().parent.parent
PADU_SERVICES = ["migrate", "web", "worker", "beat"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def proxy_address(compose: dict) -> str:
    return compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]


def test_only_the_proxy_is_published_on_http_and_https(compose):
    published = {name for name, service in compose["services"].items() if "ports" in service}
    assert published == {"proxy"}
    host_ports = {port.split(":")[0] for port in compose["services"]["proxy"]["ports"]}
    assert host_ports == {"80", "443"}


def test_web_is_reachable_on_the_compose_network_only(compose):
    web = compose["services"]["web"]
    assert "ports" not in web
    assert web["expose"] == ["8000"]


def test_gunicorn_believes_forwarded_headers_from_the_proxy_alone(compose):
    address = proxy_address(compose)
    for name in PADU_SERVICES:
        assert compose["services"][name]["environment"]["FORWARDED_ALLOW_IPS"] == address
    (network,) = compose["networks"]["default"]["ipam"]["config"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(network["subnet"])
    # No other container can be handed the proxy's address.
    assert ipaddress.ip_address(address) not in ipaddress.ip_network(network["ip_range"])


def test_padu_services_are_configured_for_one_proxy_in_front(compose):
    for name in PADU_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["USE_X_FORWARDED_PROTO"] == "true"
        assert environment["TRUSTED_PROXY_COUNT"] == "1"


def test_the_proxy_keeps_its_certificates_and_serves_the_configured_host(compose):
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("caddy:2")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"caddy-data:/data", "caddy-config:/config"} <= set(proxy["volumes"])
    assert {"caddy-data", "caddy-config"} <= set(compose["volumes"])
    assert proxy["environment"]["PADU_HOST"].startswith("${PADU_HOST:?")


def test_long_running_services_keep_their_health_checks(compose):
    for name in ["proxy", "postgres", "redis", "web", "worker"]:
        assert compose["services"][name]["healthcheck"]["test"]


def test_caddy_proxies_to_every_web_container_and_trusts_no_client_headers():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    lines = [line.split("#")[0].strip() for line in caddyfile.splitlines()]
    assert "{$PADU_HOST} {" in lines
    assert "dynamic a web 8000 {" in lines
    assert not any(line.startswith(("trusted_proxies", "header_up")) for line in lines)


def test_dockerfile_runs_gunicorn_with_the_config_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--forwarded-allow-ips" not in dockerfile
    assert 'CMD ["gunicorn", "-c", "padu/gunicorn.conf.py", "padu.wsgi"]' in dockerfile


def test_gunicorn_config_trusts_only_this_machine_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    config = runpy.run_path(str(ROOT / "padu" / "gunicorn.conf.py"))
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert config["secure_scheme_headers"] == {"X-FORWARDED-PROTO": "https"}
    for atom in ("%(r)s", "%(q)s", "%(f)s"):
        assert atom not in config["access_log_format"]


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("/healthz?code=SECRET", "/healthz"),
        ("GET /meta/oauth/callback/?code=A&state=B HTTP/1.1", "GET /meta/oauth/callback/ HTTP/1.1"),
        ("Not Found: /invitations/SECRET/", f"Not Found: /invitations/{REDACTED}/"),
        (
            "https://padu.example/invitations/SECRET/",
            f"https://padu.example/invitations/{REDACTED}/",
        ),
        ("/password-reset/MQ/SECRET/", f"/password-reset/MQ/{REDACTED}/"),
        ("/account/confirm/SECRET/", f"/account/confirm/{REDACTED}/"),
        ("/o/acme/invitations/5/revoke/", "/o/acme/invitations/5/revoke/"),
        ("/password-reset/sent/", "/password-reset/sent/"),
        ("/password-reset/done/", "/password-reset/done/"),
    ],
)
def test_scrub_takes_out_query_strings_and_link_tokens_only(logged, expected):
    assert scrub(logged) == expected


def test_scrub_knows_the_real_invitation_and_password_reset_links():
    invitation = reverse("invitation_accept", kwargs={"token": "SECRETTOKEN"})
    reset = reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "SECRETRESET"})
    assert "SECRET" not in scrub(invitation)
    assert "SECRET" not in scrub(reset)
    assert scrub(reset).startswith("/password-reset/MQ/")


def test_gunicorn_and_django_logs_name_no_secrets(db, tmp_path):
    """Real gunicorn with the deployment's config file, serving Padu on the test database."""
    output = tmp_path / "gunicorn.log"
    environment = {**os.environ, "DATABASE_URL": worker_database_url(), "PYTHONUNBUFFERED": "1"}
    with output.open("w") as log:
        gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "padu/gunicorn.conf.py",
                "--bind",
                "127.0.0.1:0",
                "--workers",
                "1",
                "padu.wsgi",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = _wait_until_listening(output)
        with httpx.Client(base_url=base_url, timeout=5) as client:
            _wait_until_healthy(client)
            client.get("/healthz?code=SECRETCODE123")
            client.get("/healthz", headers={"Referer": f"{base_url}/invitations/SECRETREFERER/"})
            assert client.get("/invitations/SECRETTOKEN456/").status_code == 404
            client.get("/password-reset/MQ/SECRETRESET789/")
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=10)

    logged = output.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in logged
    assert f'"GET /invitations/{REDACTED}/ HTTP/1.1" 404' in logged
    assert f"/password-reset/MQ/{REDACTED}/" in logged
    assert f"Not Found: /invitations/{REDACTED}/" in logged
    assert "SECRET" not in logged


def _wait_until_listening(output: Path) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", output.read_text())
        if found:
            return found[1]
        time.sleep(0.05)
    raise AssertionError("gunicorn did not start:\n" + output.read_text())


def _wait_until_healthy(client: httpx.Client) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("Padu did not answer under gunicorn")
