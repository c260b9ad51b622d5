"""Runs a market feed: ticks from the simulator, recorded through the trading services.

Only one feed may run against a database: the runner holds a lease row
(``MarketFeedLease``) that it renews on every tick. A second runner, in the web
process or in another container, waits as a standby and takes over when the
lease expires, so a crashed worker is replaced without two feeds ever writing
quotes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from channels.db import database_sync_to_async
from django.utils import timezone

from trading.market.simulator import RandomWalk, Tick, params_from_closes
from trading.models import BarInterval, PriceBar, Quote, Stock
from trading.services.feed import feed_lease_acquire, feed_lease_release
from trading.services.market import PriceTick, quotes_record
from trading.services.orders import orders_expire_day

logger = logging.getLogger(__name__)

HISTORY_DAYS = 60
STOCK_REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class FeedSettings:
    interval: float = 1.0  # seconds between ticks
    time_scale: float = 1.0  # market seconds per wall-clock second (1: real time)
    seed: int | None = None
    lease_seconds: float | None = None  # default: five ticks, at least 5 s

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds or max(5.0, 5 * self.interval))


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class SimulatedFeed:
    """The built-in simulator over every tradable stock in the database."""

    def __init__(self, settings: FeedSettings) -> None:
        self.settings = settings
        self.walk = RandomWalk({}, seed=settings.seed, time_scale=settings.time_scale)
        self.stocks: dict[str, Stock] = {}

    def refresh_stocks(self) -> None:
        """Pick up stocks listed since the last refresh, starting from their latest price."""
        for stock in Stock.objects.filter(tradable=True).exclude(symbol__in=list(self.stocks)):
            price = self._starting_price(stock)
            if price is None:
                continue  # no price yet: nothing to walk from
            closes = list(
                PriceBar.objects.filter(stock=stock, interval=BarInterval.DAY)
                .order_by("-start")
                .values_list("close", flat=True)[:HISTORY_DAYS]
            )
            self.walk.add(stock.symbol, price, params_from_closes(reversed(closes)))
            self.stocks[stock.symbol] = stock

    @staticmethod
    def _starting_price(stock: Stock) -> Decimal | None:
        quote = Quote.objects.filter(stock=stock).values_list("price", flat=True).first()
        if quote is not None:
            return quote
        return PriceBar.objects.filter(stock=stock).order_by("-start").values_list("close", flat=True).first()

    def next_ticks(self) -> list[Tick]:
        return self.walk.step(self.settings.interval)


class FeedRunner:
    def __init__(
        self,
        feed: SimulatedFeed,
        *,
        holder: str | None = None,
        clock: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.feed = feed
        self.settings = feed.settings
        self.holder = holder or default_holder()
        self.clock = clock
        self.leader = False
        self.ticks_recorded = 0
        self.steps = 0
        # Called with the number of steps recorded so far, after each one.
        self.on_tick: Callable[[int], None] | None = None
        self._last_day = None
        self._last_refresh = float("-inf")

    def tick_once(self, monotonic_now: float) -> bool:
        """One step: renew the lease, then record every stock's tick in one batch. False when standing by."""
        now = self.clock()
        holding = feed_lease_acquire(holder=self.holder, ttl=self.settings.lease, now=now)
        if holding != self.leader:
            logger.info("market feed %s is %s", self.holder, "running" if holding else "standing by")
            self.leader = holding
        if not holding:
            return False
        if monotonic_now - self._last_refresh >= STOCK_REFRESH_SECONDS:
            self.feed.refresh_stocks()
            self._last_refresh = monotonic_now
        if self._last_day is not None and now.date() != self._last_day:
            expired = orders_expire_day(submitted_before=now.replace(hour=0, minute=0, second=0, microsecond=0))
            logger.info("market day rolled over: %d day orders expired", expired)
        self._last_day = now.date()
        ticks = [
            PriceTick(stock=self.feed.stocks[tick.symbol], price=tick.price, volume=tick.volume)
            for tick in self.feed.next_ticks()
        ]
        quotes_record(ticks=ticks, at=now)
        self.ticks_recorded += len(ticks)
        return True

    def release(self) -> None:
        feed_lease_release(holder=self.holder)
        self.leader = False

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        # database_sync_to_async drops stale connections around each tick.
        tick = database_sync_to_async(self.tick_once)
        try:
            next_tick = loop.time()
            while not stop.is_set():
                try:
                    if await tick(loop.time()):
                        self.steps += 1
                        if self.on_tick is not None:
                            self.on_tick(self.steps)
                except Exception:
                    # A failed tick (database restart, lock timeout) must not end the feed.
                    logger.exception("market feed tick failed")
                # Ticks keep their rhythm whatever recording took; a late one starts at once.
                next_tick = max(next_tick + self.settings.interval, loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=next_tick - loop.time())
        finally:
            if self.leader:
                await database_sync_to_async(self.release)()
