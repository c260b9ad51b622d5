"""The market feed inside the web process, for `make run` and other one-process setups.

``EmbeddedMarketFeed`` wraps the ASGI application and starts the feed as a task
on the server's event loop when the first connection arrives (daphne has no
start-up hook). It shares the in-memory channel layer with the sockets of the
same process, which is why it must run in that process and loop. With a
separate ``run_market_feed`` worker (production), set
``STOCKCHAT_MARKET_FEED=off`` on the web processes.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from core.realtime.tasks import spawn
from trading.market.feed import FeedRunner, FeedSettings, SimulatedFeed

logger = logging.getLogger(__name__)


class EmbeddedMarketFeed:
    def __init__(self, app) -> None:
        self.app = app
        self.runner: FeedRunner | None = None
        self.stop = asyncio.Event()

    async def __call__(self, scope, receive, send):
        if self.runner is None and settings.STOCKCHAT_MARKET_FEED == "embedded":
            self.runner = FeedRunner(
                SimulatedFeed(
                    FeedSettings(
                        interval=settings.STOCKCHAT_MARKET_FEED_INTERVAL,
                        time_scale=settings.STOCKCHAT_MARKET_TIME_SCALE,
                    )
                )
            )
            logger.info("starting the embedded market feed (%s)", self.runner.holder)
            spawn(self.runner.run(self.stop), name="embedded-market-feed")
        return await self.app(scope, receive, send)
