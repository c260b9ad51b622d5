"""Elastic Beanstalk files: health check, WebSocket proxying, and the leader-only release step."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from stockchat.deploy.tests.conftest import ROOT


def load_config(name: str) -> dict:
    return yaml.safe_load((ROOT / ".ebextensions" / name).read_text())


def test_load_balancer_checks_healthz_and_keeps_sockets_open():
    options = load_config("01_stockchat.config")["option_settings"]
    process = options["aws:elasticbeanstalk:environment:process:default"]
    assert process["HealthCheckPath"] == "/healthz"
    assert process["StickinessEnabled"] == "false"
    assert options["aws:elasticbeanstalk:environment"]["LoadBalancerType"] == "application"
    assert int(options["aws:elbv2:loadbalancer"]["IdleTimeout"]) >= 60
    environment = options["aws:elasticbeanstalk:application:environment"]
    assert environment["STOCKCHAT_BEHIND_LOAD_BALANCER"] == "true"
    # The ALB and the instance's nginx both append to X-Forwarded-For.
    assert environment["STOCKCHAT_TRUSTED_PROXY_HOPS"] == "2"


def test_websocket_upgrades_are_proxied():
    conf = (ROOT / ".platform/nginx/conf.d/elasticbeanstalk/stockchat-websocket.conf").read_text()
    assert "location /ws/" in conf
    assert "proxy_set_header    Upgrade $http_upgrade;" in conf
    assert 'proxy_set_header    Connection "upgrade";' in conf
    assert "proxy_http_version  1.1;" in conf


def test_release_runs_on_the_leader_only():
    commands = load_config("02_release.config")["container_commands"]
    assert commands == {"01_release": {"command": "sh deploy/beanstalk/release.sh", "leader_only": True}}


def test_release_script_runs_the_image_release_command_with_the_environment(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "docker-calls"
    # Stand-ins for the instance's tools: docker records what it was asked to
    # run (and the env file it was given), get-config prints the properties.
    (bin_dir / "docker").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        'if [ "$1" = build ]; then echo sha256:0123abcd; exit 0; fi\n'
        f'while [ "$#" -gt 0 ]; do [ "$1" = --env-file ] && cp "$2" {tmp_path}/env-seen; shift; done\n'
    )
    properties = {"DJANGO_SECRET_KEY": "k" * 50, "DATABASE_URL": "postgresql://u:p@db/stockchat"}
    (bin_dir / "get-config").write_text(f"#!/bin/sh\n[ \"$1\" = environment ] && echo '{json.dumps(properties)}'\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "EB_GET_CONFIG": str(bin_dir / "get-config")}
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/beanstalk/release.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    build, run = calls.read_text().splitlines()
    assert build == "build --quiet ."
    assert run.startswith("run --rm --env-file ")
    assert run.endswith(" sha256:0123abcd release")
    assert (tmp_path / "env-seen").read_text().splitlines() == [f"{k}={v}" for k, v in properties.items()]
    # The env file held secrets: it is gone.
    env_file = Path(run.split()[3])
    assert not env_file.exists()


def test_release_script_leaves_a_feed_environment_alone(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f"#!/bin/sh\necho called >> {tmp_path}/docker-calls\n")
    (bin_dir / "get-config").write_text('#!/bin/sh\necho \'{"STOCKCHAT_PROCESS": "feed"}\'\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "EB_GET_CONFIG": str(bin_dir / "get-config")}
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/beanstalk/release.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "docker-calls").exists()
