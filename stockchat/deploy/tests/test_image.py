"""The Dockerfile: where the base image comes from, and what the health check expects of it."""

from __future__ import annotations

import re

from stockchat.deploy.tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_base_image_comes_from_ecr_public_pinned_by_digest():
    # Docker Hub limits anonymous pulls (Beanstalk instances build the image); the
    # ECR Public mirror of the official image does not, and a digest pins the bytes.
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base, "the base image is one ARG"
    assert re.fullmatch(r"public\.ecr\.aws/docker/library/python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base[1])
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_the_image_tells_the_feed_where_its_heartbeat_goes():
    healthcheck = (ROOT / "docker/healthcheck.py").read_text()
    default = re.search(r'DEFAULT_HEARTBEAT_FILE = "([^"]+)"', healthcheck)[1]
    assert f"STOCKCHAT_FEED_HEARTBEAT_FILE={default}" in DOCKERFILE
