"""Queueing-theory formulas and replication statistics for the model's theory tests.

Nothing here knows about dcsim: these are textbook results (Erlang C for M/M/c,
Pollaczek–Khinchine for M/G/1) and the confidence-interval arithmetic used to
compare independent replications against them. Times are in whatever unit the
caller uses (the model's is days); rates are per that unit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.99


# ---------------------------------------------------------------- formulas
def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``a`` = lambda/mu.

    Computed through the Erlang B recursion, which is stable for any ``c``.
    """
    if c < 1:
        raise ValueError("c must be at least 1")
    if not 0 <= a < c:
        raise ValueError(f"offered load {a} must lie in [0, c={c}) for a stable queue")
    b = 1.0  # Erlang B with 0 servers
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1 - rho + rho * b)


def mmc_wq(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue (before service) of M/M/c, FCFS: C(c, a) / (c*mu - lambda)."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mg1_wq(lam: float, mean_service: float, second_moment: float) -> float:
    """Pollaczek–Khinchine mean wait in queue of M/G/1: lambda E[S^2] / (2 (1 - rho))."""
    rho = lam * mean_service
    if not 0 <= rho < 1:
        raise ValueError(f"utilisation {rho} must lie in [0, 1)")
    return lam * second_moment / (2 * (1 - rho))


def md1_wq(lam: float, b: float) -> float:
    """M/D/1 mean wait in queue: rho * b / (2 (1 - rho)) with rho = lambda * b."""
    return mg1_wq(lam, b, b * b)


# ---------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval for a mean, from independent replications."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.5g} ± {self.half_width:.3g} (n={self.n})"


def mean_ci(samples: Iterable[float], confidence: float = CONFIDENCE) -> Interval:
    """Student-t interval for the mean of i.i.d. per-replication statistics."""
    x = np.asarray(list(samples), dtype=float)
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"need at least two finite samples, got {x!r}")
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return Interval(float(x.mean()), float(half), int(x.size))


def assert_in_ci(value: float, interval: Interval, what: str, max_rel_half_width: float) -> None:
    """``value`` lies in ``interval``, and the interval is narrow enough to mean something.

    The width bound keeps a test from passing only because its interval is so
    wide that a wrong model would pass too.
    """
    assert value in interval, f"{what}: theory {value:.5g} outside the 99% CI {interval}"
    scale = abs(value) if value != 0 else 1.0
    assert interval.half_width <= max_rel_half_width * scale, (
        f"{what}: CI {interval} too wide to test theory {value:.5g} "
        f"(half width above {max_rel_half_width:.0%})")


def time_average(times: Sequence[float], steps: Sequence[float], start: float,
                 end: float) -> float:
    """Time average over [start, end] of a step function that starts at 0 and jumps by
    ``steps[i]`` at ``times[i]`` (times in non-decreasing order)."""
    if end <= start:
        raise ValueError("empty window")
    t = np.asarray(times, dtype=float)
    level = np.cumsum(np.asarray(steps, dtype=float))  # value just after each jump
    inside = (t > start) & (t < end)
    # value holding at `start`: the level after the last jump at or before it
    before = np.searchsorted(t, start, side="right")
    initial = level[before - 1] if before > 0 else 0.0
    knots = np.concatenate(([start], t[inside], [end]))
    values = np.concatenate(([initial], level[inside]))
    return float(np.sum(values * np.diff(knots)) / (end - start))
