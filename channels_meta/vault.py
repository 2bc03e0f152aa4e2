"""The token vault: AES-256-GCM with a versioned key ring.

A stored value reads `v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The nonce is 96
random bits per encryption. The associated data binds the value to its purpose: a
channel's token to that channel row, so a value copied onto another channel fails to
decrypt; a WhatsApp PIN waiting for Meta's dialog to the OAuth state it was entered for.
Keys come from TOKEN_ENCRYPTION_KEYS; the last one encrypts, all of them decrypt. Nothing
here ever returns or mentions a plaintext on failure.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

FORMAT_VERSION = "v1"
NONCE_BYTES = 12


class VaultError(Exception):
    """A stored value could not be decrypted: tampered, moved, or its key is unknown.
    `key_id` names the key it was stored under, for the operator's eyes only."""

    def __init__(self, message: str, *, key_id: str = "") -> None:
        super().__init__(message)
        self.key_id = key_id


def _key_ring() -> dict[str, bytes]:
    keys = settings.TOKEN_ENCRYPTION_KEYS
    if not keys:
        raise VaultError("No token encryption keys are configured (TOKEN_ENCRYPTION_KEYS).")
    return keys


def current_key_id() -> str:
    return list(_key_ring())[-1]


def _associated_data(purpose: str, key_id: str) -> bytes:
    return f"padu:{purpose}:{key_id}".encode()


def _channel_token(channel_id: int) -> str:
    if not channel_id:
        raise VaultError("A token can only be stored on a saved channel.")
    return f"channel-token:{channel_id}"


def _oauth_pin(state: str) -> str:
    if not state:
        raise VaultError("A PIN can only be kept for a started sign-in with Meta.")
    return f"oauth-pin:{state}"


@sensitive_variables()
def _seal(plaintext: str, purpose: str) -> str:
    key_id = current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key_ring()[key_id]).encrypt(
        nonce, plaintext.encode(), _associated_data(purpose, key_id)
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


@sensitive_variables()
def _open(stored: str, purpose: str) -> str:
    key_id, blob = _split(stored)
    key = _key_ring().get(key_id)
    if key is None:
        raise VaultError(
            f"The stored token was encrypted with an unknown key '{key_id}'.", key_id=key_id
        )
    nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        plaintext = AESGCM(key).decrypt(nonce, sealed, _associated_data(purpose, key_id))
    except (InvalidTag, ValueError):
        raise VaultError(
            "The stored token failed authentication: it was altered or belongs to another channel.",
            key_id=key_id,
        ) from None
    return plaintext.decode()


@sensitive_variables()
def encrypt(plaintext: str, *, channel_id: int) -> str:
    """Encrypt `plaintext` for the channel with this id under the newest key."""
    return _seal(plaintext, _channel_token(channel_id))


@sensitive_variables()
def decrypt(stored: str, *, channel_id: int) -> str:
    """The plaintext token, or VaultError; never the stored value itself."""
    return _open(stored, _channel_token(channel_id))


@sensitive_variables()
def encrypt_oauth_pin(pin: str, *, state: str) -> str:
    """Encrypt a WhatsApp PIN for the sign-in with Meta started with `state`."""
    return _seal(pin, _oauth_pin(state))


@sensitive_variables()
def decrypt_oauth_pin(stored: str, *, state: str) -> str:
    """The PIN kept for `state`, or VaultError (it does not open for any other state)."""
    return _open(stored, _oauth_pin(state))


def _endpoint_secret(endpoint_id: int) -> str:
    if not endpoint_id:
        raise VaultError("A signing secret can only be stored on a saved endpoint.")
    return f"endpoint-secret:{endpoint_id}"


@sensitive_variables()
def encrypt_signing_secret(secret: str, *, endpoint_id: int) -> str:
    """Encrypt an event forwarding endpoint's signing secret under the newest key."""
    return _seal(secret, _endpoint_secret(endpoint_id))


@sensitive_variables()
def decrypt_signing_secret(stored: str, *, endpoint_id: int) -> str:
    """The endpoint's signing secret, or VaultError (it opens for that endpoint only)."""
    return _open(stored, _endpoint_secret(endpoint_id))
