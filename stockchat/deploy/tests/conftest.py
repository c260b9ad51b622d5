"""A real S3-compatible server (SeaweedFS) for the storage tests, and settings read from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[3]

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-long-production-like-secret-key-Zx81-q9Lm-Vt03-Rr7c-Pp4e-Kk2w",
    "DJANGO_ALLOWED_HOSTS": "stockchat.example.com",
}


def settings_from_env(env: dict[str, str], *names: str) -> dict:
    """The named settings as stockchat/settings.py computes them from ``env``, in a fresh interpreter."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "AWS_", "COGNITO_", "OIDC_", "STOCKCHAT_")) and k not in {"DATABASE_URL"}
    }
    clean.update(DJANGO_SETTINGS_MODULE="stockchat.settings", **PRODUCTION_ENV, **env)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return json.loads(result.stdout)


@pytest.fixture
def s3_client(s3_server, monkeypatch):
    # boto3 inside django-storages reads the credentials from the environment, as on AWS.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        region_name=s3_server.region,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
    )
    yield client
    client.close()


@pytest.fixture
def buckets(s3_client):
    """Two fresh buckets (static, media) for this test, as the deployment template makes them."""
    suffix = uuid.uuid4().hex[:10]
    names = {"static": f"static-{suffix}", "media": f"media-{suffix}"}
    for name in names.values():
        s3_client.create_bucket(Bucket=name)
    # Like the template's bucket policy: anyone may read static/*, nothing else.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{names['static']}/static/*",
            }
        ],
    }
    s3_client.put_bucket_policy(Bucket=names["static"], Policy=json.dumps(policy))
    return names


@pytest.fixture
def s3_env(s3_server, buckets) -> dict[str, str]:
    return {
        "AWS_STORAGE_BUCKET_NAME": buckets["static"],
        "AWS_MEDIA_BUCKET_NAME": buckets["media"],
        "AWS_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "AWS_S3_REGION_NAME": s3_server.region,
    }


@pytest.fixture
def use_s3_settings(settings, s3_env):
    """Apply the storages stockchat/settings.py builds from the S3 variables to this process."""

    def apply(**extra_env: str) -> dict:
        computed = settings_from_env({**s3_env, **extra_env}, "STORAGES", "STATIC_URL", "CSP_DIRECTIVES")
        settings.STORAGES = computed["STORAGES"]
        settings.STATIC_URL = computed["STATIC_URL"]
        settings.CSP_DIRECTIVES = computed["CSP_DIRECTIVES"]
        return computed

    return apply


@pytest.fixture
def container_env(tmp_path) -> dict[str, str]:
    """The environment of a container of the image, on a throwaway SQLite database."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_", "STOCKCHAT_", "COGNITO_", "OIDC_"))
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(PRODUCTION_ENV)
    env.update(
        DJANGO_SETTINGS_MODULE="stockchat.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STOCKCHAT_ROLE_FILE=str(tmp_path / "role"),
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
    )
    return env
