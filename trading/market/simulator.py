"""A random-walk market: geometric Brownian motion per stock.

Each stock moves with its own drift and volatility, estimated from its recent
daily bars when it has enough of them (annualised, as traders quote them), and
from a default otherwise.

Time is honest: the simulated market trades around the clock, and a calendar day
of running is one trading day (252 a year), so over a day of running a stock's
day change has a real stock's daily spread (about 2% at 30% volatility).
``time_scale`` (``STOCKCHAT_MARKET_TIME_SCALE``, default 1: real time) runs the
market faster for a demo: at 60, one wall-clock minute is an hour of trading.
The demo's 1-minute history is drawn with ``minute_volatility`` at the same
scale, so there is no seam where live ticks begin.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from core.money import MIN_TICK_PRICE, to_cents

MARKET_SECONDS_PER_YEAR = 252 * 24 * 3600
DEFAULT_VOLATILITY = 0.30
DEFAULT_DRIFT = 0.05
# Bounds keep a freak history (or a CSV typo) from producing a wild walk.
MIN_VOLATILITY, MAX_VOLATILITY = 0.05, 1.50
MIN_PRICE = MIN_TICK_PRICE


def minute_volatility(annual_volatility: float, time_scale: float = 1.0) -> float:
    """The standard deviation of a 1-minute log return, as the walk draws it at ``time_scale``."""
    return annual_volatility * math.sqrt(60 * time_scale / MARKET_SECONDS_PER_YEAR)


@dataclass(frozen=True)
class WalkParams:
    drift: float = DEFAULT_DRIFT
    volatility: float = DEFAULT_VOLATILITY


@dataclass(frozen=True)
class Tick:
    symbol: str
    price: Decimal
    volume: int


def params_from_closes(closes: Iterable[Decimal]) -> WalkParams:
    """Annualised drift and volatility of daily log returns; defaults when there are too few."""
    values = [float(close) for close in closes if close and close > 0]
    returns = [math.log(b / a) for a, b in itertools.pairwise(values)]
    if len(returns) < 20:
        return WalkParams()
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    volatility = min(max(math.sqrt(variance * 252), MIN_VOLATILITY), MAX_VOLATILITY)
    drift = max(min(mean * 252 + volatility**2 / 2, 0.5), -0.5)
    return WalkParams(drift=drift, volatility=volatility)


class RandomWalk:
    def __init__(
        self,
        prices: Mapping[str, Decimal],
        params: Mapping[str, WalkParams] | None = None,
        *,
        seed: int | None = None,
        time_scale: float = 1.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.prices = dict(prices)
        # The walk itself, unrounded: a second of real time moves a $5 stock by hundredths of a
        # cent, and rounding every step to the cent would freeze it. Ticks carry it rounded.
        self.exact = {symbol: float(price) for symbol, price in self.prices.items()}
        self.params = {symbol: (params or {}).get(symbol, WalkParams()) for symbol in self.prices}
        self.time_scale = time_scale
        self._random = random.Random(seed)  # noqa: S311 - a simulation, not security

    def add(self, symbol: str, price: Decimal, params: WalkParams | None = None) -> None:
        self.prices[symbol] = price
        self.exact[symbol] = float(price)
        self.params[symbol] = params or WalkParams()

    def step(self, seconds: float) -> list[Tick]:
        """Advance every stock by ``seconds`` of wall-clock time; one tick per stock."""
        dt = seconds * self.time_scale / MARKET_SECONDS_PER_YEAR
        ticks = []
        for symbol in self.prices:
            p = self.params[symbol]
            shock = self._random.gauss(0.0, 1.0)
            factor = math.exp((p.drift - p.volatility**2 / 2) * dt + p.volatility * math.sqrt(dt) * shock)
            exact = max(self.exact[symbol] * factor, float(MIN_PRICE))
            self.exact[symbol] = exact
            new_price = max(to_cents(Decimal(repr(exact))), MIN_PRICE)
            self.prices[symbol] = new_price
            # Volume grows with the size of the move, like real tape.
            volume = int(self._random.expovariate(1 / 400) * (1 + 50 * abs(factor - 1)))
            ticks.append(Tick(symbol=symbol, price=new_price, volume=volume))
        return ticks
