from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trading.market.feed import FeedRunner, FeedSettings, SimulatedFeed


class Command(BaseCommand):
    help = (
        "Run the market feed: the built-in simulator moves every tradable stock with a random walk, "
        "records quotes and 1-minute bars, fills resting orders whose price is crossed, and publishes "
        "each tick to the channel layer (Redis in production) for every web process. Only one feed "
        "writes to a database at a time; a second one waits as a standby and takes over if the first "
        "stops. SIGTERM or Ctrl-C stops it cleanly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks (default 1)")
        parser.add_argument(
            "--time-scale",
            type=float,
            default=None,
            help="market seconds per wall-clock second: 1 is real time, 60 a demo that moves an hour a minute "
            "(default STOCKCHAT_MARKET_TIME_SCALE, 1)",
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed for a repeatable walk")
        parser.add_argument("--ticks", type=int, default=None, help="stop after this many ticks (default: run on)")

    def handle(self, *args, interval: float, time_scale: float | None, seed: int | None, ticks: int | None, **options):
        if time_scale is None:
            time_scale = settings.STOCKCHAT_MARKET_TIME_SCALE
        if interval <= 0 or interval > 3600:
            raise CommandError("--interval must be between 0 and 3600 seconds.")
        if time_scale <= 0:
            raise CommandError("--time-scale must be positive.")
        runner = FeedRunner(SimulatedFeed(FeedSettings(interval=interval, time_scale=time_scale, seed=seed)))
        self.stdout.write(f"market feed {runner.holder}: one tick every {interval:g} s")
        asyncio.run(self._run(runner, ticks))
        self.stdout.write(f"market feed stopped after recording {runner.ticks_recorded} quotes")

    async def _run(self, runner: FeedRunner, ticks: int | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        heartbeat = Path(settings.STOCKCHAT_FEED_HEARTBEAT_FILE) if settings.STOCKCHAT_FEED_HEARTBEAT_FILE else None

        def on_tick(count: int) -> None:
            # A recorded tick means the lease was just renewed: the container
            # health check (docker/healthcheck.py) reads the file's age.
            if heartbeat is not None:
                heartbeat.touch()
            if ticks is not None and count >= ticks:
                stop.set()

        runner.on_tick = on_tick
        await runner.run(stop)
