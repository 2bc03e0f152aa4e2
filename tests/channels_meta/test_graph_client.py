from __future__ import annotations

import httpx
import pytest

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors, ids
from channels_meta.graph.calls import base

TOKEN = "EAAGsecretpagetoken1234567890abcdef"


def client_answering(status: int, body, headers=None, seen=None) -> graph_client.GraphClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(body, Exception):
            raise body
        content = body if isinstance(body, bytes) else None
        return httpx.Response(
            status, json=None if content else body, content=content, headers=headers
        )

    return graph_client.GraphClient(transport=httpx.MockTransport(handler))


def meta_error(code, subcode=None, message="Something happened"):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Abc"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "code", "subcode", "expected"),
    [
        (400, 190, None, errors.TokenInvalid),
        (400, 190, 458, errors.TokenInvalid),
        (400, 190, 460, errors.TokenInvalid),
        (400, 190, 463, errors.TokenInvalid),
        (400, 190, 467, errors.TokenInvalid),
        (400, 10, 2018278, errors.OutsideWindow),
        (400, 10, 2534022, errors.OutsideWindow),
        (400, 131047, None, errors.OutsideWindow),
        (400, 4, None, errors.RateLimited),
        (400, 17, None, errors.RateLimited),
        (400, 32, None, errors.RateLimited),
        (400, 613, None, errors.RateLimited),
        (400, 80007, None, errors.RateLimited),
        (400, 130429, None, errors.RateLimited),
        (400, 131056, None, errors.RateLimited),
        (400, 131048, None, errors.PermanentError),
        (400, 100, None, errors.PermanentError),
        (400, 551, None, errors.PermanentError),
        (403, 10, None, errors.PermissionMissing),
        (404, 803, None, errors.PermanentError),
        (500, 2, None, errors.TransientError),
        (503, 1, None, errors.TransientError),
    ],
)
def test_meta_error_codes_map_to_typed_exceptions(status, code, subcode, expected):
    client = client_answering(status, meta_error(code, subcode))

    with pytest.raises(expected) as raised:
        client.post("123/messages", token=TOKEN, json_body={"x": 1})

    assert type(raised.value) is expected
    assert (raised.value.code, raised.value.subcode) == (code, subcode)
    assert raised.value.fbtrace_id == "Abc"


def test_a_gateway_error_without_an_envelope_is_transient():
    with pytest.raises(errors.TransientError, match="HTTP 502"):
        client_answering(502, b"<html>Bad gateway</html>").get("me", token=TOKEN)


def test_timeouts_and_connection_failures_are_transient():
    for failure in (httpx.ReadTimeout("slow"), httpx.ConnectError("refused")):
        with pytest.raises(errors.TransientError):
            client_answering(200, failure).get("me", token=TOKEN)


def test_rate_limits_carry_a_retry_after_hint():
    usage = '{"123": [{"type": "messenger", "estimated_time_to_regain_access": 3}]}'
    from_usage = client_answering(400, meta_error(80007), {"X-Business-Use-Case-Usage": usage})
    from_header = client_answering(429, meta_error(4), {"Retry-After": "12"})

    with pytest.raises(errors.RateLimited) as usage_error:
        from_usage.get("me", token=TOKEN)
    with pytest.raises(errors.RateLimited) as header_error:
        from_header.get("me", token=TOKEN)

    assert usage_error.value.retry_after == 180
    assert header_error.value.retry_after == 12


def test_error_messages_never_carry_a_token():
    echoed = meta_error(190, message=f"Malformed access token {TOKEN} or EAAOther1234567890123")
    with pytest.raises(errors.TokenInvalid) as raised:
        client_answering(400, echoed).get("me", token=TOKEN)

    assert TOKEN not in str(raised.value)
    assert "EAAOther" not in str(raised.value)
    assert "[redacted]" in str(raised.value)


def test_the_token_travels_in_the_authorization_header_and_urls_are_versioned(settings):
    settings.META_GRAPH_URL = "https://graph.example"
    seen = []
    client_answering(200, {"id": "1"}, seen=seen).get("me", token=TOKEN, params={"fields": "id"})

    assert str(seen[0].url) == "https://graph.example/v25.0/me?fields=id"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_pagination_follows_next_until_it_is_absent_and_tolerates_short_pages():
    pages = {
        "/v25.0/waba/message_templates": {
            "data": [{"name": "a"}, {"name": "b"}],
            "paging": {"cursors": {"after": "x"}, "next": "https://graph.facebook.com/p2"},
        },
        "/p2": {"data": [{"name": "c"}], "paging": {"next": "https://graph.facebook.com/p3"}},
        "/p3": {"data": [], "paging": {"cursors": {"before": "y"}}},
    }

    def handler(request):
        return httpx.Response(200, json=pages[request.url.path])

    client = graph_client.GraphClient(transport=httpx.MockTransport(handler))

    names = [item["name"] for item in client.paginate("waba/message_templates", token=TOKEN)]
    assert names == ["a", "b", "c"]


