"""Customers' profiles as Meta's User Profile APIs show them: to a business the customer
wrote to, with Meta's errors otherwise; and their pictures, served by the simulator.

Every Messenger and Instagram customer has a made-up profile, the same for the same id
after a restart; `/_sim/message` and `/_sim/comment` may give them their own name,
username or picture, or none at all (`no_profile`).
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok
from channels_meta.simulator.oauth import valid_token
from channels_meta.simulator.sending import check_rate
from channels_meta.simulator.state import CustomerProfile, SimulatorState

if TYPE_CHECKING:
    from channels_meta.simulator.app import MetaSimulator

NAMES = [
    "Ayşe Yılmaz",
    "Mehmet Demir",
    "مریم رضایی",
    "Олег Смирнов",
    "प्रिया शर्मा",
    "João Silva",
    "Fatima Zahra",
    "Emily Clarke",
    "سارا احمدی",
    "Zeynep Kaya",
]
USERNAMES = [
    "ayse.yilmaz",
    "mehmet_demir",
    "maryam.rezaei",
    "oleg.smirnov",
    "priya_sharma",
    "joao.silva",
    "fatima.zahra",
    "emily_clarke",
    "sara.ahmadi",
    "zeynep.kaya",
]
# The fields each User Profile API knows (Messenger's by PSID, Instagram's by IGSID).
FIELDS = {
    "messenger": frozenset({"id", "name", "first_name", "last_name", "profile_pic"}),
    "instagram": frozenset(
        {
            "id",
            "name",
            "username",
            "profile_pic",
            "follower_count",
            "is_user_follow_business",
            "is_business_follow_user",
            "is_verified_user",
        }
    ),
}
PICTURE_PATH = "/_sim/pictures/{customer_id}.png"


def _number(customer_id: str) -> int:
    return zlib.crc32(customer_id.encode())


def customer_note(state: SimulatorState, customer_id: str, body: dict) -> None:
    """Keep what the customer's control request says about their profile: `name`,
    `username`, `picture_url`, or `no_profile` (Meta shows none)."""
    known = state.profiles.get(customer_id) or CustomerProfile(id=customer_id)
    changed = CustomerProfile(
        id=customer_id,
        name=str(body.get("name") or known.name),
        username=str(body.get("username") or known.username),
        picture_url=str(body.get("picture_url") or known.picture_url),
        available=known.available and not body.get("no_profile"),
    )
    if changed != CustomerProfile(id=customer_id):
        state.profiles[customer_id] = changed


def username_of(state: SimulatorState, customer_id: str) -> str:
    own = state.profiles.get(customer_id)
    if own is not None and own.username:
        return own.username
    return f"{USERNAMES[_number(customer_id) % len(USERNAMES)]}_{customer_id[-4:]}"


def profile_of(state: SimulatorState, customer_id: str, base_url: str) -> dict:
    """Everything Meta knows of a customer's profile."""
    own = state.profiles.get(customer_id) or CustomerProfile(id=customer_id)
    name = own.name or NAMES[_number(customer_id) % len(NAMES)]
    first, _space, last = name.partition(" ")
    return {
        "id": customer_id,
        "name": name,
        "first_name": first,
        "last_name": last,
        "username": username_of(state, customer_id),
        "profile_pic": own.picture_url or base_url + PICTURE_PATH.format(customer_id=customer_id),
        "follower_count": _number(customer_id) % 5000,
        "is_user_follow_business": _number(customer_id) % 2 == 0,
        "is_business_follow_user": False,
        "is_verified_user": False,
    }


def _unknown(object_id: str) -> GraphFault:
    return GraphFault(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def user_profile(sim: MetaSimulator, request: Request, customer_id: str) -> Response:
    """`GET /{PSID or IGSID}?fields=...` with the token of an account the customer wrote
    to. A customer who only commented has not consented yet (230); one Padu's token
    cannot see is unknown (100/33)."""
    state = sim.state
    with state.lock:
        assets = state.assets_of(valid_token(state, request.token))
        wrote_to = sorted(a for a in assets if (a, customer_id) in state.last_inbound)
        if not wrote_to:
            if any(
                comment.from_id == customer_id and comment.instagram_id in assets
                for comment in state.comments.values()
            ):
                raise GraphFault(230, "(#230) User consent is required to access user profile")
            raise _unknown(customer_id)
        business_id = wrote_to[0]
        kind = "messenger" if business_id in state.pages else "instagram"
        check_rate(sim, kind, business_id)
        own = state.profiles.get(customer_id)
        if own is not None and not own.available:
            if kind == "messenger":
                raise GraphFault(100, "(#100) No profile available for this user.", subcode=2018218)
            raise _unknown(customer_id)
        fields = [f for f in request.param("fields", "id").split(",") if f]
        unknown = [f for f in fields if f not in FIELDS[kind]]
        if unknown:
            raise invalid_parameter(
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (User)"
            )
        profile = profile_of(state, customer_id, request.base_url)
    return ok({field: profile[field] for field in ["id", *fields]})


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def picture(request: Request, customer_id: str) -> Response:
    """A customer's profile picture: a square of a colour of their own, as a PNG."""
    size = 48
    number = _number(customer_id)
    colour = bytes((64 + number % 160, 64 + (number >> 8) % 160, 64 + (number >> 16) % 160))
    rows = b"".join(b"\x00" + colour * size for _ in range(size))
    body = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )
    return Response(200, body, content_type="image/png")
