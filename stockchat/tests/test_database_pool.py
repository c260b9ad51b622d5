"""The PostgreSQL connection pool: its settings, and connections lent again after a request."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.utils import ConnectionHandler
from django.test import Client
from psycopg_pool import PoolTimeout

from core.database import database_settings
from stockchat.views import (
    BUSY_DETAIL,
    BUSY_RETRY_AFTER_SECONDS,
    UNAVAILABLE_DETAIL,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
    server_error,
)

POSTGRES_URL = "postgresql://u:p@db.internal:5432/stockchat"
BASE_DIR = Path("/srv/stockchat")


def settings_for(**env: str) -> dict:
    return database_settings(env, base_dir=BASE_DIR)


def test_postgresql_gets_a_pool_with_the_default_sizes_and_health_checks():
    database = settings_for(DATABASE_URL=POSTGRES_URL)
    assert database["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10.0, "reconnect_timeout": 2.0}
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"] is True


def test_pool_sizes_and_timeout_come_from_the_environment():
    database = settings_for(
        DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MIN_SIZE="0", DATABASE_POOL_MAX_SIZE="4", DATABASE_POOL_TIMEOUT="2.5"
    )
    assert database["OPTIONS"]["pool"] == {"min_size": 0, "max_size": 4, "timeout": 2.5, "reconnect_timeout": 2.0}


def test_max_size_zero_turns_the_pool_off():
    database = settings_for(DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX_SIZE="0")
    assert "pool" not in database.get("OPTIONS", {})
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"] is True


def test_pooled_connections_bind_on_the_server_and_prepare_statements():
    options = settings_for(DATABASE_URL=POSTGRES_URL)["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    # Behind a pooler that shares server connections between clients: client-side binding.
    options = settings_for(DATABASE_URL=POSTGRES_URL, DATABASE_PREPARED_STATEMENTS="false")["OPTIONS"]
    assert "server_side_binding" not in options
    assert options["prepare_threshold"] is None
    # A connection per request would never reuse a prepared statement.
    assert "server_side_binding" not in settings_for(DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX_SIZE="0").get(
        "OPTIONS", {}
    )


def test_sqlite_has_no_pool():
    database = settings_for()
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in database["OPTIONS"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_POOL_MAX_SIZE": "ten"}, "DATABASE_POOL_MAX_SIZE='ten' is not a whole number."),
        ({"DATABASE_POOL_MAX_SIZE": "-1"}, "DATABASE_POOL_MAX_SIZE=-1 must be 0 (no pool) or more."),
        ({"DATABASE_POOL_MIN_SIZE": "2.5"}, "DATABASE_POOL_MIN_SIZE='2.5' is not a whole number."),
        ({"DATABASE_POOL_MIN_SIZE": "-1"}, "DATABASE_POOL_MIN_SIZE=-1 must be 0 or more."),
        (
            {"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "4"},
            "DATABASE_POOL_MIN_SIZE=5 must not exceed DATABASE_POOL_MAX_SIZE=4.",
        ),
        ({"DATABASE_POOL_TIMEOUT": "soon"}, "DATABASE_POOL_TIMEOUT='soon' is not a number."),
        ({"DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT='0' must be a positive number."),
    ],
)
def test_bad_pool_values_are_named(env, message):
    with pytest.raises(ImproperlyConfigured) as caught:
        settings_for(DATABASE_URL=POSTGRES_URL, **env)
    assert str(caught.value) == message


def backend_pids(alias: str, database: dict, requests: int) -> list[int]:
    """The server process behind each of ``requests`` request-like uses of a fresh connection handler."""
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, alias: database})
    wrapper = handler[alias]
    pids = []
    try:
        for _ in range(requests):
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            # What Django does when a request finishes with CONN_MAX_AGE 0.
            wrapper.close_if_unusable_or_obsolete()
            assert wrapper.connection is None
    finally:
        wrapper.close()
        wrapper.close_pool()
    return pids


def url_of_the_test_database() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_reuse_pooled_connections_instead_of_connecting_again():
    assert connection.vendor == "postgresql"
    url = url_of_the_test_database()
    # One connection in the pool, so every request must get that very one (a bigger pool
    # hands its connections out in turn).
    pooled = database_settings(
        {"DATABASE_URL": url, "DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": "1"}, base_dir=BASE_DIR
    )
    unpooled = database_settings({"DATABASE_URL": url, "DATABASE_POOL_MAX_SIZE": "0"}, base_dir=BASE_DIR)

    assert len(set(backend_pids("pool_check_pooled", pooled, 5))) == 1
    # Without the pool each request is a new server process: the check can tell them apart.
    assert len(set(backend_pids("pool_check_unpooled", unpooled, 5))) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_runs_its_frequent_queries_as_prepared_statements():
    url = url_of_the_test_database()
    database = database_settings(
        {"DATABASE_URL": url, "DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": "1"}, base_dir=BASE_DIR
    )
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, "prepared": database})
    wrapper = handler["prepared"]
    try:
        for _ in range(3):  # three requests, on the one pooled connection
            with wrapper.cursor() as cursor:
                for _ in range(3):
                    cursor.execute("SELECT %s::int + 1", [41])
                    assert cursor.fetchone() == (42,)
                cursor.execute("SELECT statement FROM pg_prepared_statements")
                prepared = [row[0] for row in cursor.fetchall()]
            wrapper.close_if_unusable_or_obsolete()
    finally:
        wrapper.close()
        wrapper.close_pool()
    # Parameters went to the server as parameters, and the query was prepared once it was frequent.
    assert "SELECT $1::int + 1" in prepared


def request_in_another_thread(client, path: str, **headers):
    """``client.get(path)`` on a thread of its own, which needs a connection of its own from the pool."""
    result = {}

    def run() -> None:
        try:
            result["response"] = client.get(path, **headers)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), f"GET {path} did not finish"
    return result["response"]


@contextmanager
def every_pooled_connection_taken(monkeypatch):
    """Hold every connection the default pool can lend, with a short wait for the next one."""
    pool = connection.pool
    assert pool is not None, "the PostgreSQL pass runs with the pool on"
    monkeypatch.setattr(pool, "timeout", 0.3)
    held = []
    try:
        while True:
            try:
                held.append(pool.getconn(timeout=0.3))
            except PoolTimeout:
                break
        yield
    finally:
        for conn in held:
            pool.putconn(conn)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_exhausted_pool_answers_503_with_retry_after_for_pages_and_the_api(make_user, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(make_user("busy"))
    with every_pooled_connection_taken(monkeypatch):
        api = request_in_another_thread(client, "/api/v1/account")
        page = request_in_another_thread(client, "/dashboard/")
    assert (api.status_code, api["Retry-After"]) == (503, str(BUSY_RETRY_AFTER_SECONDS))
    assert api.json() == {"code": "busy", "detail": BUSY_DETAIL}
    assert (page.status_code, page["Retry-After"]) == (503, str(BUSY_RETRY_AFTER_SECONDS))
    assert BUSY_DETAIL in page.content.decode()
    # Once connections are free again the same requests are served.
    assert request_in_another_thread(client, "/api/v1/account").status_code == 200


def test_other_server_errors_stay_500_without_retry_after(rf):
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/api/v1/account"))
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_a_lost_postgresql_connection_is_503_unavailable_but_other_database_errors_stay_500(rf):
    import psycopg
    from django.db import utils

    try:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError as exc:
            raise utils.OperationalError(*exc.args) from exc
    except utils.OperationalError:
        response = server_error(rf.get("/api/v1/orders"))
    assert (response.status_code, response["Retry-After"]) == (503, str(UNAVAILABLE_RETRY_AFTER_SECONDS))
    assert json.loads(response.content) == {"code": "unavailable", "detail": UNAVAILABLE_DETAIL}
    # A missing table is a bug in the deployment, not an outage to wait out.
    try:
        raise utils.OperationalError("no such table: trading_order")
    except utils.OperationalError:
        response = server_error(rf.get("/api/v1/orders"))
    assert response.status_code == 500


def test_redis_out_of_reach_is_503_unavailable(rf):
    # The order throttle reads Django's cache, which is Redis in production.
    import redis

    try:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    except redis.ConnectionError:
        response = server_error(rf.get("/api/v1/orders"))
    assert (response.status_code, response["Retry-After"]) == (503, str(UNAVAILABLE_RETRY_AFTER_SECONDS))
    assert json.loads(response.content) == {"code": "unavailable", "detail": UNAVAILABLE_DETAIL}
