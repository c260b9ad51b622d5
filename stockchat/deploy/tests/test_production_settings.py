"""Production settings as the environment gives them, each read in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stockchat.deploy.tests.conftest import PRODUCTION_ENV, ROOT, settings_from_env

# The deploy-check warnings the HTTPS/HSTS/hosts settings are responsible for.
OWN_DEPLOY_CHECKS = ("W004", "W005", "W008", "W009", "W018", "W020", "W021", "W022", "W023")


def test_debug_off_means_https_only_with_hsts():
    s = settings_from_env(
        {},
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
    )
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_REDIRECT_EXEMPT"] == ["^healthz$", "^readyz$"]
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is True
    # Django's default: X-Forwarded-Proto is not trusted unless asked for.
    assert s["SECURE_PROXY_SSL_HEADER"] is None


def test_forwarded_proto_is_trusted_only_when_behind_the_load_balancer():
    s = settings_from_env(
        {"STOCKCHAT_BEHIND_LOAD_BALANCER": "true"}, "SECURE_PROXY_SSL_HEADER", "STOCKCHAT_TRUSTED_PROXY_HOPS"
    )
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # One proxy (the ALB) unless told otherwise: never an entry a client wrote.
    assert s["STOCKCHAT_TRUSTED_PROXY_HOPS"] == 1


def test_forwarded_for_is_ignored_without_the_load_balancer():
    assert settings_from_env({}, "STOCKCHAT_TRUSTED_PROXY_HOPS") == {"STOCKCHAT_TRUSTED_PROXY_HOPS": 0}
    behind_two = {"STOCKCHAT_BEHIND_LOAD_BALANCER": "true", "STOCKCHAT_TRUSTED_PROXY_HOPS": "2"}
    assert settings_from_env(behind_two, "STOCKCHAT_TRUSTED_PROXY_HOPS") == {"STOCKCHAT_TRUSTED_PROXY_HOPS": 2}


def test_debug_has_no_https_redirect_or_hsts():
    s = settings_from_env({"DJANGO_DEBUG": "true"}, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")
    assert s == {"SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0}


def test_local_defaults_without_aws_variables():
    s = settings_from_env({}, "STORAGES", "STATIC_URL", "MEDIA_ROOT", "CSP_DIRECTIVES")
    assert s["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert s["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert s["STATIC_URL"] == "/static/"
    assert s["MEDIA_ROOT"].endswith("/media")
    assert s["CSP_DIRECTIVES"]["script-src"] == ["'self'"]


def test_aws_buckets_give_s3_urls_and_matching_policy_sources():
    s = settings_from_env(
        {"AWS_STORAGE_BUCKET_NAME": "sc-static", "AWS_MEDIA_BUCKET_NAME": "sc-media", "AWS_REGION": "eu-west-1"},
        "STORAGES",
        "STATIC_URL",
        "CSP_DIRECTIVES",
    )
    assert s["STATIC_URL"] == "https://sc-static.s3.eu-west-1.amazonaws.com/static/"
    media = s["STORAGES"]["default"]
    assert media["BACKEND"] == "stockchat.deploy.storage.PrivateMediaS3Storage"
    assert media["OPTIONS"]["default_acl"] is None
    assert media["OPTIONS"]["querystring_expire"] == 300
    assert s["STORAGES"]["staticfiles"]["OPTIONS"]["default_acl"] is None
    csp = s["CSP_DIRECTIVES"]
    assert csp["script-src"] == ["'self'", "https://sc-static.s3.eu-west-1.amazonaws.com"]
    assert "https://sc-media.s3.eu-west-1.amazonaws.com" in csp["img-src"]
    # Chat attachments are posted by the browser straight to the media bucket.
    assert csp["connect-src"] == [
        "'self'",
        "https://sc-media.s3.eu-west-1.amazonaws.com",
        "https://sc-media.s3.amazonaws.com",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_STORAGE_BUCKET_NAME": "sc-static"}, "AWS_S3_REGION_NAME (or AWS_REGION) must be set"),
        ({"AWS_CLOUDFRONT_DOMAIN": "d1.cloudfront.net"}, "AWS_CLOUDFRONT_DOMAIN needs AWS_STORAGE_BUCKET_NAME"),
        (
            {"AWS_STORAGE_BUCKET_NAME": "b", "AWS_REGION": "eu-west-1", "AWS_CLOUDFRONT_DOMAIN": "https://d1.net/"},
            "AWS_CLOUDFRONT_DOMAIN is a host name only",
        ),
        ({"AWS_MEDIA_URL_EXPIRE": "0"}, "AWS_MEDIA_URL_EXPIRE must be between 1 and 604800"),
        ({"AWS_S3_ENDPOINT_URL": "localhost:9000"}, "AWS_S3_ENDPOINT_URL must start with"),
        ({"STOCKCHAT_BEHIND_LOAD_BALANCER": "maybe"}, "STOCKCHAT_BEHIND_LOAD_BALANCER='maybe' is not a boolean"),
        ({"STOCKCHAT_TRUSTED_PROXY_HOPS": "1"}, "STOCKCHAT_TRUSTED_PROXY_HOPS needs STOCKCHAT_BEHIND_LOAD_BALANCER"),
        (
            {"STOCKCHAT_BEHIND_LOAD_BALANCER": "true", "STOCKCHAT_TRUSTED_PROXY_HOPS": "two"},
            "STOCKCHAT_TRUSTED_PROXY_HOPS='two' is not a whole number",
        ),
        (
            {"STOCKCHAT_BEHIND_LOAD_BALANCER": "true", "STOCKCHAT_TRUSTED_PROXY_HOPS": "-1"},
            "STOCKCHAT_TRUSTED_PROXY_HOPS='-1' must be 0 or more",
        ),
        (
            {"STOCKCHAT_BEHIND_LOAD_BALANCER": "true", "STOCKCHAT_TRUSTED_PROXY_HOPS": "0"},
            "STOCKCHAT_TRUSTED_PROXY_HOPS must be 1 or more behind a load balancer",
        ),
    ],
)
def test_bad_deployment_variables_stop_start_up(env, message):
    with pytest.raises(AssertionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from_env(env, "STORAGES")


def test_deploy_check_has_nothing_to_say_about_https_hsts_hosts_or_the_key():
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_", "STOCKCHAT_", "COGNITO_", "OIDC_"))
    }
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="stockchat.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    for check_id in OWN_DEPLOY_CHECKS:
        assert f"security.{check_id}" not in output, output
