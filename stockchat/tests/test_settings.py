"""Settings are read at import time, so each case imports them in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], "
    "s.CHANNEL_LAYERS['default']['BACKEND'], s.AUTH_PROVIDER)"
)


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COGNITO_", "OIDC_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    clean["DJANGO_SETTINGS_MODULE"] = "stockchat.settings"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


PRODUCTION = {"DJANGO_SECRET_KEY": "s" * 50, "DJANGO_ALLOWED_HOSTS": "stockchat.example.com"}


def test_production_variables_load():
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
    assert "['stockchat.example.com']" in result.stdout


def test_debug_defaults_to_off_and_then_needs_a_secret_key():
    result = load_settings(DJANGO_ALLOWED_HOSTS="stockchat.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_missing_allowed_hosts_is_a_startup_error():
    result = load_settings(DJANGO_SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_wildcard_allowed_host_is_refused_even_in_debug():
    result = load_settings(DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="*")
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must name the hosts" in result.stderr


def test_junk_debug_flag_is_an_error_not_a_guess():
    result = load_settings(DJANGO_DEBUG="ture", **PRODUCTION)
    assert result.returncode != 0
    assert "DJANGO_DEBUG='ture' is not a boolean" in result.stderr


def test_debug_runs_with_embedded_defaults_and_no_other_variables():
    result = load_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True ")
    assert "localhost" in result.stdout
    assert "django.db.backends.sqlite3" in result.stdout
    assert "channels.layers.InMemoryChannelLayer" in result.stdout
    assert result.stdout.strip().endswith("local")


def test_database_and_redis_urls_switch_to_production_services():
    result = load_settings(
        DATABASE_URL="postgresql://u:p@db.internal:5432/stockchat", REDIS_URL="redis://cache:6379/0", **PRODUCTION
    )
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql" in result.stdout
    assert "channels_redis.pubsub.RedisPubSubChannelLayer" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL is not a database URL"),
        ({"REDIS_URL": "cache:6379"}, "REDIS_URL must start with"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": "stockchat.example.com"}, "must start with https://"),
        ({"STOCKCHAT_OPENING_CASH": "a lot"}, "STOCKCHAT_OPENING_CASH"),
        ({"COGNITO_USER_POOL_ID": "eu-west-1_abc", "OIDC_RP_CLIENT_ID": "x"}, "not both"),
        ({"DATABASE_POOL_MAX_SIZE": "ten"}, "DATABASE_POOL_MAX_SIZE='ten' is not a whole number"),
    ],
)
def test_malformed_production_variables_are_named(env, message):
    result = load_settings(**PRODUCTION, **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_provider_switch_follows_the_variables_set():
    # Complete sets: a half-configured provider is refused (accounts/tests/test_providers.py).
    from accounts.tests.test_providers import COGNITO, OIDC

    assert load_settings(**COGNITO, **PRODUCTION).stdout.strip().endswith("cognito")
    assert load_settings(**OIDC, **PRODUCTION).stdout.strip().endswith("oidc")


def test_sqlite_opens_transactions_immediately_and_waits_for_the_lock(django_db_blocker):
    # Not a database test, so it runs in the SQLite pass only: that is the point.
    assert connection.vendor == "sqlite"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20000
