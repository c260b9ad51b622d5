"""pytest plugin: test settings, the database pass, and real servers as fixtures.

Loaded with ``-p testsupport.plugin`` (see ``pyproject.toml``) so that its
``pytest_load_initial_conftests`` runs before pytest-django reads the settings.

``pytest`` runs the suite on SQLite (the embedded default). ``pytest --db=postgres``
starts a throwaway PostgreSQL and runs the tests that use the database, plus those
marked ``postgres`` (which need PostgreSQL's locking and are left out of the SQLite
pass). A missing server makes its tests skip with the reason; with
``STOCKCHAT_REQUIRE_SERVICES=1`` (as in CI) it makes them fail instead.
"""

from __future__ import annotations

import os

import pytest
import redis

from testsupport.servers import PostgresServer, RedisServer, SeaweedS3Server, ServerUnavailable

REQUIRE_SERVICES_VAR = "STOCKCHAT_REQUIRE_SERVICES"
DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_setup", "live_server"})

_postgres: PostgresServer | None = None
_postgres_error: str | None = None


def services_required() -> bool:
    return os.environ.get(REQUIRE_SERVICES_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


def require_service(reason: str) -> None:
    """Skip the current test because a server is missing, or fail when servers are required."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_VAR}=1 makes a missing server a failure)", pytrace=False)
    pytest.skip(reason)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="Database for this pass: sqlite (everything) or postgres (tests that use the database).",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args) -> None:
    global _postgres, _postgres_error
    # The settings under test: production-like (DEBUG off), embedded services,
    # no identity provider, whatever the developer's shell has set.
    for name in list(os.environ):
        if name in {"DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "DJANGO_DEBUG"} or name.startswith(
            ("COGNITO_", "OIDC_")
        ):
            del os.environ[name]
    # Deployment variables (S3, HTTPS, logs) from the developer's shell do not apply either.
    for name in list(os.environ):
        if name.startswith(("AWS_", "DJANGO_SECURE_", "STOCKCHAT_BEHIND_")) or name == "DJANGO_LOG_FORMAT":
            del os.environ[name]
    os.environ["DJANGO_SECRET_KEY"] = "test-only-secret-key-not-used-anywhere-else"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    # The test client speaks plain HTTP; the redirect itself is tested with the setting on.
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
    # Tests drive the feed themselves; none starts inside the app under test.
    os.environ["STOCKCHAT_MARKET_FEED"] = "off"

    if getattr(early_config.known_args_namespace, "db", "sqlite") != "postgres":
        return
    try:
        _postgres = PostgresServer().start()
    except ServerUnavailable as exc:
        _postgres_error = f"PostgreSQL pass not possible: {exc}"
        return
    os.environ["DATABASE_URL"] = _postgres.url


def pytest_unconfigure(config: pytest.Config) -> None:
    if _postgres is not None:
        _postgres.stop()


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("--db") == "postgres":
        where = f"PostgreSQL on port {_postgres.port}" if _postgres else f"unavailable ({_postgres_error})"
        return f"stockchat database pass: {where}"
    return "stockchat database pass: SQLite"


def _uses_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & DB_FIXTURES) or item.get_closest_marker("django_db") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgres_pass = config.getoption("--db") == "postgres"
    selected, deselected = [], []
    for item in items:
        needs_postgres = item.get_closest_marker("postgres") is not None
        if postgres_pass:
            keep = needs_postgres or _uses_database(item)
        else:
            keep = not needs_postgres
        (selected if keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.getoption("--db") == "postgres" and _postgres is None:
        require_service(_postgres_error or "PostgreSQL is not available")


@pytest.fixture
def postgres_server(transactional_db):
    """The PostgreSQL of the --db=postgres pass, for tests that stop and start it (``pause``/``resume``).

    Afterwards it runs again, and this process gets a new connection pool: the old one's
    connections died with the server, and the database flush after the test needs a good one.
    """
    from django.db import connection, connections

    if _postgres is None:
        require_service(_postgres_error or "PostgreSQL runs in the --db=postgres pass only")
    yield _postgres
    if _postgres.paused:
        _postgres.resume()
    connections.close_all()
    connection.close_pool()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (SeaweedFS) on loopback for this test session."""
    try:
        server = SeaweedS3Server().start()
    except ServerUnavailable as exc:
        require_service(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """A real Redis on loopback for this test session."""
    try:
        server = RedisServer().start()
    except ServerUnavailable as exc:
        require_service(str(exc))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied before the test."""
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url
