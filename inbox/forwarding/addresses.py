"""Which URLs events may be forwarded to: https (http too outside production), a host
name or address that resolves only to public addresses (no loopback, private, link-local
or reserved ones: a forwarding URL must not reach into Padu's own network), no
credentials in the URL. Checked when the URL is saved and again before each delivery."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(ValueError):
    """A URL events may not go to; the message says why, in words."""


def _addresses(host: str, port: int) -> set[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(
            _("The host name %(host)s does not resolve.") % {"host": host}
        ) from None
    return {info[4][0] for info in found}


def check_url(url: str) -> None:
    """Raise AddressRefused unless events may be forwarded to `url` now."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AddressRefused(_("That is not a URL.")) from None
    allowed_schemes = {"https"} if settings.PRODUCTION else {"https", "http"}
    if parts.scheme not in allowed_schemes:
        raise AddressRefused(_("Events are forwarded to https URLs only."))
    if not parts.hostname:
        raise AddressRefused(_("That is not a URL."))
    if parts.username or parts.password:
        raise AddressRefused(_("Put no user name or password in the URL; verify the signature."))
    if settings.FORWARDING_ALLOW_PRIVATE_NETWORKS:
        return
    for address in _addresses(parts.hostname, port):
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise AddressRefused(
                _(
                    "%(host)s is a private, loopback or link-local address; events go only to "
                    "public addresses."
                )
                % {"host": parts.hostname}
            )
