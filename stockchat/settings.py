"""stockchat settings, read from the environment.

The defaults run right after checkout (SQLite, in-memory channel layer, local
accounts). Each production service is switched on by one variable, listed in
``.env.example`` and explained in ``docs/configuration.md``. A variable that is
required but missing, or set to junk, stops start-up with an error naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.cache import redis_cache
from core.channel_layers import redis_channel_layer
from core.database import database_settings
from core.env import env_bool, env_decimal, env_float, env_int, env_list, env_required, env_str
from core.identity import auth_provider, provider_settings
from core.mail import mail_settings
from core.ratelimit import parse_rate
from stockchat.deploy.config import csp_directives, redis_url_with_password, storage_config
from stockchat.deploy.logs import logging_config

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
    # before staticfiles: its collectstatic compares content with what S3 holds
    "stockchat.deploy",
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
    # --- Deployment: client address, request ids, CSP, and /healthz before Host checks and HTTPS redirects ---
    "stockchat.deploy.client_address.client_address_middleware",
    "stockchat.deploy.middleware.request_id_middleware",
    "stockchat.deploy.middleware.content_security_policy_middleware",
    "stockchat.deploy.middleware.health_check_middleware",
    # --- end deployment ---
    # NUL and control characters in paths, query strings and form bodies: 400 before any view.
    "core.input_middleware.RefuseControlCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files stay cacheable), before sessions (sees the session cookie set).
    "core.cache_control.private_response_middleware",
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
                "trading.context_processors.notifications",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite by default; DATABASE_URL for PostgreSQL, where each process keeps a
# connection pool (DATABASE_POOL_MIN_SIZE, _MAX_SIZE, _TIMEOUT; core/database.py).
DATABASES = {"default": database_settings(ENV, base_dir=BASE_DIR)}
# Worker threads per web process that run HTTP requests, one request each from start to end
# (core/asgi.py); a request that finds them all busy waits for one.
REQUEST_THREADS = env_int(ENV, "STOCKCHAT_REQUEST_THREADS", 32, minimum=1)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Channel layer ---------------------------------------------------------------
# In-memory for one process; Redis pub/sub when REDIS_URL is set. Each web
# process follows groups once through its fan-out hub (core/realtime/hub.py),
# so the layer carries one message per process, not per socket; for that
# pattern the pub/sub layer delivered every tick with sub-millisecond median
# latency where RedisChannelLayer fell behind (docs/realtime.md has the figures).
REDIS_URL = env_str(ENV, "REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
    # ElastiCache's AUTH token, kept out of the URL in the task definition (Secrets Manager).
    REDIS_URL = redis_url_with_password(REDIS_URL, env_str(ENV, "REDIS_PASSWORD"))
    CHANNEL_LAYERS = {
        "default": redis_channel_layer(REDIS_URL, max_connections=env_int(ENV, "REDIS_MAX_CONNECTIONS", 2000))
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Sign-in ----------------------------------------------------------------------
# Local Django accounts unless a provider is configured: any COGNITO_* variable
# selects Amazon Cognito, any OIDC_* variable a generic OpenID Connect provider.
AUTH_PROVIDER = auth_provider(ENV)

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

# --- Sign-in: provider, groups, sessions, rate limits (accounts app) -----------------
# The provider's endpoints and the hardened OIDC flow (PKCE, RS256, nonce) come
# from core/identity.py; a half-configured provider stops start-up there. Every name is
# set whatever the provider (empty for local accounts), so that no code needs a special case.
_provider = provider_settings(ENV, AUTH_PROVIDER)
OIDC_ISSUER = _provider["OIDC_ISSUER"]
OIDC_RP_CLIENT_ID = _provider["OIDC_RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = _provider["OIDC_RP_CLIENT_SECRET"]
OIDC_OP_AUTHORIZATION_ENDPOINT = _provider["OIDC_OP_AUTHORIZATION_ENDPOINT"]
OIDC_OP_TOKEN_ENDPOINT = _provider["OIDC_OP_TOKEN_ENDPOINT"]
OIDC_OP_USER_ENDPOINT = _provider["OIDC_OP_USER_ENDPOINT"]
OIDC_OP_JWKS_ENDPOINT = _provider["OIDC_OP_JWKS_ENDPOINT"]
OIDC_OP_LOGOUT_ENDPOINT = _provider["OIDC_OP_LOGOUT_ENDPOINT"]
OIDC_LOGOUT_STYLE = _provider["OIDC_LOGOUT_STYLE"]
OIDC_PROVIDER_NAME = _provider["OIDC_PROVIDER_NAME"]
OIDC_RP_SCOPES = _provider["OIDC_RP_SCOPES"]
OIDC_VERIFY_KID = _provider["OIDC_VERIFY_KID"]
OIDC_TOKEN_USE_BASIC_AUTH = _provider["OIDC_TOKEN_USE_BASIC_AUTH"]
OIDC_RP_SIGN_ALGO = _provider["OIDC_RP_SIGN_ALGO"]
OIDC_USE_PKCE = _provider["OIDC_USE_PKCE"]
OIDC_PKCE_CODE_CHALLENGE_METHOD = _provider["OIDC_PKCE_CODE_CHALLENGE_METHOD"]
OIDC_USE_NONCE = _provider["OIDC_USE_NONCE"]
OIDC_ALLOW_UNSECURED_JWT = _provider["OIDC_ALLOW_UNSECURED_JWT"]
OIDC_STORE_ID_TOKEN = _provider["OIDC_STORE_ID_TOKEN"]
OIDC_TIMEOUT = _provider["OIDC_TIMEOUT"]
OIDC_AUTHENTICATION_CALLBACK_URL = _provider["OIDC_AUTHENTICATION_CALLBACK_URL"]
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = _provider["OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS"]
OIDC_GROUPS_CLAIM = _provider["OIDC_GROUPS_CLAIM"]
if AUTH_PROVIDER != "local":
    AUTHENTICATION_BACKENDS.append("accounts.oidc.ProviderBackend")
# Provider groups (cognito:groups) that make a user staff or superuser at each sign-in.
STOCKCHAT_STAFF_GROUPS = env_list(ENV, "STOCKCHAT_STAFF_GROUPS")
STOCKCHAT_SUPERUSER_GROUPS = env_list(ENV, "STOCKCHAT_SUPERUSER_GROUPS")
# Failed sign-in attempts allowed per window: per account from one client address, per
# client address over all accounts, and per account over all addresses (accounts/ratelimit.py).
STOCKCHAT_LOGIN_ATTEMPTS_PER_USER = env_int(ENV, "STOCKCHAT_LOGIN_ATTEMPTS_PER_USER", 5, minimum=1)
STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS = env_int(ENV, "STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS", 20, minimum=1)
STOCKCHAT_LOGIN_ATTEMPTS_PER_ACCOUNT = env_int(ENV, "STOCKCHAT_LOGIN_ATTEMPTS_PER_ACCOUNT", 50, minimum=1)
STOCKCHAT_LOGIN_WINDOW_SECONDS = env_int(ENV, "STOCKCHAT_LOGIN_WINDOW_SECONDS", 15 * 60)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "accounts.middleware.ProviderSessionRefresh",
)
# --- E-mail: password resets, through SMTP (EMAIL_URL) or Amazon SES (STOCKCHAT_EMAIL_BACKEND=ses) ---
# Without either: the console in debug; with debug off an ERROR log line per message (core/mail.py).
globals().update(mail_settings(ENV, debug=DEBUG))
# Cookies travel over HTTPS only in production; the session cookie is never
# readable from scripts. Lax keeps the provider's redirect back signed in.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int(ENV, "STOCKCHAT_SESSION_SECONDS", 14 * 24 * 3600)

# Rate limits and the JWKS cache live in Django's cache: Redis when REDIS_URL is
# set, so that limits hold across processes; process memory otherwise.
if REDIS_URL:
    # One connection pool per process, not one per request (core/cache.py).
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

# --- Static and media files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
# Uploads on the embedded default (no AWS_MEDIA_BUCKET_NAME): chat attachments, logos.
MEDIA_ROOT = Path(env_str(ENV, "STOCKCHAT_MEDIA_ROOT") or BASE_DIR / "media")

# --- Deployment: static and media files on S3 (stockchat/deploy/config.py) -----------------
# Local unless AWS_STORAGE_BUCKET_NAME (static files, hashed, optionally behind
# AWS_CLOUDFRONT_DOMAIN) or AWS_MEDIA_BUCKET_NAME (private uploads) is set.
_storage = storage_config(ENV, debug=DEBUG)
STORAGES = _storage.storages
if _storage.static_url:
    STATIC_URL = _storage.static_url
# --- end deployment: S3 ------------------------------------------------------------------

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Sign-in: personal API tokens and the provider's access tokens as
        # "Authorization: Bearer"; first, so that a refusal is a 401 with WWW-Authenticate.
        "accounts.authentication.PersonalTokenAuthentication",
        "accounts.authentication.ProviderAccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies: depth-limited, no control characters, numbers exactly as typed (core.inputs).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.CheckedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # --- trading API: one error shape, throttled order placement ---
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"trading-orders": env_str(ENV, "STOCKCHAT_ORDER_RATE", "600/minute")},
}
try:
    parse_rate(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["trading-orders"])  # core/ratelimit.py, which counts it
except ValueError:
    raise ImproperlyConfigured(
        "STOCKCHAT_ORDER_RATE must look like 600/minute (a count per second, minute, hour or day)."
    ) from None
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
    # Request bodies as their own components, with what the server checks (minLength, ...).
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation's error responses and the shared Error schema (core/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.add_error_responses",
    ],
}

# --- Security -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the page script reads it for fetch() requests
SESSION_COOKIE_SAMESITE = "Lax"

# --- Deployment: HTTPS, load balancer, Content-Security-Policy --------------------------
# With debug off the site is HTTPS-only: plain HTTP is redirected (except the
# load balancer's /healthz) and browsers are told to stay on HTTPS (HSTS).
SECURE_SSL_REDIRECT = env_bool(ENV, "DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int(ENV, "DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(ENV, "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool(ENV, "DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Only behind a load balancer that terminates TLS and is the only way in (the
# container's port is closed to everything else): it sets X-Forwarded-Proto,
# which would otherwise be a header any client could forge.
STOCKCHAT_BEHIND_LOAD_BALANCER = env_bool(ENV, "STOCKCHAT_BEHIND_LOAD_BALANCER", default=False)
if STOCKCHAT_BEHIND_LOAD_BALANCER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front of the app that each append to X-Forwarded-For: 1 for the ALB
# (ECS), 2 for the ALB and the instance's nginx (Elastic Beanstalk). The client
# address is the entry that many places from the right (stockchat/deploy/client_address.py).
# 1 by default: too low never lets a client choose its address, too high does.
STOCKCHAT_TRUSTED_PROXY_HOPS = env_int(
    ENV, "STOCKCHAT_TRUSTED_PROXY_HOPS", 1 if STOCKCHAT_BEHIND_LOAD_BALANCER else 0, minimum=0
)
if STOCKCHAT_BEHIND_LOAD_BALANCER and STOCKCHAT_TRUSTED_PROXY_HOPS < 1:
    raise ImproperlyConfigured(
        "STOCKCHAT_TRUSTED_PROXY_HOPS must be 1 or more behind a load balancer: "
        "1 for an ALB (ECS), 2 for an ALB and nginx (Elastic Beanstalk)."
    )
if not STOCKCHAT_BEHIND_LOAD_BALANCER and STOCKCHAT_TRUSTED_PROXY_HOPS:
    raise ImproperlyConfigured(
        "STOCKCHAT_TRUSTED_PROXY_HOPS needs STOCKCHAT_BEHIND_LOAD_BALANCER=true: without a load "
        "balancer as the only way in, any client could write X-Forwarded-For."
    )

# Sent on every response by stockchat.deploy.middleware; connect-src also gets
# the ws(s):// origin of the host the page was served from.
CSP_DIRECTIVES = csp_directives(ENV, _storage)
# --- end deployment: HTTPS --------------------------------------------------------------

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------
# JSON lines with the request id when debug is off (what CloudWatch and other
# collectors parse), readable lines in development; DJANGO_LOG_FORMAT chooses.
DJANGO_LOG_FORMAT = env_str(ENV, "DJANGO_LOG_FORMAT") or ("plain" if DEBUG else "json")
if DJANGO_LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT={DJANGO_LOG_FORMAT!r} must be json or plain.")
LOGGING = logging_config(DJANGO_LOG_FORMAT, env_str(ENV, "DJANGO_LOG_LEVEL", "INFO"))

# --- Market feed ------------------------------------------------------------------
# "embedded": the simulator runs inside the web process (one process, in-memory
# layer: the `make run` default). "off": a separate `manage.py run_market_feed`
# worker publishes through Redis (the default when REDIS_URL is set).
STOCKCHAT_MARKET_FEED = env_str(ENV, "STOCKCHAT_MARKET_FEED") or ("off" if REDIS_URL else "embedded")
if STOCKCHAT_MARKET_FEED not in {"embedded", "off"}:
    raise ImproperlyConfigured(f"STOCKCHAT_MARKET_FEED={STOCKCHAT_MARKET_FEED!r} must be 'embedded' or 'off'.")
STOCKCHAT_MARKET_FEED_INTERVAL = env_float(ENV, "STOCKCHAT_MARKET_FEED_INTERVAL", 1.0)
# The feed worker touches this file after every tick it records (its lease was
# renewed); docker/healthcheck.py reads it. Empty: no file (development, tests).
STOCKCHAT_FEED_HEARTBEAT_FILE = env_str(ENV, "STOCKCHAT_FEED_HEARTBEAT_FILE")
# A feed whose last recorded tick is older than this is stale: its container
# health check fails (and ECS or Docker restarts it) and /readyz reports it.
STOCKCHAT_FEED_STALE_SECONDS = env_int(ENV, "STOCKCHAT_FEED_STALE_SECONDS", 60, minimum=1)
# Market seconds per wall-clock second of the simulator: 1 is real time (a day of running is a
# trading day), more runs a demo faster. The demo's minute history is drawn at the same scale.
STOCKCHAT_MARKET_TIME_SCALE = env_float(ENV, "STOCKCHAT_MARKET_TIME_SCALE", 1.0)
if not 0 < STOCKCHAT_MARKET_TIME_SCALE <= 3600:
    raise ImproperlyConfigured("STOCKCHAT_MARKET_TIME_SCALE must be above 0 and at most 3600.")

# --- stockchat ----------------------------------------------------------------------
# Cash a new paper-trading account opens with, in the account currency.
STOCKCHAT_OPENING_CASH = env_decimal(ENV, "STOCKCHAT_OPENING_CASH", "100000.00")

# --- chat -----------------------------------------------------------------------------
# Messages one user may send a minute, across all conversations and sockets.
STOCKCHAT_CHAT_SENDS_PER_MINUTE = env_int(ENV, "STOCKCHAT_CHAT_SENDS_PER_MINUTE", 60)
# Attachments (chat/attachments.py, docs/api.md): size limits in bytes, the pixel limit against
# decompression bombs, upload slots a user may ask for a minute, the life of an upload slot, and how
# long an unconfirmed or unsent upload is kept before purge_attachments removes it.
STOCKCHAT_ATTACHMENT_MAX_FILE_BYTES = env_int(ENV, "STOCKCHAT_ATTACHMENT_MAX_FILE_BYTES", 10 * 1024 * 1024, minimum=1)
STOCKCHAT_ATTACHMENT_MAX_IMAGE_BYTES = env_int(ENV, "STOCKCHAT_ATTACHMENT_MAX_IMAGE_BYTES", 10 * 1024 * 1024, minimum=1)
STOCKCHAT_ATTACHMENT_MAX_IMAGE_PIXELS = env_int(ENV, "STOCKCHAT_ATTACHMENT_MAX_IMAGE_PIXELS", 40_000_000, minimum=1)
STOCKCHAT_ATTACHMENT_UPLOADS_PER_MINUTE = env_int(ENV, "STOCKCHAT_ATTACHMENT_UPLOADS_PER_MINUTE", 20, minimum=1)
STOCKCHAT_ATTACHMENT_UPLOAD_SECONDS = env_int(ENV, "STOCKCHAT_ATTACHMENT_UPLOAD_SECONDS", 300, minimum=10)
STOCKCHAT_ATTACHMENT_UNSENT_HOURS = env_int(ENV, "STOCKCHAT_ATTACHMENT_UNSENT_HOURS", 24, minimum=1)
# Names the conversation kinds in the API schema apart from the ledger's "kind".
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["ConversationKindEnum"] = "chat.models.ConversationKind"
