"""The app's Redis clients against Redis as ElastiCache runs it: TLS only, with an AUTH token.

The channel layer (pub/sub, what carries events between web tasks and the
feed) and Django's cache (rate limits) are built by stockchat/settings.py from
``REDIS_URL=rediss://…`` and ``REDIS_PASSWORD``, the way the ECS template
passes them, and must both connect, verify the server's certificate and
authenticate. The certificate is signed by a throwaway CA made here, which the
clients trust through ``SSL_CERT_FILE`` (ElastiCache's is signed by a public CA).
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from channels.layers import channel_layers
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.cache import caches
from django.test import AsyncClient

from stockchat.deploy.tests.conftest import settings_from_env
from testsupport.servers import free_port
from testsupport.waiting import wait_until

PASSWORD = "elasticache-auth-token-with:odd/chars@and%more"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("stockchat test CA"))
        .issuer_name(_name("stockchat test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "redis.pem", folder / "redis.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return ca_path, cert_path, key_path


def tls_ping(port: int, ca: Path) -> bool:
    result = subprocess.run(
        ["redis-cli", "--tls", "--cacert", str(ca), "-p", str(port), "--no-auth-warning", "-a", PASSWORD, "ping"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout.strip() == "PONG"


@pytest.fixture(scope="module")
def tls_redis():
    """redis-server with TLS only (no plain port) and requirepass, as ElastiCache with AUTH runs."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="stockchat-redis-tls-"))
    ca, cert, key = make_certificates(folder)
    port = free_port()
    log = folder / "redis.log"
    process = subprocess.Popen(
        [
            "redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
            "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca),
            "--tls-auth-clients", "no", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no",
            "--dir", str(folder), "--logfile", str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: tls_ping(port, ca), what="redis-server with TLS", timeout=30, process=process, log=log)
        yield port, ca
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_settings(settings, tls_redis, monkeypatch):
    """Apply the channel layer and cache stockchat/settings.py builds for ``env`` to this process."""
    port, ca = tls_redis
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))

    def apply(**env: str) -> dict:
        computed = settings_from_env({"REDIS_URL": f"rediss://127.0.0.1:{port}/0", **env}, "CHANNEL_LAYERS", "CACHES")
        settings.CHANNEL_LAYERS = computed["CHANNEL_LAYERS"]
        settings.CACHES = computed["CACHES"]
        # (Django's setting_changed handler resets the cache handler itself.)
        channel_layers.backends.clear()
        return computed

    yield apply
    channel_layers.backends.clear()


async def roundtrip(layer) -> dict:
    channel = await layer.new_channel("tls-test.")
    await layer.send(channel, {"type": "tls.ping", "n": 1})
    return await layer.receive(channel)


@pytest.mark.django_db(transaction=True)
async def test_channel_layer_and_cache_use_a_password_protected_tls_redis(redis_settings):
    computed = redis_settings(REDIS_PASSWORD=PASSWORD)
    address = computed["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"][0]["address"]
    assert address.startswith("rediss://:")  # the token went into the URL, encoded
    assert PASSWORD not in address

    layer = channel_layers["default"]
    assert await roundtrip(layer) == {"type": "tls.ping", "n": 1}
    await layer.flush()

    cache = caches["default"]
    await cache.aset("tls-check", "stored over TLS", timeout=30)
    assert await cache.aget("tls-check") == "stored over TLS"

    response = await AsyncClient().get("/readyz")
    assert response.json()["checks"]["channel_layer"] == {"ok": True}


async def test_without_the_token_redis_refuses_the_app(redis_settings):
    import redis.exceptions

    redis_settings()
    with pytest.raises(redis.exceptions.AuthenticationError):
        await caches["default"].aset("tls-check", "x", timeout=30)


def test_a_password_in_both_places_is_refused():
    with pytest.raises(AssertionError, match="either in REDIS_URL or as REDIS_PASSWORD"):
        settings_from_env({"REDIS_URL": "rediss://:one@cache:6379/0", "REDIS_PASSWORD": "two"}, "CACHES")
