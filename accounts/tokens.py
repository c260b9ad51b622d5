"""Verification of the provider's signed tokens (RS256 against its JWKS).

Used for ID tokens at sign-in and for access tokens sent to the API as
``Authorization: Bearer``. Only RS256 is accepted: an unsigned (``alg=none``)
token or one "signed" with the public key as an HMAC secret is refused before
any key is looked at.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache

ALGORITHM = "RS256"
JWKS_CACHE_SECONDS = 600
JWKS_REFETCH_SECONDS = 30
LEEWAY_SECONDS = 30


class TokenRejected(Exception):
    """The token is not acceptable; ``code`` is stable, ``detail`` says why for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _jwks_cache_key(url: str) -> str:
    return "accounts.jwks." + hashlib.sha256(url.encode()).hexdigest()


def _fetch_jwks(url: str) -> list[dict[str, Any]]:
    try:
        response = requests.get(url, timeout=getattr(settings, "OIDC_TIMEOUT", 10))
        response.raise_for_status()
        keys = response.json()["keys"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise TokenRejected("jwks_unavailable", f"The provider's signing keys could not be read: {exc}") from None
    if not isinstance(keys, list):
        raise TokenRejected("jwks_unavailable", "The provider's JWKS has no list of keys.")
    cache.set(_jwks_cache_key(url), keys, JWKS_CACHE_SECONDS)
    return keys


def _candidate_keys(keys: list[dict[str, Any]], kid: str | None, verify_kid: bool) -> list[dict[str, Any]]:
    usable = [
        key
        for key in keys
        if isinstance(key, dict)
        and key.get("kty") == "RSA"
        and key.get("alg", ALGORITHM) == ALGORITHM
        and key.get("use", "sig") == "sig"
    ]
    if verify_kid:
        return [key for key in usable if kid is not None and key.get("kid") == kid]
    return usable


def signing_keys(url: str, kid: str | None, *, verify_kid: bool) -> list[jwt.PyJWK]:
    """The provider keys that may have signed a token with this ``kid``.

    A key id not in the cached set refetches the JWKS (the provider rotated its
    keys), but at most once per ``JWKS_REFETCH_SECONDS`` so that tokens with
    made-up key ids cannot make us hammer the provider.
    """
    keys = cache.get(_jwks_cache_key(url))
    if keys is None:
        keys = _fetch_jwks(url)
    found = _candidate_keys(keys, kid, verify_kid)
    if not found and cache.add(_jwks_cache_key(url) + ".refetch", 1, JWKS_REFETCH_SECONDS):
        found = _candidate_keys(_fetch_jwks(url), kid, verify_kid)
    if not found:
        raise TokenRejected("unknown_key", "The token is signed with a key the provider does not publish.")
    return [jwt.PyJWK(key, algorithm=ALGORITHM) for key in found]


def verify_signed_token(
    token: str,
    *,
    jwks_url: str,
    issuer: str,
    audience: str | None,
    verify_kid: bool,
    required: tuple[str, ...] = ("exp", "iat", "iss", "sub"),
) -> dict[str, Any]:
    """The claims of an RS256 token signed by the provider, checked for issuer, audience and expiry."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected("malformed_token", "The token is not a JWT.") from None
    if header.get("alg") != ALGORITHM:
        raise TokenRejected("bad_algorithm", f"Tokens must be signed with {ALGORITHM}, not {header.get('alg')!r}.")
    options: dict[str, Any] = {"require": [*required, *(["aud"] if audience is not None else [])]}
    if audience is None:
        options["verify_aud"] = False
    last_error: jwt.PyJWTError | None = None
    for key in signing_keys(jwks_url, header.get("kid"), verify_kid=verify_kid):
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options=options,
            )
        except jwt.InvalidSignatureError as exc:
            last_error = exc  # another published key may have signed it
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token_expired", "The token has expired.") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("wrong_issuer", "The token was issued by another provider.") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("wrong_audience", "The token was issued for another client.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected("missing_claim", f"The token has no {exc.claim!r} claim.") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected("invalid_token", f"The token is not valid: {exc}") from None
    raise TokenRejected("bad_signature", f"The token's signature does not verify ({last_error}).")
