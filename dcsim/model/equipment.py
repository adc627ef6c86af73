"""The shared markets for long-lead equipment: power transformers, HV switchgear, gas turbines.

One mechanism for all three. Factories run ``lines`` production lines; a unit holds
a line for a fixed build time. Orders from sites and from everyone else (a Poisson
stream whose rate follows a dated schedule) are built first come, first served, so
the wait for a line — and with it the lead time — rises when demand outruns output.
Output follows a dated schedule too: each step opens more lines from its date.

Because service is first come, first served and each unit's build time is known
when it joins the queue, the finish time of each unit follows from the times the
lines next fall free (Lindley's recursion on a heap). A line that opens on a later
date is on the heap from the start, free from that date: a unit that joins before
it opens may still start on it the day it does, as first come, first served means.
Background orders therefore need no SimPy event at all: nothing watches them but the
queue, so the market takes them in lazily, in arrival order, whenever a site's order
or a look at the backlog needs the queue as it stands. The sample path is the one a
process per arrival would give, and a run costs no event per background unit.

A market may warm up: it runs its background orders for ``warm_up`` days before the
start date, so the backlog a site meets on day 0 is what the demand of the years
before built up against the output of those years, not a number typed in.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from dcsim.input.spec import EquipmentSupply
from dcsim.model.streams import DrawnAhead


def _day(when: dt.date, start: dt.date) -> float:
    return float((when - start).days)


class ArrivalClock:
    """Poisson arrivals whose rate is piecewise constant: one uniform draw per arrival.

    The next arrival after ``t`` spends an Exp(1) draw of "cumulative rate" through the
    rate's steps (the time change of a non-homogeneous Poisson process).
    """

    def __init__(self, steps: list[tuple[float, float]], rng: np.random.Generator) -> None:
        self.steps = steps  # (from day, rate per day), in order; the first from -inf
        self._starts = [since for since, _ in steps]
        self.rng = rng
        self._uniforms = DrawnAhead(rng)  # the stream is the clock's alone

    @property
    def constant_rate(self) -> float | None:
        """The rate, if it never changes (one step, from -inf); otherwise None."""
        return self.steps[0][1] if len(self.steps) == 1 else None

    def exp1(self) -> float:
        """The next Exp(1) draw, by inverse transform of the next uniform."""
        return -math.log1p(-self._uniforms.next())

    def after(self, t: float) -> float:
        budget = self.exp1()
        index = bisect.bisect_right(self._starts, t) - 1
        while True:
            rate = self.steps[index][1]
            end = self.steps[index + 1][0] if index + 1 < len(self.steps) else math.inf
            if rate > 0 and t + budget / rate <= end:
                return t + budget / rate
            if end == math.inf:
                return math.inf
            budget -= rate * (end - t)
            t, index = end, index + 1


class EquipmentMarket:
    def __init__(
        self,
        env: simpy.Environment,
        spec: EquipmentSupply,
        background_rng: np.random.Generator,
        start_date: dt.date | None = None,
    ) -> None:
        """``start_date`` is the calendar date of day 0 (needed only with schedules)."""
        self.env = env
        self.spec = spec
        self.build_time = spec.build_time
        opens = env.now - spec.warm_up
        if (spec.output_steps or spec.background_steps) and start_date is None:
            raise ValueError("a market with schedules needs the start date")
        self._free_at = [opens] * spec.lines  # a heap: when each line next falls free
        lines = spec.lines
        for when, output in spec.output_steps:
            assert start_date is not None
            more = spec.lines_at(output) - lines
            self._free_at += [max(opens, _day(when, start_date))] * more
            lines += more
        heapq.heapify(self._free_at)
        rates = [(-math.inf, spec.background_rate)]
        for when, rate in spec.background_steps:
            assert start_date is not None
            rates.append((_day(when, start_date), rate))
        self._clock = ArrivalClock(rates, background_rng)
        for _ in range(spec.initial_backlog):
            self._build(opens)
        self._next_arrival = self._clock.after(opens)
        self._catch_up(env.now)  # the warm-up

    def _catch_up(self, now: float) -> None:
        """Take in every background order that has arrived by ``now``.

        ``_build`` and the clock's ``after`` written out in one loop with local names:
        the warm-up takes in tens of thousands of orders per market, and the calls were
        most of its cost. The arithmetic is theirs, step for step, so the numbers are too.
        """
        arrival = self._next_arrival
        if arrival > now:
            return
        free_at, build_time, clock = self._free_at, self.build_time, self._clock
        replace, after = heapq.heapreplace, clock.after
        constant = clock.constant_rate
        while arrival <= now:
            earliest = free_at[0]
            replace(free_at, (arrival if arrival > earliest else earliest) + build_time)
            if constant is None:
                arrival = after(arrival)
            else:  # one rate for ever: after()'s first step, without its search
                arrival = arrival + clock.exp1() / constant if constant > 0 else math.inf
        self._next_arrival = arrival

    def _join_queue(self, now: float) -> float:
        """Put a site's unit in production at ``now``, behind every earlier order."""
        self._catch_up(now)
        return self._build(now)

    def _build(self, now: float) -> float:
        """Put one unit in production at ``now``; return when it is finished."""
        start = max(now, self._free_at[0])
        done = start + self.build_time
        heapq.heapreplace(self._free_at, done)
        return done

    def backlog_days(self) -> float:
        """How long a unit ordered now would wait for a line."""
        self._catch_up(self.env.now)
        return max(0.0, self._free_at[0] - self.env.now)

    def order(self, rng: np.random.Generator) -> Generator[simpy.Event, Any, float]:
        """A SimPy process: design, queue, build and ship one unit; returns the lead time."""
        env, spec = self.env, self.spec
        ordered = env.now
        design, transport = spec.design_time.sample(rng), spec.transport_time.sample(rng)
        if design > 0:
            yield env.timeout(design)
        done = self._join_queue(env.now)
        yield env.timeout(done - env.now + transport)
        return env.now - ordered


def market_stream(kind: str, name: str) -> str:
    """The named random stream of a market's background orders."""
    # Transformer markets keep the name they had before there were other kinds.
    if kind == "transformer":
        return f"market:{name}/background"
    return f"market:{kind}:{name}/background"
