"""Which GPUs on a site can run, given halls, cooling and power: pure functions, no SimPy.

GPUs come in lots that differ in IT power per GPU and in the cooling they need.
Placement fills halls greedily: the most demanding lots first (they have the
fewest halls to choose from), each into the least capable hall that can host
it, so liquid-cooled space is kept for the GPUs that need it. Power is then
shared in lot order (earliest lot first). All power here is IT MW.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple


class LotLoad(NamedTuple):
    """GPUs of one lot, as far as placement cares."""

    gpus: int
    kw: float  # IT kW per GPU
    level: int  # least cooling level that can host this lot


class Space(NamedTuple):
    """Usable IT MW in one hall and its cooling level."""

    mw: float
    level: int


_EPS = 1e-9
_UNLIMITED = 2**62


def place(lots: Sequence[LotLoad], halls: Sequence[Space], check_cooling: bool = True) -> list[int]:
    """GPUs of each lot that fit in ``halls``; unless ``check_cooling``, any hall fits any lot."""
    remaining = [h.mw for h in halls]
    hall_order = sorted(range(len(halls)), key=lambda h: halls[h].level)
    lot_order = sorted(range(len(lots)), key=lambda i: -lots[i].level)
    placed = [0] * len(lots)
    for i in lot_order:
        lot = lots[i]
        need = lot.gpus
        for h in hall_order:
            if need == 0:
                break
            if check_cooling and halls[h].level < lot.level:
                continue
            fit = min(need, _gpus_in(remaining[h], lot.kw))
            if fit > 0:
                placed[i] += fit
                need -= fit
                remaining[h] -= fit * lot.kw / 1000.0
    return placed


def power_share(counts: Sequence[int], kws: Sequence[float], power_mw: float) -> list[int]:
    """GPUs of each lot that ``power_mw`` of IT power can run, earliest lot first."""
    left = power_mw
    running = []
    for count, kw in zip(counts, kws, strict=True):
        n = min(count, max(0, _gpus_in(left, kw)))
        running.append(n)
        left -= n * kw / 1000.0
    return running


def _gpus_in(mw: float, kw: float) -> int:
    """Whole GPUs of ``kw`` each that ``mw`` can take (unlimited when ``mw`` is infinite)."""
    if math.isinf(mw):
        return _UNLIMITED
    return int(mw * 1000.0 / kw + _EPS)


def it_mw(counts: Sequence[int], kws: Sequence[float]) -> float:
    return sum(c * k for c, k in zip(counts, kws, strict=True)) / 1000.0
