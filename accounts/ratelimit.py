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

With Redis as the cache (``REDIS_URL``) the counts are shared by every process;
with the local-memory cache they hold per process.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _account(username: str) -> str:
    # Hashed: the typed name is untrusted (any length, any character) and becomes part of a cache key.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _address(request: HttpRequest) -> str:
    return hashlib.sha256(request.META.get("REMOTE_ADDR", "unknown").encode()).hexdigest()[:32]


def _keys(request: HttpRequest, username: str) -> tuple[str, str, str]:
    account, address = _account(username), _address(request)
    return (
        f"accounts.login.pair.{account}.{address}",
        f"accounts.login.addr.{address}",
        f"accounts.login.user.{account}",
    )


def login_blocked(request: HttpRequest, username: str) -> bool:
    """True when this address may not try a password for ``username`` now."""
    pair_key, address_key, account_key = _keys(request, username)
    counts = cache.get_many([pair_key, address_key, account_key])
    pair, address, account = (counts.get(key, 0) for key in (pair_key, address_key, account_key))
    if address >= settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ADDRESS:
        return True
    if pair >= settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_USER:
        return True
    # An account under attack from many addresses: those that failed on it are done with it.
    return account >= settings.STOCKCHAT_LOGIN_ATTEMPTS_PER_ACCOUNT and pair > 0


def _count(key: str, window: int) -> None:
    # add() starts the window; incr() is atomic in both Redis and local memory.
    if not cache.add(key, 1, window):
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, window)  # expired between add() and incr()


def login_failed(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        _count(key, settings.STOCKCHAT_LOGIN_WINDOW_SECONDS)


def login_succeeded(request: HttpRequest, username: str) -> None:
    """Forget this address's failures on this account.

    The per-address count stays: otherwise signing in to an account of one's
    own would reset the budget for guessing at others.
    """
    cache.delete(_keys(request, username)[0])
