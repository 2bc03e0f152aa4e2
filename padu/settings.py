"""Padu's settings, read from the environment (and an optional `.env` file).

With nothing set Padu runs on an embedded default: SQLite and a Celery broker on the
file system, both under `var/`. Every setting is described in the README.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
from datetime import date
from email.utils import parseaddr
from pathlib import Path

import environ
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Where the embedded default keeps its SQLite database, broker queue and cache.
VAR_DIR = Path(env.str("PADU_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def secret(name: str, default: str = "") -> str:
    """Read a secret from NAME, or from the file named by NAME_FILE."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


PADU_ENV = env.str("PADU_ENV", default="development")
if PADU_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("PADU_ENV must be 'development' or 'production'.")
PRODUCTION = PADU_ENV == "production"

DEVELOPMENT_SECRET_KEY = "padu-development-only-secret-key-never-use-in-production"  # noqa: S105
SECRET_KEY = secret("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")


def parse_token_keys(raw: str) -> dict[str, bytes]:
    """Parse `TOKEN_ENCRYPTION_KEYS`: comma-separated `key_id:base64(32 bytes)`, newest last."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.isalnum():
            raise ImproperlyConfigured(
                "TOKEN_ENCRYPTION_KEYS entries must look like 'key_id:base64key' "
                "with an alphanumeric key id."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            key = b""
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"TOKEN_ENCRYPTION_KEYS key '{key_id}' must be 32 bytes, base64-encoded."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"TOKEN_ENCRYPTION_KEYS repeats the key id '{key_id}'.")
        keys[key_id] = key
    return keys


# A fixed key so development and demo data stay readable across restarts; production
# refuses to start without its own keys, and with this one among them.
DEVELOPMENT_TOKEN_KEY = b"padu-development-token-key-32byt"
DEVELOPMENT_TOKEN_KEYS = "dev1:" + base64.b64encode(DEVELOPMENT_TOKEN_KEY).decode()
TOKEN_ENCRYPTION_KEYS = parse_token_keys(
    secret("TOKEN_ENCRYPTION_KEYS", default="" if PRODUCTION else DEVELOPMENT_TOKEN_KEYS)
)

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off (DEBUG=false)")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must list the host names Padu is served on")
    if not TOKEN_ENCRYPTION_KEYS:
        problems.append("TOKEN_ENCRYPTION_KEYS must hold at least one key")
    if DEVELOPMENT_TOKEN_KEY in TOKEN_ENCRYPTION_KEYS.values():
        problems.append("TOKEN_ENCRYPTION_KEYS must not contain the public development key")
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with PADU_ENV=production: " + "; ".join(problems) + "."
        )

INSTALLED_APPS = [
    "accounts.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "channels_meta",
    "inbox",
    "privacy",
    # The project's own commands (the demo), which stand on every app.
    "padu",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "privacy.middleware.AccessLogMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "padu.urls"
WSGI_APPLICATION = "padu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organizations",
                "channels_meta.context_processors.channel_health",
                "privacy.context_processors.policy_notice",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'padu.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write at the same time in the embedded default.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Covering indexes' extra columns serve PostgreSQL; SQLite builds the index without.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "padu",
        }
    }
else:
    # File-based so that every process (web, worker) sees the same login throttles.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Login throttling: failures counted per e-mail address and per client address.
LOGIN_FAILURE_LIMIT_PER_USERNAME = 5
LOGIN_FAILURE_LIMIT_PER_IP = 20
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
LOGIN_LOCKOUT_SECONDS = 15 * 60
# How many proxies in front of Padu append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INVITATION_VALID_DAYS = 7
EMAIL_CONFIRMATION_VALID_DAYS = 3
# Budgets for what sends e-mail to an address someone else may have typed.
INVITATIONS_PER_MEMBER_PER_HOUR = 20
INVITATIONS_PER_ORGANIZATION_PER_DAY = 100
SIGN_UPS_PER_IP_PER_HOUR = 10
SIGN_UPS_PER_ADDRESS_PER_HOUR = 3
PASSWORD_RESETS_PER_IP_PER_HOUR = 10
PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = 3
# Where exports are written before they are stored (with the media), on local disk.
EXPORTS_WORK_DIR = Path(env.str("EXPORTS_WORK_DIR", default=str(VAR_DIR / "exports")))
# Requests a business's customers may send from its public privacy page.
DATA_REQUESTS_PER_IP_PER_DAY = 10
DATA_REQUESTS_PER_ADDRESS_PER_DAY = 3
DATA_REQUESTS_PER_ADDRESS_EVERYWHERE_PER_DAY = 6

# Two-factor authentication (TOTP apps, with single-use recovery codes).
OTP_TOTP_ISSUER = "Padu"
# Staff editing a device in Django admin never see its secret or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# How long the code step waits after the password step, and how many wrong codes it takes.
TWO_FACTOR_PENDING_SECONDS = 5 * 60
TWO_FACTOR_MAX_ATTEMPTS = 5
TWO_FACTOR_RECOVERY_CODES = 10

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("tr", _("Turkish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves the files where they are, DEBUG on or off (the
# demo runs with it off); production serves what collectstatic gathered.
WHITENOISE_USE_FINDERS = not PRODUCTION


def media_storage() -> dict:
    """Where customers' attachments are kept: files under `var/media` (readable by Padu's
    user only), or an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set (the
    optional `s3` extra, django-storages). Neither has a public URL: files are served
    only by Padu's authorised views."""
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(VAR_DIR / "media"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    if importlib.util.find_spec("storages") is None:
        raise ImproperlyConfigured(
            "AWS_STORAGE_BUCKET_NAME is set but django-storages is not installed: "
            "install Padu with the s3 extra (pip install 'padu[s3]')."
        )
    options: dict = {
        "bucket_name": bucket,
        # Private objects, never overwritten, and no public links.
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    for name, option in (
        ("AWS_S3_ENDPOINT_URL", "endpoint_url"),
        ("AWS_S3_REGION_NAME", "region_name"),
        ("AWS_LOCATION", "location"),
        ("AWS_S3_ADDRESSING_STYLE", "addressing_style"),
    ):
        value = env.str(name, default="")
        if value:
            options[option] = value
    for name, option in (
        ("AWS_ACCESS_KEY_ID", "access_key"),
        ("AWS_SECRET_ACCESS_KEY", "secret_key"),
    ):
        value = secret(name)
        if value:
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    "default": media_storage(),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Padu <padu@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The privacy policy's version (the date it took effect): a new one is announced to every
# user by e-mail and in the app. Its pages name the contact and the sub-processors.
PRIVACY_POLICY_VERSION = env.str("PRIVACY_POLICY_VERSION", default="2026-11-24")
try:
    date.fromisoformat(PRIVACY_POLICY_VERSION)
except ValueError:
    raise ImproperlyConfigured("PRIVACY_POLICY_VERSION must be a date: YYYY-MM-DD.") from None
PRIVACY_CONTACT_EMAIL = env.str(
    "PRIVACY_CONTACT_EMAIL", default=parseaddr(DEFAULT_FROM_EMAIL)[1] or "padu@localhost"
)
SUB_PROCESSORS = env.json(
    "SUB_PROCESSORS",
    default=[
        {
            "name": "Meta Platforms Ireland Ltd.",
            "purpose": "Carries messages to and from Instagram, Messenger and WhatsApp",
            "location": "Ireland, United States",
        }
    ],
)

# Sessions are read from the cache (written through to the database), so that a page
# does not begin with a database query for the session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
# Messages shown after a redirect live in the session too: no cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything comes from Padu's own origin; no inline script or style, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
    }
}
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a caller with no credentials is told to send a key (401).
        "accounts.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api_auth.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "padu.api.AutoSchema",
    "EXCEPTION_HANDLER": "padu.api.exception_handler",
}
# Event forwarding: how long an endpoint may take to answer, how long undelivered events
# are retried (then the endpoint is turned off), and whether endpoints may be on private
# networks (never in production: a forwarding URL must not reach Padu's own network).
FORWARDING_TIMEOUT_SECONDS = env.float("FORWARDING_TIMEOUT_SECONDS", default=5.0)
FORWARDING_GIVE_UP_DAYS = 3
FORWARDING_ALLOW_PRIVATE_NETWORKS = not PRODUCTION and env.bool(
    "FORWARDING_ALLOW_PRIVATE_NETWORKS", default=False
)
# Requests per minute that one API key may make; then 429 with Retry-After.
API_KEY_RATE_LIMIT = env.int("API_KEY_RATE_LIMIT", default=600)
SPECTACULAR_SETTINGS = {
    "TITLE": "Padu API",
    "DESCRIPTION": (
        "Read and answer an organisation's conversations. Authenticate with an API key "
        "(`Authorization: Bearer padu_…`), made by an owner or admin under Settings → API keys."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "inbox.models.MessageStatus",
        "ConversationStatusEnum": "inbox.models.ConversationStatus",
        "SendModeEnum": "inbox.models.SendMode",
        "ChannelStatusEnum": "channels_meta.models.ChannelStatus",
        "TemplateStatusEnum": "channels_meta.models.TemplateStatus",
        "QualityRatingEnum": "channels_meta.models.QualityRating",
        "DataRequestStatusEnum": "privacy.models.RequestStatus",
    },
}

