"""Meta's error answers, as Meta sends them, become the typed exceptions Padu acts on."""

from __future__ import annotations

import json

import httpx
import pytest

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors

TOKEN = "EAAGsecretpagetoken1234567890abcdef"


def answering(status: int, error: dict, headers: dict | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": error}, headers=headers)

    return graph_client.GraphClient(transport=httpx.MockTransport(handler))


def envelope(code, message, *, subcode=None, kind="OAuthException", **extra) -> dict:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf0123456789"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {**error, **extra}


def raised(status, error, headers=None) -> errors.GraphError:
    with pytest.raises(errors.GraphError) as caught:
        answering(status, error, headers).post("123/messages", token=TOKEN, json_body={})
    return caught.value


CASES = [
    # Sessions and tokens.
    (400, envelope(102, "Session key invalid or no longer valid"), errors.TokenInvalid),
    (
        400,
        envelope(190, "Error validating access token: Session has expired", subcode=463),
        errors.TokenInvalid,
    ),
    (
        400,
        envelope(
            190,
            "Error validating access token: The user has not authorized application",
            subcode=458,
        ),
        errors.TokenInvalid,
    ),
    (
        400,
        envelope(190, "The user must log in at www.facebook.com", subcode=459),
        errors.TokenInvalid,
    ),
    (400, envelope(190, "The password was changed", subcode=460), errors.TokenInvalid),
    (
        400,
        envelope(190, "The user has not confirmed the account", subcode=464),
        errors.TokenInvalid,
    ),
    (400, envelope(190, "Invalid OAuth access token.", subcode=467), errors.TokenInvalid),
    (
        400,
        envelope(190, "The session is invalid because the user has no role", subcode=492),
        errors.TokenInvalid,
    ),
    (
        400,
        envelope(190, "Invalid OAuth access token - Cannot parse access token"),
        errors.TokenInvalid,
    ),
    # Permissions.
    (
        403,
        envelope(10, "(#10) Application does not have permission for this action"),
        errors.PermissionMissing,
    ),
    (
        403,
        envelope(200, "(#200) Requires pages_messaging permission to manage the object"),
        errors.PermissionMissing,
    ),
    (
        400,
        envelope(230, "(#230) Requires pages_messaging_subscriptions permission"),
        errors.PermissionMissing,
    ),
    (
        403,
        envelope(299, "(#299) Requires whatsapp_business_messaging permission"),
        errors.PermissionMissing,
    ),
    # Windows: a code 10 that is about the window, not a permission.
    (
        403,
        envelope(
            10,
            "(#10) This message is sent outside of allowed window.",
            subcode=2534022,
            kind="IGApiException",
        ),
        errors.OutsideWindow,
    ),
    (
        400,
        envelope(10, "(#10) This message is sent outside of allowed window.", subcode=2018278),
        errors.OutsideWindow,
    ),
    (
        400,
        envelope(131047, "Re-engagement message", error_data={"details": "More than 24 hours"}),
        errors.OutsideWindow,
    ),
    # One person or one request, not the token.
    (
        400,
        envelope(
            10, "(#10) This person isn't receiving messages from you right now.", subcode=2018108
        ),
        errors.PermanentError,
    ),
    (
        400,
        envelope(551, "This person isn't available right now.", subcode=1545041),
        errors.PermanentError,
    ),
    (400, envelope(100, "(#100) No matching user found", subcode=2018001), errors.PermanentError),
    # Throttling.
    (400, envelope(4, "(#4) Application request limit reached"), errors.RateLimited),
    (400, envelope(17, "(#17) User request limit reached"), errors.RateLimited),
    (400, envelope(32, "(#32) Page request limit reached"), errors.RateLimited),
    (
        400,
        envelope(613, "(#613) Calls to this api have exceeded the rate limit."),
        errors.RateLimited,
    ),
    (400, envelope(341, "(#341) Application limit reached"), errors.RateLimited),
    *[
        (400, envelope(code, f"(#{code}) There have been too many calls"), errors.RateLimited)
        for code in (80001, 80002, 80003, 80004, 80005, 80006, 80007, 80008, 80009, 80014)
    ],
    (400, envelope(130429, "Rate limit hit"), errors.RateLimited),
    (
        400,
        envelope(
            368,
            "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
            subcode=1390008,
        ),
        errors.PolicyBlocked,
    ),
]


@pytest.mark.parametrize(("status", "error", "expected"), CASES)
def test_each_documented_code_becomes_its_exception(status, error, expected):
    exception = raised(status, error)

    assert type(exception) is expected
    assert exception.code == error["code"]
    assert exception.subcode == error.get("error_subcode")
    assert exception.fbtrace_id == "AbCdEf0123456789"
    assert exception.status == status


def test_a_missing_permission_is_a_refused_token_that_names_the_permission():
    exception = raised(
        403, envelope(200, "(#200) Requires pages_messaging permission to manage the object")
    )

    assert isinstance(exception, errors.TokenInvalid)
    assert exception.permission == "pages_messaging"
    assert raised(403, envelope(10, "(#10) Application does not have permission")).permission == ""


def test_the_instagram_window_is_never_read_as_a_missing_permission():
    exception = raised(
        403,
        envelope(
            10,
            "(#10) This message is sent outside of allowed window.",
            subcode=2534022,
            kind="IGApiException",
        ),
    )

    assert not isinstance(exception, errors.TokenInvalid)


def test_token_subcodes_give_the_reason_a_channel_keeps():
    assert raised(400, envelope(190, "Session has expired", subcode=463)).reason == "token_expired"
    assert raised(400, envelope(190, "The password was changed", subcode=460)).reason == (
        "password_changed"
    )
    assert raised(400, envelope(190, "Invalid OAuth access token.")).reason == "token_invalid"
    assert raised(400, envelope(102, "Session key invalid.")).reason == "session_expired"


def test_a_changed_password_is_explained_in_words_and_the_codes_stay_for_the_logs():
    error = raised(400, envelope(190, "Error validating access token", subcode=460))

    assert error.explain() == (
        "Meta ended the connection because the password of the account that connected "
        "this channel was changed."
    )
    assert str(error) == "Error validating access token (Meta error 190/460)"


@pytest.mark.parametrize(
    ("status", "code", "subcode", "message"),
    [
        (400, 190, 463, "Session has expired"),
        (403, 200, None, "(#200) Requires pages_messaging permission"),
        (400, 10, 2018278, "(#10) Outside of allowed window"),
        (400, 131047, None, "Re-engagement message"),
        (400, 4, None, "Application request limit reached"),
        (400, 368, None, "Temporarily blocked for policies violations"),
        (400, 100, 2018001, "No matching user found"),
        (400, 133005, None, "Two step verification PIN Mismatch"),
        (400, 100, None, "Error validating client secret."),
        (400, 999999, None, "Something Meta has never said before"),
        (503, None, None, "Service unavailable"),
    ],
)
def test_no_explanation_shows_metas_codes_or_its_english(status, code, subcode, message):
    words = raised(status, envelope(code, message, subcode=subcode)).explain()

    assert words.endswith(".")
    assert "Meta error" not in words
    assert message not in words
    assert not any(str(number) in words for number in (code, subcode) if number)


def test_a_missing_permission_is_named_in_the_explanation():
    error = raised(403, envelope(200, "(#200) Requires pages_messaging permission"))

    assert error.explain() == (
        "Meta says the pages_messaging permission was not granted or was removed."
    )


AD_ACCOUNT_USAGE = json.dumps({"acc_id_util_pct": 100, "reset_time_duration": 90})


def _buc(minutes: float) -> str:
    return json.dumps(
        {
            "106700000000001": [
                {
                    "type": "messenger",
                    "call_count": 100,
                    "total_cputime": 12,
                    "total_time": 20,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Business-Use-Case-Usage": _buc(7)}, 420),
        ({"X-Business-Use-Case-Usage": _buc(0)}, errors.DEFAULT_RETRY_AFTER_SECONDS),
        (
            {"X-Ad-Account-Usage": AD_ACCOUNT_USAGE},
            90,
        ),
        # Percentages of the hourly allowance: no time to read.
        ({"X-App-Usage": '{"call_count": 100, "total_cputime": 35, "total_time": 41}'}, 60),
        ({"Retry-After": "30", "X-Business-Use-Case-Usage": _buc(7)}, 30),
        ({"X-Business-Use-Case-Usage": "not json"}, 60),
    ],
)
def test_the_wait_comes_from_metas_usage_headers(headers, expected):
    exception = raised(400, envelope(80007, "(#80007) There have been too many messages"), headers)

    assert exception.retry_after == expected


def test_a_policy_block_waits_an_hour_unless_meta_says_how_long():
    blocked = envelope(368, "(#368) Temporarily blocked for policies violations")

    assert raised(400, blocked).retry_after == errors.POLICY_BLOCK_RETRY_AFTER_SECONDS
    assert raised(400, blocked, {"X-Business-Use-Case-Usage": _buc(15)}).retry_after == 900
