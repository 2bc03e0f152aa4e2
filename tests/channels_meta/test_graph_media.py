"""Downloading customers' attachments through the Graph layer: only from Meta's media
hosts, streamed within the size limit, the token sent only where it belongs."""

from __future__ import annotations

import io

import httpx
import pytest

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors
from channels_meta.graph.calls import downloads

TOKEN = "EAAGsecretsystemusertoken1234567890"


@pytest.fixture(autouse=True)
def _media_hosts(settings):
    settings.META_MEDIA_HOSTS = [
        "lookaside.fbsbx.com",
        "*.fbcdn.net",
        "*.cdninstagram.com",
        "http://127.0.0.1:8900",
    ]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", True),
        ("https://scontent.xx.fbcdn.net/v/t1/1_n.jpg?oe=65A1B2C3", True),
        ("https://scontent-ist1-1.cdninstagram.com/v/t51/1_n.jpg", True),
        ("http://127.0.0.1:8900/cdn/1/photo.jpg", True),
        # Not Meta's, or not as configured.
        ("https://fbcdn.net.evil.example/1.jpg", False),
        ("https://evilfbcdn.net/1.jpg", False),
        ("https://fbcdn.net/1.jpg", False),
        ("http://scontent.xx.fbcdn.net/1.jpg", False),
        ("https://scontent.xx.fbcdn.net:8443/1.jpg", False),
        ("https://user:pass@lookaside.fbsbx.com/1", False),
        ("http://127.0.0.1:8901/cdn/1/photo.jpg", False),
        ("https://127.0.0.1:8900/cdn/1/photo.jpg", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_only_metas_media_hosts_are_allowed(url, allowed):
    assert downloads.media_url_allowed(url) is allowed


def serving(handler) -> None:
    graph_client.use_transport(httpx.MockTransport(handler))


def redirecting(host: str, location: str, content: bytes = b"file") -> list[httpx.Request]:
    """Meta's `host` redirecting to `location`, and the file anywhere else; the requests
    Padu sends, as they come."""
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.host == host:
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, content=content)

    serving(handler)
    return seen


def test_a_download_streams_the_file_and_says_what_it_wrote():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, content=b"%PDF-1.4 hello", headers={"Content-Type": "x/y"})

    serving(handler)
    into = io.BytesIO()

    done = downloads.media_download(
        url="https://lookaside.fbsbx.com/x?mid=1", into=into, max_bytes=100, token=TOKEN
    )

    assert into.getvalue() == b"%PDF-1.4 hello"
    assert (done.size, done.content_type) == (14, "x/y")
    assert len(done.sha256) == 64
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_cdn_link_is_fetched_without_a_token():
    seen = []
    serving(lambda request: seen.append(request) or httpx.Response(200, content=b"ok"))

    downloads.media_download(url="https://a.fbcdn.net/1.jpg", into=io.BytesIO(), max_bytes=10)

    assert "Authorization" not in seen[0].headers


def test_a_file_without_a_length_is_cut_off_at_the_limit():
    def endless():
        while True:
            yield b"x" * 1000

    serving(lambda request: httpx.Response(200, content=endless()))
    into = io.BytesIO()

    with pytest.raises(errors.MediaTooLarge) as refused:
        downloads.media_download(url="https://a.fbcdn.net/1", into=into, max_bytes=5000)

    assert refused.value.limit == 5000
    assert len(into.getvalue()) <= 5000


def test_a_file_announced_as_too_large_is_not_read():
    serving(lambda request: httpx.Response(200, headers={"Content-Length": "9999"}, content=b""))
    into = io.BytesIO()

    with pytest.raises(errors.MediaTooLarge):
        downloads.media_download(url="https://a.fbcdn.net/1", into=into, max_bytes=100)

    assert into.getvalue() == b""


def test_a_redirect_is_followed_on_metas_hosts_without_the_token_to_another_host():
    seen = redirecting("lookaside.fbsbx.com", "https://b.fbcdn.net/file")
    into = io.BytesIO()

    downloads.media_download(
        url="https://lookaside.fbsbx.com/x", into=into, max_bytes=100, token=TOKEN
    )

    assert into.getvalue() == b"file"
    assert [request.url.host for request in seen] == ["lookaside.fbsbx.com", "b.fbcdn.net"]
    assert "Authorization" not in seen[1].headers


