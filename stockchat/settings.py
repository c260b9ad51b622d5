"""stockchat settings, read from the environment.

The defaults run right after checkout (SQLite, in-memory channel layer, local
accounts). Each production service is switched on by one variable, listed in
``.env.example`` and explained in ``docs/configuration.md``. A variable that is
required but missing, or set to junk, stops start-up with an error naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from stockchat.channel_layers import redis_channel_layer
from stockchat.env import env_bool, env_decimal, env_float, env_int, env_list, env_required, env_str

ENV = os.environ
BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool(ENV, "DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env_str(ENV, "DJANGO_SECRET_KEY") or "django-insecure-local-development-only"
else:
    SECRET_KEY = env_required(ENV, "DJANGO_SECRET_KEY", "when DJANGO_DEBUG is off")

if DEBUG:
    ALLOWED_HOSTS = env_list(ENV, "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
else:
    ALLOWED_HOSTS = env_list(ENV, "DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off "
            "(comma-separated host names, e.g. stockchat.example.com)."
        )
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must name the hosts; '*' would let any Host header "
        "through and disable the WebSocket origin check."
    )

CSRF_TRUSTED_ORIGINS = env_list(ENV, "DJANGO_CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"DJANGO_CSRF_TRUSTED_ORIGINS entry {_origin!r} must start with https:// or http://."
        )

INSTALLED_APPS = [
    # daphne first: it replaces runserver with an ASGI server.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "trading",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "stockchat.urls"
ASGI_APPLICATION = "stockchat.asgi.application"
WSGI_APPLICATION = "stockchat.wsgi.application"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite by default. IMMEDIATE transactions take the write lock at BEGIN, so two
# writers queue on busy_timeout instead of failing with "database is locked"
# when one of them upgrades a read to a write half-way through.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASE_URL = env_str(ENV, "DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Channel layer ---------------------------------------------------------------
# In-memory for one process; Redis pub/sub when REDIS_URL is set. Each web
# process follows groups once through its fan-out hub (stockchat/realtime/hub.py),
# so the layer carries one message per process, not per socket; for that
# pattern the pub/sub layer delivered every tick with sub-millisecond median
# latency where RedisChannelLayer fell behind (docs/realtime.md has the figures).
REDIS_URL = env_str(ENV, "REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
    CHANNEL_LAYERS = {
        "default": redis_channel_layer(REDIS_URL, max_connections=env_int(ENV, "REDIS_MAX_CONNECTIONS", 2000))
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Sign-in ----------------------------------------------------------------------
# Local Django accounts unless a provider is configured: any COGNITO_* variable
# selects Amazon Cognito, any OIDC_* variable a generic OpenID Connect provider.
_cognito_vars = sorted(k for k in ENV if k.startswith("COGNITO_") and ENV[k].strip())
_oidc_vars = sorted(k for k in ENV if k.startswith("OIDC_") and ENV[k].strip())
if _cognito_vars and _oidc_vars:
    raise ImproperlyConfigured(
        f"Set either COGNITO_* or OIDC_* variables, not both (found {', '.join(_cognito_vars + _oidc_vars)})."
    )
AUTH_PROVIDER = "cognito" if _cognito_vars else "oidc" if _oidc_vars else "local"

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Static and media files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"

AWS_STORAGE_BUCKET_NAME = env_str(ENV, "AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _static_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": AWS_STORAGE_BUCKET_NAME, "location": "static"},
    }
elif DEBUG:
    _static_backend = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
else:
    _static_backend = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": _static_backend,
}

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # --- trading API: one error shape, throttled order placement ---
    "EXCEPTION_HANDLER": "stockchat.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"trading-orders": env_str(ENV, "STOCKCHAT_ORDER_RATE", "600/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "stockchat API",
    "DESCRIPTION": "Paper trading and chat about stocks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the pinned drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- Security -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the page script reads it for fetch() requests
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str(ENV, "DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Market feed ------------------------------------------------------------------
# "embedded": the simulator runs inside the web process (one process, in-memory
# layer: the `make run` default). "off": a separate `manage.py run_market_feed`
# worker publishes through Redis (the default when REDIS_URL is set).
STOCKCHAT_MARKET_FEED = env_str(ENV, "STOCKCHAT_MARKET_FEED") or ("off" if REDIS_URL else "embedded")
if STOCKCHAT_MARKET_FEED not in {"embedded", "off"}:
    raise ImproperlyConfigured(f"STOCKCHAT_MARKET_FEED={STOCKCHAT_MARKET_FEED!r} must be 'embedded' or 'off'.")
STOCKCHAT_MARKET_FEED_INTERVAL = env_float(ENV, "STOCKCHAT_MARKET_FEED_INTERVAL", 1.0)

# --- stockchat ----------------------------------------------------------------------
# Cash a new paper-trading account opens with, in the account currency.
STOCKCHAT_OPENING_CASH = env_decimal(ENV, "STOCKCHAT_OPENING_CASH", "100000.00")

# --- chat -----------------------------------------------------------------------------
# Messages one user may send a minute, across all conversations and sockets.
STOCKCHAT_CHAT_SENDS_PER_MINUTE = env_int(ENV, "STOCKCHAT_CHAT_SENDS_PER_MINUTE", 60)
# Names the conversation kinds in the API schema apart from the ledger's "kind".
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["ConversationKindEnum"] = "chat.models.ConversationKind"
