"""The benchmark code imports, its baseline relay relays, uvicorn runs with several processes, and
the report shows every server's rows (no timings asserted here)."""

from __future__ import annotations

import importlib
import os
import urllib.error
import urllib.request

import pytest

from bench import harness, run


@pytest.mark.parametrize(
    "module", ["bench.harness", "bench.loadgen", "bench.raw_orders", "bench.run", "bench.tutorial"]
)
def test_bench_modules_import(module):
    importlib.import_module(module)


def test_relay_delivers_every_message_in_order_to_every_client():
    relay = harness.start_relay()
    try:
        result = harness.run_loadgen(
            {
                "mode": "fanout",
                "protocol": "relay",
                "url": f"ws://127.0.0.1:{relay.port}/",
                "origin": "http://localhost",
                "cookies": [None] * 5,
                "rate": 50,
                "seconds": 0.4,
                "warmup": 2,
                "conversation_id": 0,
                "windows": 2,
            },
            timeout=120,
        )
    finally:
        relay.stop()
    assert len(result["windows"]) == 2
    result = result["windows"][1]
    assert result["sent"] == 20
    assert result["members"] == 5
    assert result["delivered_pct"] == 100.0
    assert result["gaps"] == 0


def test_percentile_picks_from_the_sorted_values():
    assert harness.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert harness.percentile([], 0.99) != harness.percentile([], 0.99)  # NaN when there is nothing


def test_uvicorn_serves_the_app_with_several_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    server = harness.start_uvicorn(dict(os.environ), processes=2)
    try:
        assert server.log.read_text().count("Started server process") == 2
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:  # 503: this database has no tables
            status = error.code
        assert status in (200, 503)
    finally:
        server.stop()


def test_daphne_is_not_started_with_several_processes():
    with pytest.raises(ValueError, match="uvicorn only"):
        harness.start_server("daphne", {}, processes=2)


def row(**figures) -> dict:
    return {"runs": 2, **figures}


def chat(p99: float) -> dict:
    return row(p50_ms=p99 / 2, p99_ms=p99, delivered_pct=100.0, gaps=0)


def api(ok_per_s: float) -> dict:
    return row(ok_per_s=ok_per_s, p50_ms=10.0, p99_ms=20.0, statuses={"200": 10})


def idle(kib: float) -> dict:
    return row(handshakes_per_s=100.0, kib_per_socket=kib, cpu_us_per_socket_second=0.0, alive_at_end=5, sockets=5)


def test_report_shows_both_servers_judges_the_default_and_notes_the_other():
    args = run.parse_args(["--web-processes", "2", "--accounts", "10"])
    # uvicorn (the image's default) misses every target, daphne meets them: the verdict is uvicorn's.
    results = {
        "chat": {"relay": chat(10.0), "uvicorn": chat(50.0), "daphne": chat(15.0), "tutorial": chat(60.0)},
        "prices": {
            "relay": row(deliveries_per_s=100.0, p50_age_ms=5.0, p99_age_ms=10.0),
            "uvicorn": row(deliveries_per_s=10.0, p50_age_ms=50.0, p99_age_ms=100.0),
            "daphne": row(deliveries_per_s=100.0, p50_age_ms=5.0, p99_age_ms=20.0),
            "daphne graphql": row(deliveries_per_s=80.0, p50_age_ms=6.0, p99_age_ms=25.0),
            "ticks_per_s": 5.0,
        },
        "orders": {
            "hot_raw": row(orders_per_s=100.0),
            "hot_api": {"uvicorn": api(5.0), "daphne": api(50.0)},
            "spread_raw": row(orders_per_s=100.0),
            "spread_api": {"uvicorn": api(5.0), "daphne": api(50.0), "uvicornx2": api(70.0)},
            "violations": 0,
        },
        "api": {
            "uvicorn": {"constant": api(100.0), "portfolio": api(10.0), "bars": api(10.0)},
            "daphne": {"constant": api(120.0), "portfolio": api(80.0), "bars": api(70.0)},
            "uvicornx2": {"constant": api(150.0), "portfolio": api(100.0), "bars": api(90.0)},
        },
        "idle": {"relay": idle(40.0), "uvicorn": idle(100.0), "daphne": idle(50.0)},
    }
    text = "\n".join(
        line for name, (_, report) in run.SECTIONS.items() if name in results for line in report(results[name], args)
    )
    assert "| stockchat: uvicorn (judged), `/ws/`" in text
    assert "| stockchat: daphne, `/ws/`" in text
    assert "| stockchat: feed worker, Redis, daphne |" in text
    assert "| stockchat: the same, GraphQL `quotes` subscription at `/graphql/` | 80 | 0.80x |" in text
    assert "| 10 | uvicorn, 2 processes | 100 | 70 | 0.70x |" in text
    assert "| 1 (hot) | uvicorn, 2 processes" not in text
    assert "| `/api/v1/assets/ACME/bars` | uvicorn, 2 processes | 90 | 0.90x |" in text
    assert "| stockchat: daphne `/ws/` |" in text
    for target in ("p99 ≤ 1.5x baseline", "the baseline's deliveries/s", "0.1x the baseline", "0.3x the baseline"):
        verdict = next(line for line in text.splitlines() if line.startswith("Target:") and target in line)
        assert "**missed** for uvicorn" in verdict
        assert "daphne would have met it" in verdict
    assert "**missed** for uvicorn (memory **missed**, CPU **met**); daphne would have met it" in text


def test_the_report_judges_the_server_the_image_runs_by_default():
    assert run.DEFAULT_SERVER == "uvicorn"
    assert run.judged_server(run.parse_args([])) == "uvicorn"


def test_profile_samples_go_to_the_phase_of_their_innermost_frame(tmp_path):
    from bench.phases import percent_by_phase

    collapsed = tmp_path / "stacks.txt"
    collapsed.write_text(
        "run (uvicorn/server.py:1);stock_get (trading/selectors.py:9);execute (psycopg/cursor.py:3) 3\n"
        "run (uvicorn/server.py:1);stock_get (trading/selectors.py:9) 1\n"
        "run (uvicorn/server.py:1) 4\n"
    )
    assert percent_by_phase(collapsed) == {
        "web server (uvicorn, daphne, event loop)": 50.0,
        "PostgreSQL driver and pool (psycopg)": 37.5,
        "stock lookup and visibility": 12.5,
    }
