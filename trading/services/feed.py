"""The lease that lets only one market feed write quotes to a database at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from trading.models import MarketFeedLease

LEASE_NAME = "market-feed"


def feed_lease_acquire(*, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease for ``holder``; False while another holder's lease is live.

    One conditional UPDATE decides: it matches only a lease that has expired or
    that ``holder`` already has, so two feeds racing for an expired lease cannot
    both win (the database serialises the UPDATE on the row).
    """
    taken = MarketFeedLease.objects.filter(Q(holder=holder) | Q(expires_at__lt=now), name=LEASE_NAME).update(
        holder=holder, expires_at=now + ttl, renewed_at=now
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            MarketFeedLease.objects.create(name=LEASE_NAME, holder=holder, expires_at=now + ttl, renewed_at=now)
    except IntegrityError:
        return False  # someone else holds it (or created it a moment ago)
    return True


def feed_lease_release(*, holder: str) -> None:
    """Give the lease up at once so a standby can take over without waiting for expiry."""
    MarketFeedLease.objects.filter(name=LEASE_NAME, holder=holder).delete()
