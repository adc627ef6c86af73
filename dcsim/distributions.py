"""Random durations, delays and sizes, already in canonical units.

A site file writes a duration either as a fixed quantity ("18 months") or as an
inline table with units::

    construction_time = { dist = "triangular", low = "12 months", mode = "15 months",
                          high = "20 months" }

Each kind is a small frozen dataclass with ``sample(rng)`` and ``mean``; the
model never sees a unit. Every draw takes the generator it should use, so no
global random state exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class Fixed:
    kind: ClassVar[str] = "fixed"
    value: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def is_fixed(self) -> bool:
        return True


@dataclass(frozen=True)
class Uniform:
    kind: ClassVar[str] = "uniform"
    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class Triangular:
    kind: ClassVar[str] = "triangular"
    low: float
    mode: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        if self.low == self.high:
            return self.low
        return float(rng.triangular(self.low, self.mode, self.high))

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class LogNormal:
    """Lognormal given by its median and the standard deviation of its log (the spread)."""

    kind: ClassVar[str] = "lognormal"
    median: float
    sigma: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.median * math.exp(self.sigma * rng.standard_normal()))

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    @property
    def is_fixed(self) -> bool:
        return self.sigma == 0


@dataclass(frozen=True)
class Exponential:
    kind: ClassVar[str] = "exponential"
    mean_value: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_value))

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def is_fixed(self) -> bool:
        return False


@dataclass(frozen=True)
class Empirical:
    """Each listed value equally likely."""

    kind: ClassVar[str] = "empirical"
    values: tuple[float, ...]

    def sample(self, rng: np.random.Generator) -> float:
        return self.values[int(rng.integers(len(self.values)))]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def is_fixed(self) -> bool:
        return len(set(self.values)) == 1


Distribution = Fixed | Uniform | Triangular | LogNormal | Exponential | Empirical

KINDS: dict[str, type] = {
    cls.kind: cls for cls in (Fixed, Uniform, Triangular, LogNormal, Exponential, Empirical)
}
