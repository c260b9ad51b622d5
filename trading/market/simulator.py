"""A random-walk market: geometric Brownian motion per stock.

Each stock moves with its own drift and volatility, estimated from its recent
daily bars when it has enough of them (annualised, as traders quote them), and
from a default otherwise. ``time_scale`` compresses market time so that a demo
moves visibly: at 60, one second of wall-clock time is one minute of trading.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
DEFAULT_VOLATILITY = 0.30
DEFAULT_DRIFT = 0.05
# Bounds keep a freak history (or a CSV typo) from producing a wild walk.
MIN_VOLATILITY, MAX_VOLATILITY = 0.05, 1.50
MIN_PRICE = Decimal("0.01")
CENT = Decimal("0.01")


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
        time_scale: float = 60.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.prices = dict(prices)
        self.params = {symbol: (params or {}).get(symbol, WalkParams()) for symbol in self.prices}
        self.time_scale = time_scale
        self._random = random.Random(seed)  # noqa: S311 - a simulation, not security

    def add(self, symbol: str, price: Decimal, params: WalkParams | None = None) -> None:
        self.prices[symbol] = price
        self.params[symbol] = params or WalkParams()

    def step(self, seconds: float) -> list[Tick]:
        """Advance every stock by ``seconds`` of wall-clock time; one tick per stock."""
        dt = seconds * self.time_scale / TRADING_SECONDS_PER_YEAR
        ticks = []
        for symbol, price in self.prices.items():
            p = self.params[symbol]
            shock = self._random.gauss(0.0, 1.0)
            factor = math.exp((p.drift - p.volatility**2 / 2) * dt + p.volatility * math.sqrt(dt) * shock)
            new_price = max((price * Decimal(repr(factor))).quantize(CENT, rounding=ROUND_HALF_UP), MIN_PRICE)
            self.prices[symbol] = new_price
            # Volume grows with the size of the move, like real tape.
            volume = int(self._random.expovariate(1 / 400) * (1 + 50 * abs(factor - 1)))
            ticks.append(Tick(symbol=symbol, price=new_price, volume=volume))
        return ticks
