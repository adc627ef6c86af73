"""A constrained supply of GPUs: orders filled first come, first served at a dated output.

Chip supply is capped upstream (packaging, CoWoS: SOURCES U7), so GPUs are made as
one fluid line: ``output`` GPUs a day, stepping up on dated steps as capacity is
added. An order of ``n`` GPUs placed at ``t`` starts once every earlier order is made
(first come, first served by order date) and is finished when the output integrated
from then reaches ``n``: Lindley's recursion for one server whose speed changes with
the calendar. With Poisson background orders of one unit and a fixed output this is
the M/D/1 queue (Pollaczek-Khinchine), as the equipment markets are M/D/c.

As in :mod:`~dcsim.model.equipment`, background orders need no SimPy event: the supply
takes them in lazily, in arrival order, when a site's order needs the queue.

With ``allocation = "pro_rata"`` every open order gets a share of the output in
proportion to its size (:class:`ProRataSupply`): a later order slows the ones before it.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from dcsim.input.spec import GpuSupply
from dcsim.model.equipment import ArrivalClock


class ChipSupply:
    def __init__(
        self,
        env: simpy.Environment,
        spec: GpuSupply,
        background_rng: np.random.Generator,
        start_date: dt.date,
    ) -> None:
        opens = self._schedule(env, spec, background_rng, start_date)
        self._free_at = opens  # when everything ordered so far is made
        if spec.initial_backlog:
            self._make(opens, spec.initial_backlog)
        self._next_arrival = self._clock.after(opens)
        self._catch_up(env.now)  # the warm-up

    def _schedule(
        self,
        env: simpy.Environment,
        spec: GpuSupply,
        background_rng: np.random.Generator,
        start_date: dt.date,
    ) -> float:
        """Set up the dated output and background demand; return the day the supply opens."""
        self.env = env
        self.spec = spec
        days = [float((when - start_date).days) for when, _ in spec.output_steps]
        self._since = [-math.inf, *days]  # output in force from each day on
        self._output = [spec.output_per_day, *(rate for _, rate in spec.output_steps)]
        rates = [(-math.inf, spec.background_rate)]
        rates += [(float((when - start_date).days), r) for when, r in spec.background_steps]
        self._clock = ArrivalClock(rates, background_rng)
        return env.now - spec.warm_up

    def made_between(self, start: float, end: float) -> float:
        """GPUs the line makes from ``start`` to ``end`` if it is busy all along."""
        index = bisect.bisect_right(self._since, start) - 1
        t, made = start, 0.0
        while t < end:
            step_end = self._since[index + 1] if index + 1 < len(self._since) else math.inf
            until = min(end, step_end)
            made += self._output[index] * (until - t)
            t, index = until, index + 1
        return made

    def made_by(self, start: float, gpus: float) -> float:
        """The day the line, busy from ``start``, has made ``gpus`` more GPUs."""
        index = bisect.bisect_right(self._since, start) - 1
        t, left = start, gpus
        while True:
            rate = self._output[index]
            end = self._since[index + 1] if index + 1 < len(self._since) else math.inf
            if t + left / rate <= end:
                return t + left / rate
            left -= rate * (end - t)
            t, index = end, index + 1

    def _make(self, now: float, gpus: float) -> float:
        self._free_at = self.made_by(max(now, self._free_at), gpus)
        return self._free_at

    def _catch_up(self, now: float) -> None:
        """Take in every background order that has arrived by ``now``."""
        size = self.spec.background_order
        while self._next_arrival <= now:
            self._make(self._next_arrival, size)
            self._next_arrival = self._clock.after(self._next_arrival)

    def backlog_days(self) -> float:
        """How long an order placed now waits before its first GPU is made."""
        self._catch_up(self.env.now)
        return max(0.0, self._free_at - self.env.now)

    def order(self, gpus: int, rng: np.random.Generator) -> Generator[simpy.Event, Any, float]:
        """A SimPy process: queue, make and ship ``gpus`` GPUs; returns the lead time."""
        env = self.env
        ordered = env.now
        transport = self.spec.transport_time.sample(rng)
        self._catch_up(ordered)
        made = self._make(ordered, gpus)
        yield env.timeout(made - ordered + transport)
        return env.now - ordered


@dataclass(eq=False)
class _Order:
    opened: float  # the line's virtual time when the order was placed
    gpus: float
    done: simpy.Event | None = None  # a site's order; None for everyone else's


@dataclass
class _Shares:
    """The pro-rata line's state: each open order is made at output x its size / ``load``.

    In the line's virtual time ``v`` (dv/dt = output / load) every order gets one unit of
    ``v`` worth of its own size, so an order is done one unit of ``v`` after it was placed:
    orders finish in the order they were placed, though not when first come, first served
    would finish them.
    """

    t: float
    v: float = 0.0
    load: float = 0.0  # GPUs of the open orders, in total
    due: float = 0.0  # the sum over open orders of GPUs x the virtual time each is done at

    def left(self) -> float:
        """GPUs still to make for the open orders."""
        return max(0.0, self.due - self.v * self.load)

    open: deque[_Order] = field(default_factory=deque)


class ProRataSupply(ChipSupply):
    """A GPU supply that splits its output among the open orders pro rata to their size."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: GpuSupply,
        background_rng: np.random.Generator,
        start_date: dt.date,
    ) -> None:
        opens = self._schedule(env, spec, background_rng, start_date)
        self._line = _Shares(t=opens)
        self._ahead: deque[float] = deque()  # background arrivals drawn, not yet taken in
        self._last = opens  # the last background arrival taken in (or the opening)
        self._wake_up = 0  # which projected completion is the current one
        if spec.initial_backlog:
            self._open(_Order(0.0, float(spec.initial_backlog)))
        self._catch_up(env.now)  # the warm-up

    def _catch_up(self, now: float) -> None:
        self._advance(self._line, now)

    def backlog_days(self) -> float:
        """How long the open orders take to make, at the output to come."""
        self._catch_up(self.env.now)
        line = self._line
        left = line.left()
        return self.made_by(self.env.now, left) - self.env.now if left else 0.0

    def order(self, gpus: int, rng: np.random.Generator) -> Generator[simpy.Event, Any, float]:
        env = self.env
        ordered = env.now
        transport = self.spec.transport_time.sample(rng)
        self._catch_up(ordered)
        entry = _Order(self._line.v, float(gpus), env.event())
        self._open(entry)
        self._project()
        assert entry.done is not None
        yield entry.done
        yield env.timeout(transport)
        return env.now - ordered

    def _open(self, entry: _Order) -> None:
        self._line.open.append(entry)
        self._line.load += entry.gpus
        self._line.due += entry.gpus * (entry.opened + 1.0)

    def _arrival(self, index: int) -> float:
        """The ``index``-th background arrival not yet taken in (drawn when first needed:
        one after the other from the same clock, so looking ahead changes no draw)."""
        while len(self._ahead) <= index:
            self._ahead.append(self._clock.after(self._ahead[-1] if self._ahead else self._last))
        return self._ahead[index]

    def _advance(self, line: _Shares, to: float, stop: _Order | None = None) -> float:
        """Move ``line`` on to ``to``: orders finish and background orders arrive in turn.

        With ``stop``, ``line`` is a copy: return the time that order finishes, assuming no
        site orders in between; background arrivals are looked at, not taken in.
        """
        looked = 0
        size = float(self.spec.background_order)
        while True:
            coming = self._arrival(looked)
            head = line.open[0] if line.open else None
            finish = math.inf
            if head is not None:
                finish = self.made_by(line.t, line.load * max(0.0, head.opened + 1.0 - line.v))
            if head is not None and finish <= min(coming, to):
                line.t, line.v = finish, head.opened + 1.0
                line.open.popleft()
                line.load -= head.gpus
                line.due -= head.gpus * (head.opened + 1.0)
                if head is stop:
                    return finish
                if stop is None and head.done is not None and not head.done.triggered:
                    head.done.succeed(finish)
            elif coming <= to and coming < math.inf:
                if line.load:
                    line.v += self.made_between(line.t, coming) / line.load
                line.t = coming
                line.open.append(_Order(line.v, size))
                line.load += size
                line.due += size * (line.v + 1.0)
                looked += 1
                if stop is None:
                    self._last = self._ahead.popleft()
                    looked = 0
            else:
                if line.load and to < math.inf:
                    line.v += self.made_between(line.t, to) / line.load
                line.t = to
                return to

    def _project(self) -> None:
        """Wake up when the first open site order is done, if no other site orders first."""
        first = next((o for o in self._line.open if o.done is not None), None)
        if first is None:
            return
        view = copy.copy(self._line)
        view.open = deque(self._line.open)
        finish = self._advance(view, math.inf, stop=first)
        self._wake_up += 1
        current = self._wake_up
        wake = self.env.timeout(max(0.0, finish - self.env.now))
        wake.callbacks.append(lambda _: self._finish(current, first))

    def _finish(self, current: int, entry: _Order) -> None:
        if current != self._wake_up:
            return  # a later site order moved the projection
        self._catch_up(self.env.now)
        line = self._line
        assert entry.done is not None
        if not entry.done.triggered:  # rounding left it a speck short: it is done now
            while line.open and line.open[0] is not entry:
                self._close(line.open[0])
            self._close(entry)
            line.v, line.t = entry.opened + 1.0, self.env.now
        self._project()

    def _close(self, entry: _Order) -> None:
        self._line.open.popleft()
        self._line.load -= entry.gpus
        self._line.due -= entry.gpus * (entry.opened + 1.0)
        if entry.done is not None and not entry.done.triggered:
            entry.done.succeed(self.env.now)


def chip_supply(
    env: simpy.Environment, spec: GpuSupply, background_rng: np.random.Generator, start: dt.date
) -> ChipSupply:
    """The supply ``spec`` describes, with its allocation rule."""
    kind = ProRataSupply if spec.allocation == "pro_rata" else ChipSupply
    return kind(env, spec, background_rng, start)


def supply_stream(name: str) -> str:
    """The named random stream of a GPU supply's background orders."""
    return f"chips:{name}/background"