def test_a_redirect_off_metas_hosts_is_refused():
    seen = redirecting("lookaside.fbsbx.com", "https://evil.example/steal")

    with pytest.raises(errors.UnsafeRequest):
        downloads.media_download(
            url="https://lookaside.fbsbx.com/x", into=io.BytesIO(), max_bytes=100, token=TOKEN
        )
    assert [request.url.host for request in seen] == ["lookaside.fbsbx.com"]


def test_a_download_from_elsewhere_is_never_sent():
    seen = []
    serving(lambda request: seen.append(request) or httpx.Response(200, content=b"x"))

    with pytest.raises(errors.UnsafeRequest):
        downloads.media_download(url="https://evil.example/1.jpg", into=io.BytesIO(), max_bytes=10)
    assert seen == []


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, b"URL signature expired", errors.PermanentError),
        (404, b"Not Found", errors.PermanentError),
        (
            401,
            b'{"error":{"message":"Invalid OAuth access token.","code":190}}',
            errors.TokenInvalid,
        ),
        (503, b"busy", errors.TransientError),
        (429, b"slow down", errors.RateLimited),
    ],
)
def test_a_refused_download_raises_what_metas_answer_means(status, body, expected):
    serving(lambda request: httpx.Response(status, content=body))

    with pytest.raises(expected) as refused:
        downloads.media_download(
            url="https://lookaside.fbsbx.com/x", into=io.BytesIO(), max_bytes=10, token=TOKEN
        )

    assert refused.value.status == status
    assert TOKEN not in str(refused.value)


def test_a_whatsapp_media_id_that_is_not_digits_is_never_sent():
    seen = []
    serving(lambda request: seen.append(request) or httpx.Response(200, json={}))

    with pytest.raises(errors.UnsafeRequest):
        downloads.whatsapp_media_get(media_id="../me", phone_number_id="1", token=TOKEN)
    assert seen == []


def test_whatsapp_media_is_asked_for_with_the_number_it_was_sent_to():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "url": "https://lookaside.fbsbx.com/x",
                "mime_type": "image/jpeg",
                "file_size": "12",
            },
        )

    serving(handler)

    found = downloads.whatsapp_media_get(media_id="123", phone_number_id="456", token=TOKEN)

    assert (found.url, found.mime_type, found.size) == (
        "https://lookaside.fbsbx.com/x",
        "image/jpeg",
        12,
    )
    assert seen[0].url.path.endswith("/123")
    assert seen[0].url.params["phone_number_id"] == "456"


# Customers' profile pictures: from the hosts Meta serves pictures from, never with a token.


def test_a_profile_picture_follows_metas_redirect_to_its_cdn_without_a_token(settings):
    settings.META_PROFILE_PICTURE_HOSTS = ["fbsbx.com", "fbcdn.net"]
    seen = redirecting(
        "platform-lookaside.fbsbx.com", "https://scontent.xx.fbcdn.net/p.jpg", b"picture"
    )
    into = io.BytesIO()

    downloads.profile_picture_download(
        url="https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1&hash=x",
        into=into,
        max_bytes=100,
    )

    assert into.getvalue() == b"picture"
    assert [r.url.host for r in seen] == ["platform-lookaside.fbsbx.com", "scontent.xx.fbcdn.net"]
    assert all("Authorization" not in request.headers for request in seen)


@pytest.mark.parametrize(
    ("url", "redirect"),
    [
        ("https://evil.example/p.jpg", ""),
        # A media host for attachments is not a picture host unless named as one.
        ("http://127.0.0.1:8900/cdn/1/p.jpg", ""),
        ("https://platform-lookaside.fbsbx.com/p", "https://evil.example/steal"),
    ],
)
def test_a_profile_picture_off_metas_picture_hosts_is_never_fetched(settings, url, redirect):
    settings.META_PROFILE_PICTURE_HOSTS = ["fbsbx.com", "fbcdn.net"]
    seen = redirecting("platform-lookaside.fbsbx.com", redirect or "https://evil.example/")

    with pytest.raises(errors.UnsafeRequest):
        downloads.profile_picture_download(url=url, into=io.BytesIO(), max_bytes=100)
    assert len(seen) == (1 if redirect else 0)
