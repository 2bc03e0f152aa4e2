"""The token vault: AES-256-GCM with a versioned key ring.

A stored token reads `v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The nonce is 96
random bits per encryption. The associated data binds the value to one channel row, so a
value copied onto another channel fails to decrypt. Keys come from TOKEN_ENCRYPTION_KEYS;
the last one encrypts, all of them decrypt. Nothing here ever returns or mentions a
plaintext on failure.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

FORMAT_VERSION = "v1"
NONCE_BYTES = 12


class VaultError(Exception):
    """A stored token could not be decrypted: tampered, moved, or its key is unknown."""


def _key_ring() -> dict[str, bytes]:
    keys = settings.TOKEN_ENCRYPTION_KEYS
    if not keys:
        raise VaultError("No token encryption keys are configured (TOKEN_ENCRYPTION_KEYS).")
    return keys


def current_key_id() -> str:
    return list(_key_ring())[-1]


def _associated_data(channel_id: int, key_id: str) -> bytes:
    return f"padu:channel-token:{channel_id}:{key_id}".encode()


def encrypt(plaintext: str, *, channel_id: int) -> str:
    """Encrypt `plaintext` for the channel with this id under the newest key."""
    if not channel_id:
        raise VaultError("A token can only be stored on a saved channel.")
    key_id = current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key_ring()[key_id]).encrypt(
        nonce, plaintext.encode(), _associated_data(channel_id, key_id)
    )
    encoded = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{FORMAT_VERSION}:{key_id}:{encoded}"


def _split(stored: str) -> tuple[str, bytes]:
    version, _, rest = stored.partition(":")
    key_id, _, encoded = rest.partition(":")
    if version != FORMAT_VERSION or not key_id or not encoded:
        raise VaultError("The stored token is not in the vault's format.")
    try:
        blob = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise VaultError("The stored token is not in the vault's format.") from None
    return key_id, blob


def decrypt(stored: str, *, channel_id: int) -> str:
    """The plaintext token, or VaultError; never the stored value itself."""
    key_id, blob = _split(stored)
    key = _key_ring().get(key_id)
    if key is None:
        raise VaultError(f"The stored token was encrypted with an unknown key '{key_id}'.")
    nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        plaintext = AESGCM(key).decrypt(nonce, sealed, _associated_data(channel_id, key_id))
    except (InvalidTag, ValueError):
        raise VaultError(
            "The stored token failed authentication: it was altered or belongs to another channel."
        ) from None
    return plaintext.decode()
