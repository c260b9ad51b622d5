"""The OpenAPI schema against the live app: schemathesis (pinned in requirements-dev.txt) runs
all its checks on every operation of ``/api/v1/schema/``, against uvicorn with debug off on the
PostgreSQL test database, signed in with an API token as one of two people who trade a small
market and chat. Any server error, undocumented status, body or header fails the test.

The number of examples per operation is bounded (``MAX_EXAMPLES``) and the seed fixed, so the run
is repeatable and takes about a minute; ``STOCKCHAT_SCHEMATHESIS_EXAMPLES`` raises it for a
deeper run by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accounts import services as account_services
from chat import services as chat_services
from testsupport.processes import app_environment, start_uvicorn
from trading import services as trading_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("STOCKCHAT_SCHEMATHESIS_EXAMPLES", "12"))
SEED = 20261203
RUN_TIMEOUT_SECONDS = 600


@pytest.fixture
def live_api(people, market):
    alice, bob = people
    trading_services.order_place(user=alice, symbol="ACME", side="buy", type="limit", quantity=1, limit_price="1")
    trading_services.order_place(user=alice, symbol="ACME", side="buy", quantity=2)
    trading_services.watchlist_create(owner=alice, name="Tech", symbols=["ACME", "BOLT"])
    direct = chat_services.direct_start(user=alice, other_username="bob")
    chat_services.message_send(user=bob, conversation_id=direct.pk, body="hello $ACME")
    chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    _, token = account_services.api_token_create(user=alice, name="schemathesis")
    account_services.api_token_create(user=bob, name="schemathesis")
    env = app_environment(DJANGO_DEBUG="false", DJANGO_SECURE_SSL_REDIRECT="false")
    # uvicorn, as the image runs it: daphne (Twisted) answers some malformed multipart bodies
    # itself, with an empty 400, before the app sees them.
    server, port = start_uvicorn(env)
    try:
        yield f"http://127.0.0.1:{port}", token, server
    finally:
        server.stop()


def test_the_api_answers_as_its_openapi_schema_says(live_api, tmp_path):
    url, token, server = live_api
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or "st"
    command = [
        st,
        f"--config-file={Path(__file__).with_name('schemathesis.toml')}",
        "run",
        f"{url}/api/v1/schema/",
        "--checks=all",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        "--no-shrink",
        "--phases=examples,coverage,fuzzing,stateful",
        "--suppress-health-check=all",
        "--request-timeout=20",
        # --checks=all includes max_response_time (10 s by default): raised to the request timeout, so
        # an answer is judged by what it says, never by how long it took on a shared machine.
        "--max-response-time=20",
        f"--header=Authorization: Bearer {token}",
        "--report=junit",
        f"--report-dir={tmp_path}",
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False, cwd=tmp_path
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:] + "\n--- server log ---\n" + server.output()[-5000:]