# Meta. Padu talks to Meta only through channels_meta.graph; in the demo and in tests
# these URLs point at the Meta simulator.
META_APP_ID = env.str("META_APP_ID", default="")
META_APP_SECRET = secret("META_APP_SECRET", default="")
META_VERIFY_TOKEN = secret("META_VERIFY_TOKEN", default="")
META_GRAPH_VERSION = env.str("META_GRAPH_VERSION", default="v25.0")
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com").rstrip("/")
META_INSTAGRAM_GRAPH_URL = env.str(
    "META_INSTAGRAM_GRAPH_URL", default="https://graph.instagram.com"
).rstrip("/")
META_INSTAGRAM_API_URL = env.str(
    "META_INSTAGRAM_API_URL", default="https://api.instagram.com"
).rstrip("/")
# Meta batches up to 1000 updates in one delivery; larger bodies are refused with 413.
WEBHOOK_MAX_BODY_BYTES = 4 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES
# Stored deliveries are handed to workers in batches gathered over this long (0: one
# task per delivery, at once).
WEBHOOK_ENQUEUE_BATCH_SECONDS = env.float("WEBHOOK_ENQUEUE_BATCH_SECONDS", default=0.02)
# Deliveries for an account no channel had yet are replayed when it is connected, if
# they are at most this many days old.
WEBHOOK_REPLAY_MAX_AGE_DAYS = env.int("WEBHOOK_REPLAY_MAX_AGE_DAYS", default=7)
META_HTTP_TIMEOUT_SECONDS = env.float("META_HTTP_TIMEOUT_SECONDS", default=10.0)
# Customers' profile pictures are kept only when Meta serves them over https from one of
# these hosts or a host under them (or from the Graph host itself, as the simulator does).
META_PROFILE_PICTURE_HOSTS = env.list(
    "META_PROFILE_PICTURE_HOSTS", default=["fbcdn.net", "fbsbx.com", "cdninstagram.com"]
)
# Where Meta serves attachments: WhatsApp's media URLs (lookaside.fbsbx.com) and the CDN
# links of Messenger and Instagram attachments. A name is an https host; `*.` takes its
# subdomains; a full origin (`http://127.0.0.1:8900`) admits the simulator in rehearsals.
# Padu downloads attachments from these hosts only.
META_MEDIA_HOSTS = env.list(
    "META_MEDIA_HOSTS",
    default=["lookaside.fbsbx.com", "cdn.fbsbx.com", "*.fbcdn.net", "*.cdninstagram.com"],
)
# Attachments larger than this are not kept (the message says why); images with more
# pixels than MEDIA_MAX_IMAGE_PIXELS neither.
MEDIA_MAX_BYTES = env.int("MEDIA_MAX_BYTES", default=25 * 1024 * 1024)
MEDIA_MAX_IMAGE_PIXELS = env.int("MEDIA_MAX_IMAGE_PIXELS", default=50_000_000)
# The longest side of an image's thumbnail, in pixels.
MEDIA_THUMBNAIL_PIXELS = 320
META_DIALOG_URL = env.str("META_DIALOG_URL", default="https://www.facebook.com").rstrip("/")
META_INSTAGRAM_AUTHORIZE_URL = env.str(
    "META_INSTAGRAM_AUTHORIZE_URL", default="https://www.instagram.com/oauth/authorize"
)
# Facebook Login for Business configuration ids (from the Meta app dashboard).
META_LOGIN_CONFIG_ID = env.str("META_LOGIN_CONFIG_ID", default="")
META_WHATSAPP_CONFIG_ID = env.str("META_WHATSAPP_CONFIG_ID", default="")
# A Meta app sets up Instagram with either Facebook Login (Page-linked accounts) or
# Instagram Login, not both: true offers Instagram Login for Instagram channels.
META_INSTAGRAM_LOGIN = env.bool("META_INSTAGRAM_LOGIN", default=False)
# Instagram Login belongs to the Instagram product of the Meta app, which has an app id
# and secret of its own (App Dashboard > Instagram > API setup with Instagram login):
# its dialog, code exchange and long-lived tokens use them, not the Facebook app's.
META_INSTAGRAM_APP_ID = env.str("META_INSTAGRAM_APP_ID", default="")
META_INSTAGRAM_APP_SECRET = secret("META_INSTAGRAM_APP_SECRET", default="")
# WhatsApp Embedded Signup runs in Meta's popup through Meta's JavaScript SDK, loaded from
# here on owners' and admins' channels page, only when META_WHATSAPP_CONFIG_ID is set.
META_JS_SDK_URL = env.str("META_JS_SDK_URL", default="https://connect.facebook.net/en_US/sdk.js")
if (
    PRODUCTION
    and META_INSTAGRAM_LOGIN
    and not (META_INSTAGRAM_APP_ID and META_INSTAGRAM_APP_SECRET)
):
    raise ImproperlyConfigured(
        "Refusing to start with PADU_ENV=production: META_INSTAGRAM_LOGIN is on, so "
        "META_INSTAGRAM_APP_ID and META_INSTAGRAM_APP_SECRET must be set."
    )

