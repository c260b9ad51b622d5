"""Cost of each way to authenticate an API request, against a baseline that authenticates nothing.

    DJANGO_SECRET_KEY=bench DJANGO_ALLOWED_HOSTS=testserver .venv/bin/python bench/api_auth.py [requests]

Runs in one process on a throwaway in-memory SQLite database, through Django's test client, so
that the figures are the server's own work. Reports requests per second and the cost relative to
a plain Django view returning a constant; ratios are the figures, absolute numbers are not.
/api/v1/me/ reads the user's groups as well, so compare the three auth kinds with each other.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockchat.settings")
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.pop("REDIS_URL", None)

import django

django.setup()

import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.decorators import api_view, authentication_classes, permission_classes  # noqa: E402
from rest_framework.permissions import AllowAny  # noqa: E402
from rest_framework.response import Response  # noqa: E402

from accounts import services  # noqa: E402
from core.identity import provider_settings  # noqa: E402
from stockchat import urls as project_urls  # noqa: E402


def constant(request):
    return HttpResponse(b'{"ok":true}', content_type="application/json")


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def drf_constant(request):
    return Response({"ok": True})


urlpatterns = [*project_urls.urlpatterns, path("bench/constant", constant), path("bench/drf", drf_constant)]


def serve_jwks(private_key) -> tuple[ThreadingHTTPServer, str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def rate(client: Client, url: str, n: int, **headers) -> float:
    assert client.get(url, **headers).status_code == 200
    start = time.perf_counter()
    for _ in range(n):
        client.get(url, **headers)
    return n / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    setup_test_environment()
    call_command("migrate", verbosity=0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server, base = serve_jwks(key)
    provider = provider_settings(
        {
            "OIDC_ISSUER": base,
            "OIDC_RP_CLIENT_ID": "bench",
            "OIDC_RP_CLIENT_SECRET": "bench",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{base}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{base}/token",
            "OIDC_OP_JWKS_ENDPOINT": f"{base}/jwks",
        },
        "oidc",
    )
    with override_settings(ROOT_URLCONF=__name__, AUTH_PROVIDER="oidc", **provider):
        user = services.user_from_oidc_claims(issuer=base, claims={"sub": "bench-user", "preferred_username": "bench"})
        _, api_token = services.api_token_create(user=user, name="bench")
        now = int(time.time())
        access = jwt.encode(
            {
                "sub": "bench-user",
                "iss": base,
                "client_id": "bench",
                "token_use": "access",
                "iat": now,
                "exp": now + 3600,
            },
            key,
            algorithm="RS256",
            headers={"kid": "k1"},
        )
        session = Client()
        session.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
        results = {
            "baseline (plain view, no auth)": rate(Client(), "/bench/constant", n),
            "DRF view, no authentication": rate(Client(), "/bench/drf", n),
            "/api/v1/me/ with session cookie": rate(session, "/api/v1/me/", n),
            "/api/v1/me/ with personal API token": rate(
                Client(), "/api/v1/me/", n, HTTP_AUTHORIZATION=f"Bearer {api_token}"
            ),
            "/api/v1/me/ with provider access token": rate(
                Client(), "/api/v1/me/", n, HTTP_AUTHORIZATION=f"Bearer {access}"
            ),
        }
    server.shutdown()
    baseline = results["baseline (plain view, no auth)"]
    for name, per_second in results.items():
        print(f"{name:45s} {per_second:8.0f} req/s  {baseline / per_second:5.1f}x baseline cost")


if __name__ == "__main__":
    main()
