"""What every section of the benchmark shares: the servers judged, medians, ratios, users and HTTP runs."""

from __future__ import annotations

import re
import statistics
import tempfile
from pathlib import Path

from bench import harness

RESULTS = harness.ROOT / "bench" / "results"
SERVERS = ("uvicorn", "daphne")


def image_default_server() -> str:
    """The web server the Docker image runs when STOCKCHAT_WEB_SERVER is unset: the report judges that one."""
    entrypoint = (harness.ROOT / "docker" / "entrypoint.sh").read_text()
    return re.search(r"STOCKCHAT_WEB_SERVER:-(\w+)", entrypoint).group(1)


DEFAULT_SERVER = image_default_server()


def judged_server(args) -> str:
    """The server whose figures the targets are judged on: the default one when it was measured."""
    return DEFAULT_SERVER if DEFAULT_SERVER in args.servers else args.servers[0]


def server_label(name: str, args) -> str:
    return f"{name} (judged)" if name == judged_server(args) else name


def median_of(runs: list[dict]) -> dict:
    """The median of each numeric figure over the runs (other values from the last run)."""
    merged = dict(runs[-1])
    for key, value in runs[-1].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            merged[key] = statistics.median(run[key] for run in runs)
    merged["runs"] = len(runs)
    return merged


def repeat(times: int, fn) -> dict:
    return median_of([fn() for _ in range(times)])


def ratio(value: float, base: float) -> str:
    if not base or value != value or base != base:
        return "n/a"
    return f"{value / base:.2f}x"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


_USERS: list = []
_COOKIES: list[str] = []


def bench_users(count: int) -> tuple[list, list[str]]:
    """``count`` signed-in users with accounts (made once, shared by the sections)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    while len(_USERS) < count:
        user = User.objects.create_user(f"member{len(_USERS):04d}")  # opens the trading account
        _USERS.append(user)
        _COOKIES.extend(harness.session_cookies([user]))
    harness.close_db()
    return _USERS[:count], _COOKIES[:count]


def others_note(figures: dict, args, met, key: str, base: float) -> str:
    """The target's outcome for the servers that are not judged, as a note."""
    notes = [
        f"{server} would have {'met' if met(figures[server]) else 'missed'} it ({ratio(figures[server][key], base)})"
        for server in args.servers
        if server != judged_server(args)
    ]
    return "; " + "; ".join(notes) if notes else ""


def api_tokens(users) -> list[str]:
    from accounts.services import api_token_create

    tokens = [api_token_create(user=user, name="bench")[1] for user in users]
    harness.close_db()
    return tokens


def web_configurations(args) -> list[tuple[str, int]]:
    """(server, processes) pairs the orders and API figures are measured with: each server with one
    process, then uvicorn with ``--web-processes`` workers when that is more than one."""
    configurations = [(server, 1) for server in args.servers]
    if args.web_processes > 1:
        configurations.append(("uvicorn", args.web_processes))
    return configurations


def configuration_key(server: str, processes: int) -> str:
    return server if processes == 1 else f"{server}x{processes}"


def configuration_label(server: str, processes: int, args) -> str:
    if processes == 1:
        return server_label(server, args)
    return f"{server}, {processes} processes"


def http_figures(server: harness.Server, requests: list[dict], args, stack: harness.Stack | None = None) -> dict:
    """Throughput and latency under ``args.clients`` clients (median of ``args.http_runs``), with the
    CPU each answered request cost the server, PostgreSQL and Redis (from /proc, over the whole run),
    then the latency of one client alone (no queueing: what a single request costs end to end)."""
    config = {
        "mode": "http",
        "host": "127.0.0.1",
        "port": server.port,
        "clients": args.clients,
        "seconds": args.http_seconds,
        "requests": requests,
    }
    processes = {"server": server.process.pid}
    if stack is not None:
        processes.update(postgres=harness.postgres_pid(stack.postgres), redis=stack.redis.process.pid)

    def measured() -> dict:
        before = {name: harness.tree_cpu_seconds(pid) for name, pid in processes.items()}
        figures = harness.run_loadgen(config)
        for name, pid in processes.items():
            spent = harness.tree_cpu_seconds(pid) - before[name]
            figures[f"{name}_cpu_ms"] = spent * 1000 / max(figures["answered"], 1)
        return figures

    figures = repeat(args.http_runs, measured)
    single = harness.run_loadgen({**config, "clients": 1, "seconds": min(2.0, args.http_seconds), "warmup_seconds": 1})
    figures["single_p50_ms"] = single["p50_ms"]
    return figures


def profiled(server: harness.Server, args, measure):
    """``measure()``, with the server sampled by py-spy through its first run when ``--profile`` is
    given: (figures, percent of samples by phase, or None)."""
    if not getattr(args, "profile", False):
        return measure(), None
    from bench.phases import percent_by_phase

    output = Path(tempfile.mkstemp(prefix="stockchat-bench-profile-", suffix=".txt")[1])
    spy = server.profile(2 + args.http_seconds, output)
    try:
        figures = measure()
    finally:
        spy.wait(timeout=120)
    phases = percent_by_phase(output)
    output.unlink(missing_ok=True)
    return figures, phases


def phase_lines(title: str, phases: dict[str, float] | None) -> list[str]:
    """A report table of ``profiled``'s phases."""
    if not phases:
        return []
    lines = ["", title, "", "| phase | % of samples |", "|---|---|"]
    lines += [f"| {phase} | {share:.1f} |" for phase, share in phases.items()]
    return lines


def cpu_cells(row: dict) -> str:
    """The table cells ``http_figures`` adds: one client's p50, and CPU ms per request by process."""
    if "single_p50_ms" not in row:
        return "| n/a | n/a | n/a | n/a |"
    cpu = [f"{row[key]:.2f}" if key in row else "n/a" for key in ("server_cpu_ms", "postgres_cpu_ms", "redis_cpu_ms")]
    return f"| {row['single_p50_ms']:.1f} | " + " | ".join(cpu) + " |"


CPU_COLUMNS = "1 client p50 ms | CPU ms/request: server | PostgreSQL | Redis |"


def processes_note(args) -> str:
    if args.web_processes <= 1:
        return ""
    return (
        f" The row with {args.web_processes} processes is uvicorn `--workers {args.web_processes}` (one listening "
        "socket shared by the workers), all pinned to the one server core: it shows what several processes give "
        "a server that waits on the database rather than on its CPU. daphne has no such option, and Twisted's "
        "asyncio reactor cannot adopt a shared listening socket (`daphne --fd`), so daphne runs one process."
    )
