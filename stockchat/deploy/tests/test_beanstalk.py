"""Elastic Beanstalk files: the two environments' options, WebSocket proxying, metadata, the release step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stockchat.deploy.tests.conftest import ROOT

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stockchat/django-AbCdEf"
HOP_LIMIT_HOOK = ROOT / ".platform/hooks/prebuild/01_metadata_hop_limit.sh"


def load_config(name: str) -> dict:
    return yaml.safe_load((ROOT / ".ebextensions" / name).read_text())


def generated(*args: str) -> dict[str, dict[str, str]]:
    """deploy/beanstalk/options.py's output, by namespace."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy/beanstalk/options.py"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    by_namespace: dict[str, dict[str, str]] = {}
    for option in json.loads(result.stdout):
        by_namespace.setdefault(option["Namespace"], {})[option["OptionName"]] = option["Value"]
    return by_namespace


WEB = ("web", "--app-security-group", "sg-app", "--certificate-arn", "arn:aws:acm:eu-west-1:1:certificate/x",
       "--access-logs-bucket", "stockchat-logs", "--env", "DJANGO_ALLOWED_HOSTS=stockchat.example.com",
       "--secret", f"DJANGO_SECRET_KEY={SECRET}")  # fmt: skip
FEED = ("feed", "--app-security-group", "sg-app", "--secret", f"DJANGO_SECRET_KEY={SECRET}")


def test_shared_ebextensions_hold_nothing_a_single_instance_environment_refuses():
    # The feed environment deploys the same bundle: no load balancer, health check
    # path or rolling deployment options may come from .ebextensions.
    options = load_config("01_stockchat.config")["option_settings"]
    assert set(options) == {
        "aws:elasticbeanstalk:healthreporting:system",
        "aws:elasticbeanstalk:cloudwatch:logs",
        "aws:autoscaling:launchconfiguration",
    }
    assert options["aws:autoscaling:launchconfiguration"] == {"DisableIMDSv1": True}


def test_web_environment_checks_healthz_keeps_sockets_open_and_serves_https():
    options = generated(*WEB)
    process = options["aws:elasticbeanstalk:environment:process:default"]
    assert process["HealthCheckPath"] == "/healthz"
    assert process["StickinessEnabled"] == "false"
    assert int(options["aws:elbv2:loadbalancer"]["IdleTimeout"]) >= 60
    assert options["aws:elbv2:loadbalancer"]["AccessLogsS3Bucket"] == "stockchat-logs"
    assert options["aws:elbv2:listener:443"]["Protocol"] == "HTTPS"
    assert options["aws:elasticbeanstalk:command"]["DeploymentPolicy"] == "RollingWithAdditionalBatch"
    assert int(options["aws:autoscaling:asg"]["MinSize"]) >= 2
    environment = options["aws:elasticbeanstalk:application:environment"]
    assert environment["STOCKCHAT_BEHIND_LOAD_BALANCER"] == "true"
    # The ALB and the instance's nginx both append to X-Forwarded-For.
    assert environment["STOCKCHAT_TRUSTED_PROXY_HOPS"] == "2"
    assert environment["STOCKCHAT_SUPERUSER_GROUPS"] == "admin"
    assert environment["STOCKCHAT_STAFF_GROUPS"] == "staff"
    assert environment["STOCKCHAT_RELEASE_LISTING"] == "trading/data/listing.csv"
    assert environment["DJANGO_ALLOWED_HOSTS"] == "stockchat.example.com"


def test_feed_environment_is_one_instance_without_load_balancer_options():
    options = generated(*FEED)
    assert not [ns for ns in options if ns.startswith(("aws:elbv2", "aws:elasticbeanstalk:environment:process"))]
    assert options["aws:autoscaling:asg"] == {"MinSize": "1", "MaxSize": "1"}
    assert options["aws:elasticbeanstalk:command"] == {"DeploymentPolicy": "AllAtOnce"}
    assert options["aws:elasticbeanstalk:application:environment"]["STOCKCHAT_PROCESS"] == "feed"


