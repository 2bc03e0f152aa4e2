"""The login dialogs a business owner sees at Meta: pick what to share, or cancel."""

from __future__ import annotations

import json
from html import escape
from urllib.parse import urlencode

from channels_meta.simulator.http import Request, Response, html, redirect
from channels_meta.simulator.state import SimulatorState

FLOWS = {
    "facebook": "Facebook Login for Business: choose the Pages (and their Instagram accounts)",
    "instagram": "Instagram Login: choose the Instagram professional account",
    "whatsapp": "WhatsApp Embedded Signup: choose the WhatsApp Business Account",
}


def _flow_of(request: Request) -> str:
    if request.path.startswith("/oauth/authorize"):
        return "instagram"
    extras = request.query.get("extras", "")
    asks_for_whatsapp = "whatsapp" in request.query.get("scope", "") + extras
    # Embedded Signup through the SDK names no scope (the configuration holds them); it
    # asks for session info instead.
    return "whatsapp" if asks_for_whatsapp or "sessionInfoVersion" in extras else "facebook"


def _sdk_mode(request: Request) -> bool:
    """The JavaScript SDK's popup (FB.login), rather than a redirect to the dialog."""
    return bool(request.query.get("sdk") or request.form.get("sdk"))


def _choices(state: SimulatorState, flow: str, sdk: bool = False) -> list[tuple[str, str]]:
    if flow == "whatsapp" and sdk:
        # Embedded Signup v4: the business picks its account and one number.
        return [
            (f"{phone.waba_id}:{phone.id}", f"{phone.display_phone_number} ({phone.verified_name})")
            for phone in state.phone_numbers.values()
        ]
    if flow == "facebook":
        return [(page.id, page.name) for page in state.pages.values()]
    if flow == "instagram":
        return [
            (account.id, f"@{account.username}") for account in state.instagram_accounts.values()
        ]
    return [(waba.id, waba.name) for waba in state.wabas.values()]


def show(state: SimulatorState, request: Request) -> Response:
    flow = _flow_of(request)
    app_id = state.instagram_app_id if flow == "instagram" else state.app_id
    if request.query.get("client_id") != app_id:
        return html("<h1>Invalid App ID</h1><p>The client_id is not this app's.</p>", 400)
    sdk = _sdk_mode(request)
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(request.query.get(name, ""))}">'
        for name in ("redirect_uri", "state", "scope", "config_id", "sdk")
    )
    kind = "radio" if sdk and flow == "whatsapp" else "checkbox"
    options = "".join(
        f'<li><label><input type="{kind}" name="asset" value="{escape(asset_id)}"'
        f"{' checked' if kind == 'checkbox' or index == 0 else ''}> {escape(label)}</label></li>"
        for index, (asset_id, label) in enumerate(_choices(state, flow, sdk))
    )
    return html(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Log in with Meta (simulator)</title></head><body>
<h1>Meta simulator</h1><p>{escape(FLOWS[flow])}</p>
<form method="post" action="/dialog/confirm">{hidden}
<input type="hidden" name="flow" value="{flow}"><ul>{options}</ul>
<button type="submit" name="decision" value="allow">Continue</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form></body></html>"""
    )


def _to_opener(*messages: object) -> Response:
    """The popup's last page: it posts `messages` to the page that opened it (as Meta's
    popup does; the second is the SDK's answer to FB.login) and closes."""
    posts = "".join(
        f"window.opener.postMessage({json.dumps(message)}, '*');" for message in messages
    )
    return html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Done</title>'
        f"</head><body><p>You can close this window.</p><script>{posts}window.close();</script>"
        "</body></html>"
    )


def _sdk_confirm(state: SimulatorState, request: Request) -> Response:
    """Embedded Signup in the SDK's popup: the session info message (a JSON string, as
    Meta sends it) with the account and number chosen, then the code, which was issued
    without a redirect URI."""
    if request.form.get("decision") != "allow":
        session = {"type": "WA_EMBEDDED_SIGNUP", "event": "CANCEL", "version": "3"}
        session["data"] = {"current_step": "PHONE_NUMBER_SETUP"}
        return _to_opener(json.dumps(session), {"sdk_auth": {"authResponse": None}})
    waba_id, _, phone_number_id = request.form.get("asset", "").partition(":")
    user = next(iter(state.users.values()))
    with state.lock:
        code = state.new_code(
            user_id=user.id,
            flow="whatsapp",
            assets=[waba_id],
            redirect_uri="",
            scopes=["whatsapp_business_management", "whatsapp_business_messaging"],
        )
    session = {
        "type": "WA_EMBEDDED_SIGNUP",
        "event": "FINISH",
        "version": "3",
        "data": {"phone_number_id": phone_number_id, "waba_id": waba_id},
    }
    auth = {"authResponse": {"code": code, "userID": user.id}, "status": "connected"}
    return _to_opener(json.dumps(session), {"sdk_auth": auth})


def confirm(state: SimulatorState, request: Request) -> Response:
    if _sdk_mode(request):
        return _sdk_confirm(state, request)
    redirect_uri = request.form.get("redirect_uri", "")
    answer = {"state": request.form.get("state", "")}
    if request.form.get("decision") != "allow":
        answer.update(
            error="access_denied",
            error_code="200",
            error_description="Permissions error",
            error_reason="user_denied",
        )
        return redirect(f"{redirect_uri}?{urlencode(answer)}")
    user = next(iter(state.users.values()))
    with state.lock:
        answer["code"] = state.new_code(
            user_id=user.id,
            flow=request.form.get("flow", "facebook"),
            assets=request.form_lists.get("asset", []),
            redirect_uri=redirect_uri,
            scopes=[s for s in request.form.get("scope", "").split(",") if s],
        )
    return redirect(f"{redirect_uri}?{urlencode(answer)}")


SDK_SCRIPT = """// The Meta simulator standing in for Meta's JavaScript SDK: FB.init and FB.login
// (Embedded Signup's popup) only.
(function () {
  var origin = new URL(document.currentScript.src).origin;
  var options = {};
  window.FB = {
    init: function (given) { options = given || {}; },
    login: function (callback, login) {
      login = login || {};
      var query = new URLSearchParams({
        client_id: options.appId || "",
        config_id: login.config_id || "",
        response_type: login.response_type || "",
        override_default_response_type: String(!!login.override_default_response_type),
        extras: JSON.stringify(login.extras || {}),
        display: "popup",
        sdk: "joey"
      });
      var popup = window.open(
        origin + "/" + (options.version || "v25.0") + "/dialog/oauth?" + query,
        "meta_login", "width=600,height=700"
      );
      window.addEventListener("message", function answer(event) {
        if (event.origin !== origin || event.source !== popup) { return; }
        var data = event.data;
        if (!data || typeof data !== "object" || !("sdk_auth" in data)) { return; }
        window.removeEventListener("message", answer);
        callback(event.data.sdk_auth);
      });
    }
  };
})();
"""


def sdk(state: SimulatorState, request: Request) -> Response:
    """GET /en_US/sdk.js: a stand-in for Meta's JavaScript SDK (FB.init, FB.login)."""
    return Response(200, SDK_SCRIPT.encode(), content_type="text/javascript")
