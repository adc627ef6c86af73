"""Which GPUs on a site can run, given halls, cooling and power: pure functions, no SimPy.

GPUs come in lots that differ in IT power per GPU and in the cooling they need.
Placement fills halls greedily, lot by lot in the dispatch order (the order power
goes in; by default the GPUs that draw the least first, lot order among equals),
each lot into the least capable halls that can host it, so that better-cooled space
is left for the lots after it that need it. Cooling levels are nested (a hall hosts
every lot of its level or below), so in the default order this places the most GPUs
the halls can hold (a fractional transportation problem; tests/test_crews.py checks
it against a linear program), and more GPUs of any lot never place fewer in all. A
GPU installed earlier has no claim on its place: when a lot first in the order comes
and is installed, the GPUs it displaces stand idle (so a relaxation that lets a
roomier lot in early never keeps a leaner one out later). Power then goes in the
same order.

Both work on IT MW as a continuous quantity and round each lot down to whole
GPUs only at the end. Rounding each step instead would let a lot use the
sub-GPU remainder another left behind, so that more space or power could run
fewer GPUs; as written, more space or more power never runs fewer GPUs of any
lot (what makes relaxing a layer never worse).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dcsim.input.spec import GpuModel
    from dcsim.model.state import LotState


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


_PLACED: dict[tuple[object, ...], tuple[int, ...]] = {}  # place()'s answers, by its question
_REMEMBERED = 4096


def place(
    lots: Sequence[LotLoad],
    halls: Sequence[Space],
    check_cooling: bool = True,
    order: Sequence[int] = (),
) -> list[int]:
    """GPUs of each lot that fit in ``halls``; unless ``check_cooling``, any hall fits any lot.

    Lots take space in ``order`` (indexes of ``lots``; by default their own order), each
    in the least capable halls that can host it.

    A site asks the same question at many instants (the halls and lots as they were, with
    only power changed): the answers are remembered, a few thousand at most (all are
    forgotten when that many are kept, and remembering starts again).
    """
    key = (tuple(lots), tuple(halls), check_cooling, tuple(order))
    known = _PLACED.get(key)
    if known is None:
        if len(_PLACED) >= _REMEMBERED:
            _PLACED.clear()
        known = _PLACED[key] = tuple(_place(lots, halls, check_cooling, order))
    return list(known)


def _place(
    lots: Sequence[LotLoad], halls: Sequence[Space], check_cooling: bool, order: Sequence[int]
) -> list[int]:
    remaining = [h.mw for h in halls]
    hall_order = sorted(range(len(halls)), key=lambda h: halls[h].level)
    placed = [0] * len(lots)
    for i in order or range(len(lots)):
        lot = lots[i]
        need = lot.gpus * lot.kw / 1000.0
        taken = 0.0
        for h in hall_order:
            if need <= 0.0:
                break
            if check_cooling and halls[h].level < lot.level:
                continue
            take = min(need, remaining[h])
            if take > 0.0:
                taken += take
                need -= take
                remaining[h] -= take
        placed[i] = min(lot.gpus, _gpus_in(taken, lot.kw))
    return placed


def power_share(
    counts: Sequence[int], kws: Sequence[float], power_mw: float, order: Sequence[int] = ()
) -> list[int]:
    """GPUs of each lot that ``power_mw`` of IT power runs: lots in ``order``, by default
    those drawing least first (which runs the most GPUs)."""
    left = power_mw
    running = [0] * len(counts)
    for i in order or power_order(kws):
        need = counts[i] * kws[i] / 1000.0
        take = min(need, max(0.0, left))
        left -= take
        running[i] = counts[i] if take >= need else min(counts[i], _gpus_in(take, kws[i]))
    return running


def power_order(kws: Sequence[float]) -> tuple[int, ...]:
    """Lots in the order power goes to them by default: those drawing least first."""
    return tuple(sorted(range(len(kws)), key=kws.__getitem__))


def _gpus_in(mw: float, kw: float) -> int:
    """Whole GPUs of ``kw`` each that ``mw`` can take (unlimited when ``mw`` is infinite)."""
    if math.isinf(mw):
        return _UNLIMITED
    return int(mw * 1000.0 / kw + _EPS)


def it_mw(counts: Sequence[int], kws: Sequence[float]) -> float:
    if len(counts) != len(kws):
        raise ValueError(f"{len(counts)} counts for {len(kws)} lots")
    total: float = sum(map(operator.mul, counts, kws))
    return total / 1000.0


def dispatch_order(
    policy: str, lots: Sequence[LotState], models: Sequence[GpuModel]
) -> tuple[int, ...]:
    """Lot indices in the order power goes to them under ``policy`` (DISPATCH_POLICIES).

    Every policy is a fixed order, so more power never runs fewer GPUs of any lot; only
    ``most_gpus`` also never runs fewer GPUs when more GPUs are installed.
    """
    index = range(len(lots))
    if policy == "most_gpus":
        return tuple(sorted(index, key=lambda i: lots[i].kw))
    if policy == "lot_order":
        return tuple(index)
    if policy == "newest_first":
        return tuple(sorted(index, key=lambda i: -models[i].value_per_hour_usd))
    if policy == "value":
        return tuple(sorted(index, key=lambda i: -models[i].value_per_hour_usd / lots[i].kw))
    raise ValueError(f"unknown dispatch policy {policy!r}")