# Celery. The broker is Redis when CELERY_BROKER_URL or REDIS_URL is set; otherwise
# files under var/ through padu/broker.py (kombu's file-system transport, made safe for
# several processes), which needs no server. The fixed part of Celery's configuration
# and the periodic schedule are in padu/celery.py.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "padu.broker:Transport"
    BROKER_QUEUE_DIR = VAR_DIR / "broker" / "queue"
    BROKER_CONTROL_DIR = VAR_DIR / "broker" / "control"
    BROKER_PROCESSING_DIR = VAR_DIR / "broker" / "processing"
    for folder in (BROKER_QUEUE_DIR, BROKER_CONTROL_DIR, BROKER_PROCESSING_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_QUEUE_DIR),
        "data_folder_out": str(BROKER_QUEUE_DIR),
        "control_folder": str(BROKER_CONTROL_DIR),
        # Messages being written, and taken by a worker until it acknowledges them.
        "processing_folder": str(BROKER_PROCESSING_DIR),
        # The default of one second moves about two tasks a second.
        "polling_interval": 0.05,
    }
else:
    # How long Redis waits for an acknowledgement before handing a task to another
    # worker: longer than any task's time limit or countdown, so nothing runs twice.
    # A single connection attempt per publish (Celery itself retries normal publishes),
    # so the webhook endpoint can tell at once that the broker is down.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
        "max_retries": 0,
        "socket_connect_timeout": 2,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Request paths in Django's warnings can carry a link's token (padu/logging.py).
    "filters": {"scrub_secrets": {"()": "padu.logging.ScrubSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["scrub_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without handlers of their own, Django's records reach only the scrubbing console.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO; OAuth URLs carry codes and secrets.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
