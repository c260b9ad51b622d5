"""deploy/ecs/release.sh: runs the new image's release command once, and fails when it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stockchat.deploy.tests.conftest import ROOT

# A stand-in for the AWS CLI that answers the calls the script makes and records them.
FAKE_AWS = r"""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps(args) + "\n")
def opt(name):
    return args[args.index(name) + 1]
if args[:2] == ["cloudformation", "describe-stacks"]:
    key = opt("--query").split("'")[1]
    print({"ClusterName": "sc-cluster", "ReleaseTaskDefinitionArn": "arn:td/sc-release:3",
           "TaskSubnets": "subnet-a,subnet-b", "TaskSecurityGroup": "sg-1"}[key])
elif args[:2] == ["ecs", "describe-task-definition"]:
    print(json.dumps({"family": "sc-release", "revision": 3, "status": "ACTIVE", "cpu": "512", "memory": "1024",
        "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "executionRoleArn": "arn:role/x",
        "taskRoleArn": "arn:role/release", "containerDefinitions": [{"name": "release", "image": "old:1",
        "command": ["release"],
        "secrets": [{"name": "DJANGO_SECRET_KEY", "valueFrom": "arn:secret"}]}]}))
elif args[:2] == ["ecs", "register-task-definition"]:
    print("arn:td/sc-release:4")
elif args[:2] == ["ecs", "run-task"]:
    print("arn:task/1")
elif args[:2] == ["ecs", "describe-tasks"]:
    print(os.environ["EXIT_CODE"])
"""


@pytest.mark.parametrize("exit_code", ["0", "1"])
def test_release_registers_the_new_image_runs_it_once_and_reports(tmp_path, exit_code):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(f"#!{sys.executable}\n{FAKE_AWS}")
    aws.chmod(0o755)
    calls = tmp_path / "calls"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "EXIT_CODE": exit_code,
        "AWS_REGION": "eu-west-1",
    }
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/ecs/release.sh"), "sc", "repo/stockchat:new"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    made = [json.loads(line) for line in calls.read_text().splitlines()]
    register = next(c for c in made if c[:2] == ["ecs", "register-task-definition"])
    definition = json.loads(register[register.index("--cli-input-json") + 1])
    container = definition["containerDefinitions"][0]
    assert definition["family"] == "sc-release"
    assert definition["taskRoleArn"] == "arn:role/release"  # the release step's own role
    assert container["image"] == "repo/stockchat:new"
    assert container["command"] == ["release"]
    assert container["secrets"] == [{"name": "DJANGO_SECRET_KEY", "valueFrom": "arn:secret"}]
    assert "revision" not in definition
    run = next(c for c in made if c[:2] == ["ecs", "run-task"])
    assert run[run.index("--task-definition") + 1] == "arn:td/sc-release:4"
    assert sum(1 for c in made if c[:2] == ["ecs", "run-task"]) == 1
    assert ["ecs", "wait", "tasks-stopped", "--region", "eu-west-1", "--cluster", "sc-cluster", "--tasks",
            "arn:task/1"] in made  # fmt: skip
    # Every call names the region: nothing depends on the operator's default profile.
    assert all(call[call.index("--region") + 1] == "eu-west-1" for call in made)
    if exit_code == "0":
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert "release failed (exit code 1)" in result.stderr


def test_release_refuses_to_guess_the_region(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/ecs/release.sh"), "sc", "repo/stockchat:new"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "AWS_REGION must name the stack's region" in result.stderr
