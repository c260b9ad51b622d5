"""Shared pieces of the benchmarks: throwaway servers, pinned processes, load generators.

The orchestrating process sets Django up against a throwaway PostgreSQL and
Redis (to seed rows and sign users in); every server under test and every load
generator runs in its own process. When the machine has two or more cores,
servers run on the last core and load generators on core 0 (``taskset``), so
they do not take turns on one core.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import UVICORN_OPTIONS  # noqa: E402
from testsupport.servers import PostgresServer, RedisServer, free_port  # noqa: E402
from testsupport.waiting import port_open, wait_until  # noqa: E402

CORES = os.cpu_count() or 1
SERVER_CORE = str(CORES - 1)
CLIENT_CORE = "0"
TASKSET = shutil.which("taskset") if CORES > 1 else None


def pinned(core: str, args: list[str]) -> list[str]:
    return [TASKSET, "-c", core, *args] if TASKSET else args


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


class Stack:
    """A throwaway PostgreSQL and Redis, Django set up against them in this process."""

    def __init__(self) -> None:
        self.postgres = PostgresServer().start()
        self.redis = RedisServer().start()
        try:
            self._setup()
        except BaseException:
            self.stop()
            raise

    def _setup(self) -> None:
        import psycopg

        with psycopg.connect(self.postgres.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE stockchat")
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_DEBUG="false",
            PYTHONUNBUFFERED="1",
            # Rate limits are per user and meant for people; the load here is deliberate.
            STOCKCHAT_CHAT_SENDS_PER_MINUTE="1000000",
            STOCKCHAT_ORDER_RATE="1000000/second",
            STOCKCHAT_MARKET_FEED="off",
            # Loopback has no TLS (in production the load balancer ends it).
            DJANGO_SECURE_SSL_REDIRECT="false",
        )
        os.environ.update(
            {k: v for k, v in self.env.items() if k.startswith(("DJANGO_", "STOCKCHAT_", "DATABASE_", "REDIS_"))}
        )
        os.environ["DJANGO_SETTINGS_MODULE"] = "stockchat.settings"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        # DEBUG is off, so pages need the collected, hashed static files.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        subprocess.run(
            [sys.executable, "manage.py", "load_demo_data", "--allow-without-debug"],
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        import django

        django.setup()

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()


def session_cookies(users) -> list[str]:
    """A signed-in ``sessionid`` for each user, made the way a sign-in makes it."""
    from django.test import Client

    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return cookies


def close_db() -> None:
    from django.db import connections

    connections.close_all()


class Server:
    """A server process pinned to the server core, stopped on ``stop()``."""

    def __init__(self, args: list[str], env: dict[str, str], name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.log = Path(tempfile.mkstemp(prefix=f"stockchat-bench-{name}-", suffix=".log")[1])
        self._log = self.log.open("wb")
        self.process = subprocess.Popen(
            pinned(SERVER_CORE, args), cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_until(
            lambda: port_open(port),
            what=f"{name} listening on port {port}",
            timeout=60,
            process=self.process,
            log=self.log,
            error=RuntimeError,
        )

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 60) -> None:
        wait_until(
            lambda: self.log.read_text(errors="replace").count(text) >= count,
            what=f"{self.name} logging {text!r} {count} times",
            timeout=timeout,
            process=self.process,
            log=self.log,
            error=RuntimeError,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self.log.unlink(missing_ok=True)

    def profile(self, seconds: float, output: Path) -> subprocess.Popen:
        """Sample the server with py-spy for ``seconds`` into collapsed stacks (``-f raw``)."""
        spy = Path(sys.executable).with_name("py-spy")
        args = [str(spy), "record", "--pid", str(self.process.pid), "--duration", str(int(seconds)), "--rate", "200"]
        return subprocess.Popen(
            [*args, "--format", "raw", "--output", str(output), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    # /proc figures of the server process (the child of taskset execs in place).
    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> tuple[int, float]:
    """(parent pid, user + system CPU seconds) of one process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int | None) -> float:
    """CPU seconds of ``root`` and every process under it (uvicorn's workers, PostgreSQL's backends)."""
    if root is None:
        return 0.0
    parents, cpu = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)], cpu[int(entry.name)] = _cpu_of(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    wanted, total = {root}, 0.0
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += cpu.get(pid, 0.0)
    return total


def postgres_pid(postgres: PostgresServer) -> int | None:
    pidfile = postgres.datadir / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (FileNotFoundError, PermissionError, IndexError, ValueError):
        return None


def start_gunicorn(env: dict[str, str], app: str = "bench.wsgi:application", threads: int = 8) -> Server:
    """gunicorn, one process with ``threads`` threads (keep-alive, as the ASGI servers), the WSGI baseline."""
    port = free_port()
    args = [
        *[sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        *["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30", app],
    ]
    server = Server(args, env, "gunicorn", port)
    # The master listens before its worker has loaded Django: wait for an answer, not the port.
    wait_until(
        lambda: _answers(port, "/bench/constant"),
        what="gunicorn answering",
        timeout=60,
        process=server.process,
        log=server.log,
        error=RuntimeError,
    )
    return server


def _answers(port: int, path: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status < 500
    except (OSError, urllib.error.URLError):
        return False


def start_daphne(env: dict[str, str], app: str = "stockchat.asgi:application", **extra: str) -> Server:
    port = free_port()
    env = {**env, **extra}
    return Server([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app], env, "daphne", port)


def start_uvicorn(env: dict[str, str], app: str = "stockchat.asgi:application", processes: int = 1) -> Server:
    """uvicorn with the options the Docker entrypoint gives it; ``processes`` > 1 runs that many
    workers (``--workers``) on one listening socket, all pinned to the server core."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), *UVICORN_OPTIONS]
    if processes > 1:
        args += ["--workers", str(processes)]
    server = Server([*args, app], env, "uvicorn", port)
    if processes > 1:
        # The parent listens before its workers have loaded the app; each worker logs this once loaded.
        server.wait_for_log("Started server process", processes)
    return server


def start_server(name: str, env: dict[str, str], app: str = "stockchat.asgi:application", processes: int = 1) -> Server:
    """``name`` is ``daphne`` or ``uvicorn``. Several processes need uvicorn: daphne has no
    workers option, and Twisted's asyncio reactor cannot adopt a listening socket shared with
    other processes (``daphne --fd``)."""
    if name == "uvicorn":
        return start_uvicorn(env, app, processes)
    if processes > 1:
        raise ValueError("several web processes on one port are measured with uvicorn only")
    return start_daphne(env, app)


def start_relay() -> Server:
    port = free_port()
    return Server(
        [sys.executable, str(ROOT / "bench" / "relay.py"), "--port", str(port)], dict(os.environ), "relay", port
    )


def start_feed_worker(env: dict[str, str], interval: float) -> subprocess.Popen:
    """The market feed worker, on the server core (it is part of the server side)."""
    args = [sys.executable, "manage.py", "run_market_feed", "--interval", str(interval), "--seed", "1"]
    return subprocess.Popen(pinned(SERVER_CORE, args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def run_loadgen(config: dict, timeout: float = 300) -> dict:
    """Run ``bench/loadgen.py`` pinned to the client core; it prints one JSON object."""
    return run_script("loadgen.py", config, CLIENT_CORE, timeout)


def run_script(name: str, config: dict, core: str = SERVER_CORE, timeout: float = 300) -> dict:
    """Run a script of ``bench/`` with a JSON config, pinned to ``core``; it prints one JSON object."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(config, handle)
        handle.flush()
        result = subprocess.run(
            pinned(core, [sys.executable, str(ROOT / "bench" / name), "@" + handle.name]),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def hold_idle(config: dict, server: Server, idle_seconds: float) -> dict:
    """Open ``config["count"]`` sockets (bench/loadgen.py ``idle``), then read the server's CPU
    time and memory while they sit idle for ``idle_seconds``."""
    rss_before = server.rss_kib()
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(config, handle)
        handle.flush()
        process = subprocess.Popen(
            pinned(CLIENT_CORE, [sys.executable, str(ROOT / "bench" / "loadgen.py"), "@" + handle.name]),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        opened = json.loads(process.stdout.readline())
        time.sleep(2.0)  # let the last handshakes' work settle
        cpu_before = server.cpu_seconds()
        time.sleep(idle_seconds)
        cpu = server.cpu_seconds() - cpu_before
        rss_after = server.rss_kib()
        out, _ = process.communicate("close\n", timeout=120)
    final = json.loads(out.strip().splitlines()[-1])
    count = opened["opened"]
    return {
        "sockets": count,
        "alive_at_end": final["alive_at_end"],
        "handshakes_per_s": opened["handshakes_per_s"],
        "kib_per_socket": (rss_after - rss_before) / count,
        "cpu_us_per_socket_second": cpu / idle_seconds / count * 1e6,
    }
