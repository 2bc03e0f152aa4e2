"""Second factors for tests: codes as an authenticator app would show them, and platform
staff signed in with a verified second factor."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def next_code(device: TOTPDevice) -> str:
    """A code from the authenticator app that the device has not accepted yet: the
    current one, or a later one when the current one is used (no code works twice)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.t() <= device.last_t:
        totp.drift += device.last_t + 1 - totp.t()
    return f"{totp.token():0{device.digits}d}"


def sign_in_staff(client, email: str = "staff@padu.example") -> User:
    """Platform staff signed in with a second factor, as the admin requires."""
    staff = User.objects.create_superuser(email=email)
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app")
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return staff
