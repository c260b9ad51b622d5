"""The image's entrypoint: web serves (uvicorn by default, or daphne) without migrating; migrate/release run once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from stockchat.deploy.tests.conftest import ROOT
from stockchat.deploy.tests.containers import ENTRYPOINT, HEALTHCHECK, get, run, start_web, stop, tables
from testsupport.processes import UVICORN_OPTIONS
from testsupport.servers import free_port
from testsupport.waiting import wait_until


def test_migrate_and_release_apply_migrations_and_exit(container_env, tmp_path):
    db = tmp_path / "db.sqlite3"
    result = run(container_env, "migrate")
    assert result.returncode == 0, result.stderr
    assert {"django_migrations", "accounts_user"} <= tables(db)
    again = run(container_env, "release")
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply" in again.stdout
    assert (tmp_path / "role").read_text().strip() == "release"


def test_other_commands_run_as_given(container_env):
    assert run(container_env, "manage", "check").returncode == 0
    result = run(container_env, "sh", "-c", "echo from-sh")
    assert result.stdout.strip() == "from-sh"


# None: STOCKCHAT_WEB_SERVER unset, the image's default, which is uvicorn.
@pytest.mark.parametrize("chosen", [None, "daphne", "uvicorn"])
@pytest.mark.parametrize("behind_load_balancer", [False, True])
def test_web_serves_health_checks_without_migrating(container_env, tmp_path, behind_load_balancer, chosen):
    db = tmp_path / "db.sqlite3"
    server = chosen or "uvicorn"
    container_env.pop("STOCKCHAT_WEB_SERVER", None)
    if chosen:
        container_env["STOCKCHAT_WEB_SERVER"] = chosen
    if behind_load_balancer:
        container_env["STOCKCHAT_BEHIND_LOAD_BALANCER"] = "true"
        container_env["STOCKCHAT_TRUSTED_PROXY_HOPS"] = "1"
    if server == "uvicorn":
        # uvicorn's own way to trust X-Forwarded-*, which must not open it up
        # when the deployment has not said there is a load balancer.
        container_env["FORWARDED_ALLOW_IPS"] = "*"
    port = free_port()
    process = start_web(container_env, port)
    try:
        # The load balancer's probe: private IP as Host, plain HTTP.
        status, headers = get(port, "/healthz", {"Host": "10.0.0.5"})
        assert status == 200
        assert headers["server"] == server
        # Starting a web container left the schema alone: migrations are the release step's.
        assert "django_migrations" not in tables(db)
        assert (tmp_path / "role").read_text().strip() == "web"
        health = subprocess.run(
            [sys.executable, str(HEALTHCHECK)], env={**container_env, "PORT": str(port)}, timeout=30, check=False
        )
        assert health.returncode == 0
        assert run(container_env, "migrate").returncode == 0

        # A page over plain HTTP goes to HTTPS; the load balancer's
        # X-Forwarded-Proto counts only when the deployment says it is there.
        # (A path with no page: this test has not collected static files for the templates.)
        status, headers = get(port, "/nothing-here", {"Host": "stockchat.example.com", "X-Forwarded-Proto": "https"})
        if behind_load_balancer:
            assert status == 404
            assert headers["strict-transport-security"].startswith("max-age=31536000")
        else:
            assert status == 301
            assert headers["location"] == "https://stockchat.example.com/nothing-here"
        assert "content-security-policy" in headers
        assert headers["x-request-id"]

        # What a client sends in credentials never reaches the log.
        get(
            port,
            "/nothing-here?password=hunter2-in-query",
            {
                "Host": "stockchat.example.com",
                "X-Forwarded-Proto": "https",
                "Authorization": "Bearer secret-bearer-token",
                "Cookie": "sessionid=secret-session-cookie",
                "X-Request-ID": f"probe-{behind_load_balancer}",
            },
        )
        # A client's own X-Forwarded-For entry on the left, the ALB's on the right; then
        # a header whose last entry is no address, where only the socket peer is sure
        # (a server parsing the header itself would take the forged leftmost entry).
        for request_id, forwarded_for in [("forwarded-for", "6.6.6.6, 203.0.113.9"), ("malformed", "6.6.6.6, x")]:
            get(
                port,
                "/nothing-here",
                {
                    "Host": "stockchat.example.com",
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-For": forwarded_for,
                    "X-Request-ID": request_id,
                },
            )
    finally:
        stop(process)
    output = process.stdout.read().decode(errors="replace")
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    probe = [line for line in lines if line.get("request_id") == f"probe-{behind_load_balancer}"]
    assert probe, output
    assert {line["logger"] for line in probe} >= {"stockchat.request"}
    for secret in ("hunter2-in-query", "secret-bearer-token", "secret-session-cookie"):
        assert secret not in output
    # The address the app keys rate limits by: the balancer's entry, or the socket
    # peer when no balancer is configured; never the entry the client wrote.
    clients = {line["request_id"]: line["client"] for line in lines if line["logger"] == "stockchat.request"}
    assert clients["forwarded-for"] == ("203.0.113.9" if behind_load_balancer else "127.0.0.1")
    assert clients["malformed"] == "127.0.0.1"


def test_an_unknown_web_server_is_refused_by_name(container_env):
    container_env["STOCKCHAT_WEB_SERVER"] = "gunicorn"
    result = run(container_env, "web")
    assert result.returncode == 64
    assert "STOCKCHAT_WEB_SERVER must be uvicorn or daphne, not 'gunicorn'" in result.stderr


def test_tests_and_bench_run_uvicorn_with_the_entrypoint_options():
    """testsupport's UVICORN_OPTIONS (end-to-end tests, make bench) are the image's, word for word."""
    entrypoint = ENTRYPOINT.read_text()
    start = entrypoint.index("      uvicorn)") + len("      uvicorn)")
    uvicorn_block = entrypoint[start : entrypoint.index("exec uvicorn")]
    image_words = [
        word
        for line in uvicorn_block.splitlines()
        if not line.strip().startswith("#")
        for word in line.replace("\\", " ").split()
        if word not in {"set", "--", '"$@"', "0.0.0.0", '"${PORT:-8000}"', "--host", "--port"}  # noqa: S104
    ]
    assert sorted(image_words) == sorted(UVICORN_OPTIONS)


def test_database_url_is_assembled_from_secret_parts(container_env):
    container_env.pop("DATABASE_URL")
    container_env.update(
        DATABASE_HOST="db.abc.eu-west-1.rds.amazonaws.com",
        DATABASE_USER="stockchat",
        DATABASE_PASSWORD="p@ss:w/rd%",
    )
    result = run(container_env, "sh", "-c", 'printf %s "$DATABASE_URL"')
    assert result.stdout == (
        "postgresql://stockchat:p%40ss%3Aw%2Frd%25@db.abc.eu-west-1.rds.amazonaws.com:5432/stockchat?sslmode=require"
    )


def test_the_process_can_be_chosen_by_variable(container_env, tmp_path):
    # Elastic Beanstalk's Docker platform runs the image's default command;
    # a feed environment sets STOCKCHAT_PROCESS instead of a command.
    container_env["STOCKCHAT_PROCESS"] = "migrate"
    result = run(container_env)
    assert result.returncode == 0, result.stderr
    assert "django_migrations" in tables(tmp_path / "db.sqlite3")
    assert (tmp_path / "role").read_text().strip() == "migrate"


def feed_health(env: dict[str, str]) -> int:
    return subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, timeout=30, check=False).returncode


def test_a_hung_feed_worker_fails_its_container_health_check(container_env, tmp_path):
    # The feed touches its heartbeat after each tick it records under a renewed
    # lease; a worker that stops ticking (here: stopped with SIGSTOP, as a hung
    # one would be) goes stale and its container is restarted.
    assert run(container_env, "migrate").returncode == 0
    container_env.update(STOCKCHAT_FEED_HEARTBEAT_FILE=str(tmp_path / "heartbeat"), STOCKCHAT_FEED_STALE_SECONDS="3")
    feed = subprocess.Popen(
        [str(ENTRYPOINT), "feed"], cwd=ROOT, env=container_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_until(lambda: feed_health(container_env) == 0, what="a fresh feed heartbeat", timeout=60, process=feed)
        assert (tmp_path / "role").read_text().strip() == "feed"
        feed.send_signal(signal.SIGSTOP)
        wait_until(lambda: feed_health(container_env) == 1, what="the hung feed to go stale", timeout=30)
        feed.send_signal(signal.SIGCONT)
        wait_until(lambda: feed_health(container_env) == 0, what="the feed to tick again", timeout=30, process=feed)
    finally:
        feed.send_signal(signal.SIGCONT)
        stop(feed)
