from __future__ import annotations

import base64
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from channels_meta import vault
from channels_meta.models import Channel
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-secret-page-token-ÿ"


def new_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def keys(settings):
    settings.TOKEN_ENCRYPTION_KEYS = {"k1": new_key()}
    return settings


def test_a_token_round_trips_and_is_not_stored_in_the_clear(keys, world):
    channel = make_channel(world.org, token=TOKEN)

    stored = Channel.objects.get(pk=channel.pk)
    assert stored.get_token() == TOKEN
    assert TOKEN not in stored.token_ciphertext
    assert stored.token_ciphertext.startswith("v1:k1:")


def test_each_encryption_uses_a_fresh_nonce(keys):
    assert vault.encrypt(TOKEN, channel_id=1) != vault.encrypt(TOKEN, channel_id=1)


def test_a_tampered_value_does_not_decrypt(keys):
    stored = vault.encrypt(TOKEN, channel_id=7)
    prefix, body = stored.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[15] ^= 1
    tampered = prefix + ":" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    with pytest.raises(vault.VaultError, match="failed authentication") as error:
        vault.decrypt(tampered, channel_id=7)
    assert TOKEN not in str(error.value)


def test_a_value_copied_to_another_channel_does_not_decrypt(keys, world):
    first = make_channel(world.org, external_id="1", token=TOKEN)
    second = make_channel(world.org, external_id="2", token="another-token")
    second.token_ciphertext = first.token_ciphertext
    second.save()

    with pytest.raises(vault.VaultError):
        Channel.objects.get(pk=second.pk).get_token()


def test_a_value_under_an_unknown_key_does_not_decrypt(keys):
    stored = vault.encrypt(TOKEN, channel_id=3)
    keys.TOKEN_ENCRYPTION_KEYS = {"k2": new_key()}

    with pytest.raises(vault.VaultError, match="unknown key 'k1'"):
        vault.decrypt(stored, channel_id=3)


@pytest.mark.parametrize("garbage", ["", "plain-token", "v1:k1:", "v1:k1:!!!", "v2:k1:abcd"])
def test_values_not_in_the_vault_format_raise_and_never_come_back_raw(keys, garbage):
    with pytest.raises(vault.VaultError, match=r"^The stored token is not in the vault's format"):
        vault.decrypt(garbage, channel_id=1)


def test_the_newest_key_encrypts_and_older_keys_still_decrypt(keys, world):
    channel = make_channel(world.org, token=TOKEN)
    keys.TOKEN_ENCRYPTION_KEYS = {"k1": keys.TOKEN_ENCRYPTION_KEYS["k1"], "k2": new_key()}

    assert Channel.objects.get(pk=channel.pk).get_token() == TOKEN
    assert vault.encrypt(TOKEN, channel_id=channel.pk).startswith("v1:k2:")


def test_rotation_re_encrypts_every_token_under_the_newest_key_and_can_run_again(keys, world):
    channels = [make_channel(world.org, external_id=str(n), token=f"tok-{n}") for n in range(3)]
    keys.TOKEN_ENCRYPTION_KEYS = {"k1": keys.TOKEN_ENCRYPTION_KEYS["k1"], "k2": new_key()}
    out = StringIO()

    call_command("rotate_token_keys", stdout=out)
    assert "Re-encrypted 3 token(s) under key 'k2'; 0 already used it" in out.getvalue()
    keys.TOKEN_ENCRYPTION_KEYS = {"k2": keys.TOKEN_ENCRYPTION_KEYS["k2"]}
    for number, channel in enumerate(channels):
        assert Channel.objects.get(pk=channel.pk).get_token() == f"tok-{number}"

    again = StringIO()
    call_command("rotate_token_keys", stdout=again)
    assert "Re-encrypted 0 token(s) under key 'k2'; 3 already used it" in again.getvalue()


def test_rotation_reports_tokens_it_cannot_decrypt_and_rotates_the_rest(keys, world):
    make_channel(world.org, external_id="1", token="good")
    broken = make_channel(world.org, external_id="2", token="bad")
    Channel.objects.filter(pk=broken.pk).update(token_ciphertext="v1:gone:AAAA")
    keys.TOKEN_ENCRYPTION_KEYS = {"k1": keys.TOKEN_ENCRYPTION_KEYS["k1"], "k2": new_key()}

    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_token_keys", stdout=StringIO())
    assert Channel.objects.get(external_id="1").token_ciphertext.startswith("v1:k2:")


def test_a_pin_is_bound_to_the_sign_in_it_was_entered_for(keys):
    sealed = vault.encrypt_oauth_pin("246810", state="state-one")

    assert "246810" not in sealed
    assert vault.decrypt_oauth_pin(sealed, state="state-one") == "246810"
    with pytest.raises(vault.VaultError):
        vault.decrypt_oauth_pin(sealed, state="state-two")
    with pytest.raises(vault.VaultError):
        vault.decrypt(sealed, channel_id=1)


def test_a_channel_token_does_not_open_as_a_pin(keys):
    with pytest.raises(vault.VaultError):
        vault.decrypt_oauth_pin(vault.encrypt(TOKEN, channel_id=1), state="1")
