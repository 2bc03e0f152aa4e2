"""How the REST API knows its caller: an organisation's API key (`Authorization: Bearer
padu_…`) or the browser's session, and how often a key may call."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from accounts import throttle
from accounts.api_keys import api_key_for_secret, api_key_record_use
from accounts.models import ApiKey, User
from accounts.net import client_ip


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer padu_…`: the request acts as the key's creator, in the
    key's organisation only (see `accounts.tenancy.TenantAPIView`)."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != b"bearer":
            return None
        try:
            (secret,) = (word.decode("ascii") for word in words[1:])
        except (ValueError, UnicodeError):
            raise AuthenticationFailed(
                _("Send the key as one word: Authorization: Bearer padu_…")
            ) from None
        api_key = api_key_for_secret(secret)
        if api_key is None or not api_key.membership.user.is_active:
            raise AuthenticationFailed(_("This API key is not valid, or it was revoked."))
        api_key_record_use(api_key=api_key, ip=client_ip(request))
        return api_key.membership.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyRateThrottle(BaseThrottle):
    """API_KEY_RATE_LIMIT requests per key per minute (a fixed window shared by every
    web process through the cache); then 429 with Retry-After until the next minute."""

    window_seconds = 60

    def allow_request(self, request: Request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        now = time.time()
        window = int(now // self.window_seconds)
        self.seconds_left = self.window_seconds - now % self.window_seconds
        return throttle.hit(
            "api-key",
            f"{request.auth.pk}:{window}",
            limit=settings.API_KEY_RATE_LIMIT,
            window_seconds=self.window_seconds,
        )

    def wait(self) -> float:
        return math.ceil(self.seconds_left)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """How the API's schema names the key: an HTTP bearer token."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organisation's API key, `padu_…`, from Settings → API keys.",
        }