@pytest.fixture
def meta_hosts(settings):
    settings.META_GRAPH_URL = "https://graph.facebook.com"
    settings.META_INSTAGRAM_GRAPH_URL = "https://graph.instagram.com"
    settings.META_INSTAGRAM_API_URL = "https://api.instagram.com"


@pytest.mark.usefixtures("meta_hosts")
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x?y=",
        "http://169.254.169.254/latest/meta-data/",
        "https://graph.facebook.com.evil.example/v25.0/me",
        "https://evil.example/graph.facebook.com/v25.0/me",
        "https://graph.facebook.com@evil.example/v25.0/me",
        "https://evil.example\\@graph.facebook.com/v25.0/me",
        "http://graph.facebook.com/v25.0/me",
        "https://graph.facebook.com:8443/v25.0/me",
        "HTTP://127.0.0.1/x",
        "ftp://graph.facebook.com/x",
        "file:///etc/passwd",
    ],
)
def test_an_absolute_url_off_metas_hosts_is_refused_and_nothing_is_sent(url):
    seen = []
    client = client_answering(200, {"data": []}, seen=seen)

    with pytest.raises(errors.PermanentError) as raised:
        client.get(url, token=TOKEN, secrets=("app-secret",))

    assert isinstance(raised.value, errors.UnsafeRequest)
    assert seen == []
    assert TOKEN not in str(raised.value)
    assert "app-secret" not in str(raised.value)


@pytest.mark.usefixtures("meta_hosts")
@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/x",
        "@evil.example/x",
        "../../x",
        "me/../../x",
        "me?access_token=x",
        "me#x",
        "me x",
        "me\n",
        "\tme",
        "/me",
        "me/",
        "",
        "12.34",
        "127.0.0.1:8080/x",
    ],
)
def test_a_path_that_could_leave_the_graph_api_is_refused_and_nothing_is_sent(path):
    seen = []
    client = client_answering(200, {"id": "1"}, seen=seen)

    with pytest.raises(errors.UnsafeRequest):
        client.post(path, token=TOKEN, host="instagram")

    assert seen == []


@pytest.mark.usefixtures("meta_hosts")
def test_pagination_does_not_follow_next_to_another_host():
    seen = []
    first = {"data": [{"name": "a"}], "paging": {"next": "http://127.0.0.1:9/steal?after=x"}}
    client = client_answering(200, first, seen=seen)

    with pytest.raises(errors.UnsafeRequest):
        list(client.paginate("123/message_templates", token=TOKEN))

    assert [request.url.host for request in seen] == ["graph.facebook.com"]


def test_urls_on_each_configured_meta_host_are_followed(settings):
    settings.META_GRAPH_URL = "http://127.0.0.1:8001"
    settings.META_INSTAGRAM_GRAPH_URL = "https://graph.instagram.com"
    settings.META_INSTAGRAM_API_URL = "https://api.instagram.com"
    seen = []
    client = client_answering(200, {"id": "1"}, seen=seen)

    client.get("http://127.0.0.1:8001/v25.0/123/message_templates?after=2", token=TOKEN)
    client.get("https://graph.instagram.com:443/v25.0/me", token=TOKEN)
    client.post("https://api.instagram.com/oauth/access_token", form={"code": "x"})

    assert [request.url.host for request in seen] == [
        "127.0.0.1",
        "graph.instagram.com",
        "api.instagram.com",
    ]


@pytest.mark.parametrize(
    "value", ["", "12ab", "1/2", "../1", " 1", "1 ", "1\n", "+1", "-1", "١٢٣", None, True, 1.5]
)
def test_only_digits_are_meta_ids(value):
    with pytest.raises(errors.UnsafeRequest, match="not a Meta id"):
        ids.node_id(value)


def test_ids_go_into_graph_paths_through_the_validator():
    assert base.node_path("1234", "messages") == "1234/messages"
    assert base.node_path(1234) == "1234"
    with pytest.raises(errors.UnsafeRequest):
        base.node_path("http://127.0.0.1:8080/x?y=", "phone_numbers")