@pytest.mark.parametrize("role", [WEB, FEED])
def test_both_environments_share_the_database_security_group_and_take_secrets_from_secrets_manager(role):
    options = generated(*role)
    launch = options["aws:autoscaling:launchconfiguration"]
    assert launch["SecurityGroups"] == "sg-app"
    assert launch["DisableIMDSv1"] == "true"
    assert options["aws:elasticbeanstalk:application:environmentsecrets"] == {"DJANGO_SECRET_KEY": SECRET}
    assert "DJANGO_SECRET_KEY" not in options["aws:elasticbeanstalk:application:environment"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("feed", "--app-security-group", "sg-1", "--secret", "DJANGO_SECRET_KEY=hunter2"), "must be a Secrets"),
        (
            (
                "feed",
                "--app-security-group",
                "sg-1",
                "--env",
                "DJANGO_SECRET_KEY=x",
                "--secret",
                f"DJANGO_SECRET_KEY={SECRET}",
            ),
            "both as --env and as --secret",
        ),
        (("web", "--app-security-group", "sg-1"), "web needs --certificate-arn"),
    ],
)
def test_options_refuse_a_plain_secret_and_a_web_environment_without_https(args, message):
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy/beanstalk/options.py"), *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_containers_can_reach_instance_metadata(tmp_path):
    # The hook raises the IMDSv2 hop limit to 2 on the instance it runs on, found
    # through the metadata service itself, in that instance's region.
    assert os.access(HOP_LIMIT_HOOK, os.X_OK)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "curl").write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do last="$a"; done\n'
        'case "$last" in *api/token) echo tok ;; *instance-id) echo i-0abc ;;\n'
        "  *placement/region) echo eu-west-1 ;; esac\n"
    )
    (bin_dir / "aws").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run([str(HOP_LIMIT_HOOK)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().split() == [
        "ec2", "modify-instance-metadata-options", "--region", "eu-west-1", "--instance-id", "i-0abc",
        "--http-endpoint", "enabled", "--http-tokens", "required", "--http-put-response-hop-limit", "2",
    ]  # fmt: skip


def test_instance_policy_lets_the_hook_and_the_secrets_work():
    policy = json.loads((ROOT / "deploy/beanstalk/instance-policy.json").read_text())
    actions = {s["Sid"]: s["Action"] for s in policy["Statement"]}
    assert actions["ContainersReachInstanceMetadata"] == "ec2:ModifyInstanceMetadataOptions"
    assert actions["EnvironmentSecrets"] == "secretsmanager:GetSecretValue"


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
    properties = {"DJANGO_ALLOWED_HOSTS": "stockchat.example.com", "STOCKCHAT_RELEASE_LISTING": "listing.csv"}
    options = {"aws:elasticbeanstalk:application:environmentsecrets": {"DATABASE_URL": "arn:…", "X_KEY": "arn:…"}}
    (bin_dir / "get-config").write_text(
        "#!/bin/sh\n"
        f"[ \"$1\" = environment ] && echo '{json.dumps(properties)}'\n"
        f"[ \"$1\" = optionsettings ] && echo '{json.dumps(options)}'\n"
        "exit 0\n"
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    # Beanstalk resolves environment secrets into the hook's environment.
    secrets = {"DATABASE_URL": "postgresql://u:p@db/stockchat", "X_KEY": "k" * 50}
    env = {
        **os.environ,
        **secrets,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "EB_GET_CONFIG": str(bin_dir / "get-config"),
    }
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/beanstalk/release.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    build, run = calls.read_text().splitlines()
    assert build == "build --quiet ."
    assert run.startswith("run --rm --env-file ")
    assert run.endswith(" sha256:0123abcd release")
    seen = (tmp_path / "env-seen").read_text().splitlines()
    assert seen == [f"{k}={v}" for k, v in {**properties, **secrets}.items()]
    # The env file held secrets: it is gone.
    env_file = Path(run.split()[3])
    assert not env_file.exists()


def test_release_script_leaves_a_feed_environment_alone(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f"#!/bin/sh\necho called >> {tmp_path}/docker-calls\n")
    (bin_dir / "get-config").write_text(
        '#!/bin/sh\n[ "$1" = environment ] && echo \'{"STOCKCHAT_PROCESS": "feed"}\' || echo "{}"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "EB_GET_CONFIG": str(bin_dir / "get-config")}
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/beanstalk/release.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "docker-calls").exists()


def test_release_script_refuses_a_secret_that_did_not_reach_it(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f"#!/bin/sh\necho called >> {tmp_path}/docker-calls\n")
    options = {"aws:elasticbeanstalk:application:environmentsecrets": {"STOCKCHAT_UNSET_SECRET": "arn:…"}}
    (bin_dir / "get-config").write_text(
        f"#!/bin/sh\n[ \"$1\" = optionsettings ] && echo '{json.dumps(options)}' || echo '{{}}'\n"
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "EB_GET_CONFIG": str(bin_dir / "get-config")}
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/beanstalk/release.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "environment secret STOCKCHAT_UNSET_SECRET did not reach the release step" in result.stderr
    assert not (tmp_path / "docker-calls").exists()


def test_unhealthy_containers_are_restarted_by_a_timer(tmp_path):
    # Neither Docker nor Beanstalk restarts a container whose HEALTHCHECK fails
    # (a feed with a stale heartbeat): the postdeploy hook installs a timer that does.
    hook = ROOT / ".platform/hooks/postdeploy/10_restart_unhealthy.sh"
    assert os.access(hook, os.X_OK)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "systemctl").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    (bin_dir / "systemctl").chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STOCKCHAT_SYSTEMD_DIR": str(units)}
    result = subprocess.run([str(hook)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    service = (units / "stockchat-restart-unhealthy.service").read_text()
    # systemd turns $$ into $ for the shell: the container ids are the shell's, not systemd's.
    assert "$$(docker ps --quiet --filter health=unhealthy)" in service
    assert 'docker restart "$$id"' in service
    assert "OnUnitActiveSec=1min" in (units / "stockchat-restart-unhealthy.timer").read_text()
    assert calls.read_text().splitlines() == ["daemon-reload", "enable --now stockchat-restart-unhealthy.timer"]
