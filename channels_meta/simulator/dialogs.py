"""The login dialogs a business owner sees at Meta: pick what to share, or cancel."""

from __future__ import annotations

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
    asks_for_whatsapp = "whatsapp" in request.query.get("scope", "") + request.query.get(
        "extras", ""
    )
    return "whatsapp" if asks_for_whatsapp else "facebook"


def _choices(state: SimulatorState, flow: str) -> list[tuple[str, str]]:
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
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(request.query.get(name, ""))}">'
        for name in ("redirect_uri", "state", "scope", "config_id")
    )
    options = "".join(
        f'<li><label><input type="checkbox" name="asset" value="{escape(asset_id)}" checked> '
        f"{escape(label)}</label></li>"
        for asset_id, label in _choices(state, flow)
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


def confirm(state: SimulatorState, request: Request) -> Response:
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
