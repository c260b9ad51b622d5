"""The database connection settings read from the environment.

``stockchat/settings.py`` calls ``database_settings``; it takes the environment
mapping so that it can be read (and tested) without touching ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_float, env_int, env_str

POSTGRESQL_ENGINE = "django.db.backends.postgresql"
SQLITE_ENGINE = "django.db.backends.sqlite3"

# SQLite: IMMEDIATE transactions take the write lock at BEGIN, so two writers
# queue on busy_timeout instead of failing with "database is locked" when one
# of them upgrades a read to a write half-way through.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


# psycopg-pool retries a failed connection with a delay that doubles each time (1, 2, 4, 8 s...)
# until its reconnect_timeout (5 minutes by default): after an outage of a minute the next attempt
# could come a minute after the database is back, and every request meanwhile waits and gets 503.
# Giving up a round after 2 s lets the next request start a new round at once (no delay), so a
# process serves again within about a second of the database's return.
POOL_RECONNECT_TIMEOUT_SECONDS = 2.0


def database_pool_options(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """psycopg-pool options for PostgreSQL, or None when ``DATABASE_POOL_MAX_SIZE`` is 0.

    Every web process keeps up to ``max_size`` connections open and lends one
    to each request (or WebSocket database call), so a request no longer pays
    for a new connection; ``timeout`` is how long a request waits for a free
    connection before it fails.
    """
    max_size = env_int(environ, "DATABASE_POOL_MAX_SIZE", 10)
    min_size = env_int(environ, "DATABASE_POOL_MIN_SIZE", 2)
    timeout = env_float(environ, "DATABASE_POOL_TIMEOUT", 10.0)
    if max_size < 0:
        raise ImproperlyConfigured(f"DATABASE_POOL_MAX_SIZE={max_size} must be 0 (no pool) or more.")
    if max_size == 0:
        return None
    if min_size < 0:
        raise ImproperlyConfigured(f"DATABASE_POOL_MIN_SIZE={min_size} must be 0 or more.")
    if min_size > max_size:
        raise ImproperlyConfigured(
            f"DATABASE_POOL_MIN_SIZE={min_size} must not exceed DATABASE_POOL_MAX_SIZE={max_size}."
        )
    return {
        "min_size": min_size,
        "max_size": max_size,
        "timeout": timeout,
        "reconnect_timeout": POOL_RECONNECT_TIMEOUT_SECONDS,
    }


# psycopg prepares a statement on a connection once it has run this many times there. Django's
# queries are a few dozen distinct texts, so a pooled connection soon has them all prepared:
# PostgreSQL then skips parsing and planning them (the planning of the visibility and locking
# queries was a large part of its CPU per order).
PREPARE_THRESHOLD = 5


def prepared_statement_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """Server-side binding and prepared statements for pooled PostgreSQL connections.

    Safe with psycopg-pool: a prepared statement belongs to its connection, and psycopg keeps
    track of them per connection (a connection reset by the pool forgets them on both sides).
    It is not safe through a pooler that hands one client's statements to another server
    connection (PgBouncer in transaction mode, RDS Proxy): ``DATABASE_PREPARED_STATEMENTS=false``
    goes back to client-side binding, every value inlined in the query text.
    """
    if not env_bool(environ, "DATABASE_PREPARED_STATEMENTS", True):
        return {"prepare_threshold": None}
    return {"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD}


def database_settings(environ: Mapping[str, str], *, base_dir: Path) -> dict[str, Any]:
    """``DATABASES["default"]``: ``DATABASE_URL`` (SQLite file by default), pooled on PostgreSQL.

    Connections are health-checked before reuse, as they always were; with a
    pool, psycopg-pool does the check when it lends a connection. Django
    refuses a pool with persistent connections, so ``CONN_MAX_AGE`` stays 0.
    Pooled connections bind parameters on the server and prepare the statements
    they run often (``prepared_statement_options``); a connection of its own per
    request would drop them before their next use, so unpooled ones do neither.
    """
    url = env_str(environ, "DATABASE_URL") or f"sqlite:///{base_dir / 'db.sqlite3'}"
    try:
        database = dj_database_url.parse(url, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    pool = database_pool_options(environ)
    if database["ENGINE"] == SQLITE_ENGINE:
        database.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    elif database["ENGINE"] == POSTGRESQL_ENGINE and pool is not None:
        database.setdefault("OPTIONS", {})["pool"] = pool
        database["OPTIONS"].update(prepared_statement_options(environ))
        database["CONN_MAX_AGE"] = 0
    return database
