"""Meta's signed_request: valid, signed with the wrong secret, naming another algorithm,
or malformed."""

from __future__ import annotations

import pytest

from privacy.signed_request import SignedRequest, SignedRequestError, signed_request_read
from tests.privacy.signing import for_user, signed_request

SECRET = "app-secret-for-signing"
INSTAGRAM_SECRET = "instagram-app-secret"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.META_APP_SECRET = SECRET
    settings.META_INSTAGRAM_APP_SECRET = INSTAGRAM_SECRET


def meta_user_id(signed: str) -> str:
    return signed_request_read(signed).meta_user_id


def test_a_valid_request_names_the_user_and_the_facebook_app():
    assert signed_request_read(for_user("1234567890", SECRET)) == SignedRequest(
        meta_user_id="1234567890", instagram_login=False
    )


def test_the_instagram_apps_secret_signs_for_instagram_login():
    assert signed_request_read(for_user("17841400000000", INSTAGRAM_SECRET)) == SignedRequest(
        meta_user_id="17841400000000", instagram_login=True
    )


def test_a_numeric_user_id_is_read_as_text():
    payload = {"algorithm": "HMAC-SHA256", "user_id": 1234567890}
    assert meta_user_id(signed_request(payload, SECRET)) == "1234567890"


def test_the_algorithm_is_read_in_any_case():
    payload = {"algorithm": "hmac-sha256", "user_id": "42"}
    assert meta_user_id(signed_request(payload, SECRET)) == "42"


def _tampered() -> str:
    signature, _payload = for_user("1234567890", SECRET).split(".")
    other = for_user("666", "someone-elses-secret").split(".")[1]
    return f"{signature}.{other}"


@pytest.mark.parametrize(
    ("signed", "reason"),
    [
        (for_user("1234567890", "someone-elses-secret"), "signature"),
        (_tampered(), "signature"),
        (signed_request({"algorithm": "HMAC-SHA1", "user_id": "42"}, SECRET), "HMAC-SHA256"),
        (signed_request({"user_id": "42"}, SECRET), "HMAC-SHA256"),
        (signed_request({"algorithm": "HMAC-SHA256"}, SECRET), "user id"),
        (signed_request({"algorithm": "HMAC-SHA256", "user_id": "12ab"}, SECRET), "user id"),
        (signed_request({"algorithm": "HMAC-SHA256", "user_id": True}, SECRET), "user id"),
        (signed_request(["HMAC-SHA256", "42"], SECRET), "JSON object"),
        (signed_request(None, SECRET, raw_payload=b"not json"), "not JSON"),
        (signed_request(None, SECRET, raw_payload=b"\xff\xfe"), "not JSON"),
        ("", "two parts"),
        ("onlyonepart", "two parts"),
        ("a.b.c", "two parts"),
        ("sig+nature.payload", "base64url"),
        ("c2lnbmF0dXJl==.cGF5bG9hZA", "base64url"),
        ("a.", "base64url"),
        ("A.cGF5bG9hZA", "base64url"),
    ],
)
def test_anything_else_is_refused_with_the_reason(signed, reason):
    with pytest.raises(SignedRequestError, match=reason):
        meta_user_id(signed)


def test_without_a_configured_secret_nothing_is_valid(settings):
    settings.META_APP_SECRET = settings.META_INSTAGRAM_APP_SECRET = ""
    with pytest.raises(SignedRequestError, match="signature"):
        meta_user_id(for_user("1234567890", ""))
