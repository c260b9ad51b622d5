"""Identity providers for the sign-in tests: the real mock OIDC provider, and a signing key served as a JWKS."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from testsupport.servers import READY_TIMEOUT_SECONDS, ServerUnavailable, free_port, stop_process
from testsupport.waiting import wait_until

CLIENT_ID = "stockchat-web"
CLIENT_SECRET = "stockchat-web-secret"


def provider_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "oidc-provider-mock"
    return str(beside_python) if beside_python.exists() else shutil.which("oidc-provider-mock")


class MockProvider:
    """``oidc-provider-mock`` on a free loopback port: RS256 ID tokens, PKCE, nonce, end_session."""

    def __init__(self) -> None:
        self.binary = provider_binary()
        if self.binary is None:
            raise ServerUnavailable("oidc-provider-mock is not installed (pip install -r requirements-dev.txt).")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="stockchat-oidc-")) / "provider.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> MockProvider:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "-H", "127.0.0.1", "-p", str(self.port), "--require-nonce", "true"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                self.discovery_answers,
                what="oidc-provider-mock",
                timeout=READY_TIMEOUT_SECONDS,
                process=self.process,
                log=self.log,
                error=ServerUnavailable,
            )
        except ServerUnavailable:
            self.stop()
            raise
        return self

    def discovery_answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/.well-known/openid-configuration", timeout=1).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        stop_process(self.process, timeout=10)
        shutil.rmtree(self.log.parent, ignore_errors=True)

    def environment(self) -> dict[str, str]:
        """The OIDC_* variables an operator would set for this provider."""
        return {
            "OIDC_ISSUER": self.url,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/oauth2/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/oauth2/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.url}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/jwks",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.url}/oauth2/end_session",
            # The mock's ID tokens carry no kid; it publishes one key and the signature is still checked.
            "OIDC_VERIFY_KID": "false",
        }

    def set_user(self, sub: str, **claims: Any) -> None:
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Signs ``sub`` in on the provider's page; returns where the provider sends the browser back."""
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class SigningKeyServer:
    """An RSA key pair whose public half is served as a JWKS on loopback, to sign test tokens."""

    def __init__(self, kid: str = "test-key-1") -> None:
        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        self.jwks = {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}
        body = json.dumps(self.jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/pool"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> SigningKeyServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, key: Any = None) -> str:
        headers = {"kid": kid if kid is not None else self.kid}
        return jwt.encode(claims, key or self.private_key, algorithm="RS256", headers=headers)


def unsigned_token(claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature, as an attacker would forge it."""
    return jwt.encode(claims, key=None, algorithm="none")
