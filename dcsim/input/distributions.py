"""Random durations, delays and sizes, already in canonical units.

A site file writes a duration either as a fixed quantity ("18 months") or as an
inline table with units::

    construction_time = { dist = "triangular", low = "12 months", mode = "15 months",
                          high = "20 months" }

Each kind is a small frozen dataclass with ``quantile(u)``, ``sample(rng)`` and
``mean``; the model never sees a unit. Every draw takes the generator it should
use, so no global random state exists.

Every sample is the inverse CDF of exactly one uniform draw, whatever the kind
(a fixed value consumes its draw too). So changing one duration from fixed to
random, or its parameters, never shifts the draws that follow it in the same
stream, and a longer duration in a variant is longer in every replication:
common random numbers stay synchronised.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np


def log1p_each(values: np.ndarray) -> np.ndarray:
    """``math.log1p`` of each value: the C library's, the one a draw at a time uses.
    Not ``np.log1p``: on CPUs with AVX-512, NumPy's differs from it in the last bit for
    about one value in fourteen, which would move every arrival after it."""
    return np.fromiter(map(math.log1p, values.tolist()), dtype=np.float64, count=len(values))


_STANDARD_NORMAL = NormalDist()


def _standard_normal_quantiles(u: list[float]) -> list[float]:
    """``_STANDARD_NORMAL.inv_cdf`` of each of ``u`` (all strictly between 0 and 1), by
    the function that method hands each one to, without the method's call for each
    (a third of a region's background draws). The same numbers, to the bit."""
    inverse: Any = getattr(statistics, "_normal_dist_inv_cdf", None)
    if inverse is None:  # a Python without it: the method, one value at a time
        return list(map(_STANDARD_NORMAL.inv_cdf, u))
    return list(map(inverse, u, itertools.repeat(0.0), itertools.repeat(1.0)))


_TINY = 1e-300  # keeps the inverse CDFs finite at u = 0


class _Sampled:
    """``sample`` as the quantile of one uniform draw (see the module docstring)."""

    def quantile(self, u: float) -> float:
        raise NotImplementedError

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        """``quantile`` of each of ``u``, to the last bit: where a kind needs ``log`` or
        ``exp``, the C library's (``math``'s) is mapped over the values, since NumPy's own
        may differ from it in the last bit, and a run must not depend on which one drew."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> float:
        return self.quantile(rng.random())


@dataclass(frozen=True)
class Fixed(_Sampled):
    kind: ClassVar[str] = "fixed"
    value: float

    def quantile(self, u: float) -> float:
        return self.value

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return np.full(len(u), self.value, dtype=np.float64)

    @property
    def mean(self) -> float:
        return self.value


@dataclass(frozen=True)
class Uniform(_Sampled):
    kind: ClassVar[str] = "uniform"
    low: float
    high: float

    def quantile(self, u: float) -> float:
        return self.low + u * (self.high - self.low)

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class Triangular(_Sampled):
    kind: ClassVar[str] = "triangular"
    low: float
    mode: float
    high: float

    def quantile(self, u: float) -> float:
        low, mode, high = self.low, self.mode, self.high
        if low == high:
            return low
        if u * (high - low) < mode - low:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u) * (high - low) * (high - mode))

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        low, mode, high = self.low, self.mode, self.high
        if low == high:
            return np.full(len(u), low, dtype=np.float64)
        # The same operations in the same order as quantile(); sqrt is exact in both.
        rising = u * (high - low) < mode - low
        below = low + np.sqrt(np.where(rising, u, 0.0) * (high - low) * (mode - low))
        above = high - np.sqrt((1.0 - np.where(rising, 0.0, u)) * (high - low) * (high - mode))
        return np.where(rising, below, above)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


@dataclass(frozen=True)
class LogNormal(_Sampled):
    """Lognormal given by its median and the standard deviation of its log (the spread)."""

    kind: ClassVar[str] = "lognormal"
    median: float
    sigma: float

    def quantile(self, u: float) -> float:
        if self.sigma == 0:
            return self.median
        z = _STANDARD_NORMAL.inv_cdf(min(max(u, _TINY), 1.0 - 1e-16))
        return self.median * math.exp(self.sigma * z)

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        if self.sigma == 0:
            return np.full(len(u), self.median, dtype=np.float64)
        clipped = np.minimum(np.maximum(u, _TINY), 1.0 - 1e-16).tolist()
        z = np.array(_standard_normal_quantiles(clipped))
        scaled = (self.sigma * z).tolist()
        return self.median * np.fromiter(map(math.exp, scaled), dtype=np.float64, count=len(u))

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


@dataclass(frozen=True)
class Exponential(_Sampled):
    kind: ClassVar[str] = "exponential"
    mean_value: float

    def quantile(self, u: float) -> float:
        return -self.mean_value * math.log1p(-u)

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_value * log1p_each(-u)

    @property
    def mean(self) -> float:
        return self.mean_value


@dataclass(frozen=True)
class Empirical(_Sampled):
    """Each listed value equally likely."""

    kind: ClassVar[str] = "empirical"
    values: tuple[float, ...]

    def quantile(self, u: float) -> float:
        return self.values[min(int(u * len(self.values)), len(self.values) - 1)]

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        count = len(self.values)
        index = np.minimum((u * count).astype(np.int64), count - 1)
        return np.asarray(self.values, dtype=np.float64)[index]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)


Distribution = Fixed | Uniform | Triangular | LogNormal | Exponential | Empirical

KINDS: dict[str, type] = {
    cls.kind: cls for cls in (Fixed, Uniform, Triangular, LogNormal, Exponential, Empirical)
}
