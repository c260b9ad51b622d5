"""The simulator's honest time: real time by default, a day of running moves a stock as much as a
real trading day does, and the demo's 1-minute history has the live ticks' volatility."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

from django.conf import settings

from trading.market.feed import FeedSettings
from trading.market.simulator import RandomWalk, WalkParams, minute_volatility

DAILY_SIGMA_AT_30 = 0.30 / math.sqrt(252)  # 1.9%: a real stock's daily spread at 30% volatility


def _log_returns(time_scale: float, seconds: float, steps: int, stocks: int = 40) -> list[float]:
    prices = {f"S{n}": Decimal("100.00") for n in range(stocks)}
    walk = RandomWalk(
        prices, {s: WalkParams(drift=0.0, volatility=0.30) for s in prices}, seed=7, time_scale=time_scale
    )
    for _ in range(steps):
        walk.step(seconds)
    return [math.log(float(walk.prices[s]) / 100) for s in prices]


def test_real_time_is_the_default():
    assert settings.STOCKCHAT_MARKET_TIME_SCALE == 1.0
    assert FeedSettings().time_scale == 1.0
    assert RandomWalk({}).time_scale == 1.0


def test_a_day_of_running_moves_stocks_as_much_as_a_trading_day():
    # 24 hours in 10-second ticks (the same variance as 1-second ones, fewer steps).
    returns = _log_returns(time_scale=1.0, seconds=10, steps=8640)
    spread = statistics.pstdev(returns)
    assert 0.5 * DAILY_SIGMA_AT_30 < spread < 1.6 * DAILY_SIGMA_AT_30
    assert max(abs(r) for r in returns) < 5 * DAILY_SIGMA_AT_30


def test_fifteen_minutes_move_stocks_by_a_fraction_of_a_percent():
    # The report saw -8% to -9% in 15 minutes when one second counted as a trading minute.
    returns = _log_returns(time_scale=1.0, seconds=1, steps=900)
    assert max(abs(r) for r in returns) < 0.01


def test_real_time_ticks_still_move_a_cheap_stock():
    # A second moves a $5 stock by a few hundredths of a cent: rounded at every step, it would never
    # move. The walk adds the moves up and only the ticks are rounded.
    prices = {f"S{n}": Decimal("5.00") for n in range(20)}
    walk = RandomWalk(prices, {s: WalkParams(0.0, 0.30) for s in prices}, seed=3)
    for _ in range(3600):
        walk.step(1)
    assert sum(1 for s in prices if walk.prices[s] != Decimal("5.00")) >= 15


def test_the_minute_history_has_the_live_ticks_volatility_at_any_time_scale():
    for scale in (1.0, 60.0):
        returns = []
        for seed in range(5):
            prices = {f"S{n}": Decimal("1000.00") for n in range(200)}
            walk = RandomWalk(prices, {s: WalkParams(0.0, 0.30) for s in prices}, seed=seed, time_scale=scale)
            walk.step(60)
            returns += [math.log(float(walk.prices[s]) / 1000) for s in prices]
        measured = statistics.pstdev(returns)
        expected = minute_volatility(0.30, scale)
        assert 0.85 * expected < measured < 1.15 * expected, (scale, measured, expected)
