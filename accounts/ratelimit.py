"""Limits on failed sign-in attempts, counted in Django's cache.

Failures are counted three ways, in a window of ``STOCKCHAT_LOGIN_WINDOW_SECONDS``:

- per account *and* client address (``STOCKCHAT_LOGIN_ATTEMPTS_PER_USER``): an
  address that keeps failing on an account is refused for that account, as
  django-axes does with its username+IP lockout. Nobody can lock the owner out
  by failing from their own address: the owner's address has its own count.
- per client address, over all accounts (``STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS``):
  bounds the guesses one address makes across accounts.
- per account, over all addresses (``STOCKCHAT_LOGIN_ATTEMPTS_PER_ACCOUNT``): once
  an account has that many failures (guessing spread over many addresses), every
  address that has failed on it even once is refused for it. An address with no
  failure on the account, such as the owner's, still signs in.

The counts are ``core.ratelimit``'s sliding windows (a failure counts for about a window, the
older ones weighing less as they age). With Redis as the cache (``REDIS_URL``) they are shared by
every process; with the local-memory cache they hold per process. Strict: while Redis cannot be
reached sign-in answers 503 rather than allowing unlimited guesses.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest

from core import ratelimit

PAIR, ADDRESS, ACCOUNT = "login.pair", "login.addr", "login.user"


def _account(username: str) -> str:
    # Hashed: the typed name is untrusted (any length, any character) and becomes part of a cache key.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _address(request: HttpRequest) -> str:
    return hashlib.sha256(request.META.get("REMOTE_ADDR", "unknown").encode()).hexdigest()[:32]


def _counts(request: HttpRequest, username: str) -> list[tuple[str, str, int]]:
    """(scope, key, limit) of the three counts a failure on ``username`` from this address adds to."""
    account, address = _account(username), _address(request)
    return [
        (PAIR, f"{account}.{address}", settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER),
        (ADDRESS, address, settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS),
        (ACCOUNT, account, settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ACCOUNT),
    ]


def login_blocked(request: HttpRequest, username: str) -> bool:
    """True when this address may not try a password for ``username`` now."""
    window = settings.STOCKCHAT_LOGIN_WINDOW_SECONDS
    pair, address, account = (
        ratelimit.peek(scope, key, limit=limit, window=window, strict=True)
        for scope, key, limit in _counts(request, username)
    )
    if not address.allowed or not pair.allowed:
        return True
    # An account under attack from many addresses: those that failed on it are done with it.
    return not account.allowed and pair.used > 0


def login_failed(request: HttpRequest, username: str) -> None:
    window = settings.STOCKCHAT_LOGIN_WINDOW_SECONDS
    for scope, key, limit in _counts(request, username):
        ratelimit.hit(scope, key, limit=limit, window=window, strict=True)


def login_succeeded(request: HttpRequest, username: str) -> None:
    """Forget this address's failures on this account.

    The per-address count stays: otherwise signing in to an account of one's
    own would reset the budget for guessing at others.
    """
    _, key, _ = _counts(request, username)[0]
    ratelimit.reset(PAIR, key, window=settings.STOCKCHAT_LOGIN_WINDOW_SECONDS)
