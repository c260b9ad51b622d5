"""The Beanstalk nginx files in front of the real web container: sockets upgrade, /healthz answers.

nginx runs with a main configuration shaped like the Docker platform's (http-level
``conf.d/*.conf``, the ``docker`` upstream, a default ``location /``, server-level
``conf.d/elasticbeanstalk/*.conf``) and the repository's ``.platform/nginx`` files.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess

import pytest

from stockchat.deploy.tests.conftest import ROOT
from stockchat.deploy.tests.containers import get, run, start_web, stop
from testsupport.plugin import require_service
from testsupport.servers import free_port
from testsupport.waiting import wait_until

PLATFORM_LIKE_NGINX = """
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{}}
http {{
  access_log {root}/access.log;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  include {root}/conf.d/*.conf;
  upstream docker {{ server 127.0.0.1:{app_port}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://docker;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
    include {root}/conf.d/elasticbeanstalk/*.conf;
  }}
}}
"""


@pytest.fixture
def nginx_in_front(tmp_path):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if binary is None:
        require_service("nginx is not installed (apt-get install nginx-light)")
    root = tmp_path / "nginx"
    shutil.copytree(ROOT / ".platform" / "nginx" / "conf.d", root / "conf.d")
    (root / "tmp").mkdir()
    app_port, port = free_port(), free_port()
    (root / "nginx.conf").write_text(PLATFORM_LIKE_NGINX.format(root=root, app_port=app_port, port=port))
    started = subprocess.run([binary, "-c", str(root / "nginx.conf"), "-p", str(root)], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    wait_until((root / "nginx.pid").exists, what="nginx", timeout=30, log=root / "error.log")
    yield app_port, port
    subprocess.run([binary, "-c", str(root / "nginx.conf"), "-p", str(root), "-s", "stop"], capture_output=True)


def handshake(port: int, origin: str, cookie: str) -> tuple[bytes, bytes]:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /ws/ HTTP/1.1\r\nHost: stockchat.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
        f"Cookie: {cookie}\r\nX-Forwarded-Proto: https\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        status, _, rest = data.partition(b"\r\n")
        if not status.startswith(b"HTTP/1.1 101"):
            return status, b""
        body = rest.partition(b"\r\n\r\n")[2]
        while b"hello" not in body:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
        return status, body


def test_websockets_upgrade_through_the_platform_proxy(nginx_in_front, container_env):
    app_port, port = nginx_in_front
    container_env["DJANGO_ALLOWED_HOSTS"] = "stockchat.example.com"
    container_env["STOCKCHAT_BEHIND_LOAD_BALANCER"] = "true"
    # As .ebextensions/01_stockchat.config sets it: the ALB and this nginx.
    container_env["STOCKCHAT_TRUSTED_PROXY_HOPS"] = "2"
    assert run(container_env, "migrate").returncode == 0
    made = run(
        container_env,
        "manage",
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; from django.test import Client; "
        "u = get_user_model().objects.create_user('alice', 'a@example.com', 'pw-123456789'); "
        "c = Client(); c.force_login(u); print(c.cookies['sessionid'].value)",
    )
    assert made.returncode == 0, made.stderr
    cookie = f"sessionid={made.stdout.strip().splitlines()[-1]}"
    web = start_web(container_env, app_port)
    try:
        status, frames = handshake(port, "https://stockchat.example.com", cookie)
        assert status == b"HTTP/1.1 101 Switching Protocols"
        assert b'"type":"hello"' in frames
        assert b'"user":"alice"' in frames
        # The origin check still applies behind the proxy, scheme included: the page was
        # served over HTTPS (X-Forwarded-Proto), so an http:// origin is another site.
        assert handshake(port, "https://evil.example.net", cookie)[0].startswith(b"HTTP/1.1 403")
        assert handshake(port, "http://stockchat.example.com", cookie)[0].startswith(b"HTTP/1.1 403")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 10.0.1.7\r\nConnection: close\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
        # As the ALB would pass it on: the client's forged entry, then the address the ALB saw.
        # nginx appends its own peer; the app must pick the ALB's entry, not the forged one.
        get(
            port,
            "/nothing-here",
            {
                "Host": "stockchat.example.com",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "6.6.6.6, 198.51.100.7",
                "X-Request-ID": "through-nginx",
            },
        )
    finally:
        stop(web)
    lines = [
        json.loads(line) for line in web.stdout.read().decode(errors="replace").splitlines() if line.startswith("{")
    ]
    (through_nginx,) = [
        line for line in lines if line.get("request_id") == "through-nginx" and line["logger"] == "stockchat.request"
    ]
    assert through_nginx["client"] == "198.51.100.7"
