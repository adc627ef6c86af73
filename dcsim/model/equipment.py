"""The shared markets for long-lead equipment: power transformers, HV switchgear, gas turbines.

One mechanism for all three. Factories run ``lines`` production lines; a unit holds
a line for a fixed build time. Orders from sites and from everyone else (a Poisson
stream whose rate follows a dated schedule) are built first come, first served, so
the wait for a line — and with it the lead time — rises when demand outruns output.
Output follows a dated schedule too: each step opens more lines from its date.

Because service is first come, first served and each unit's build time is known
when it joins the queue, the finish time of each unit follows from the times the
lines next fall free (Lindley's recursion: each unit takes the line free soonest).
With one build time for every unit, units are done in the order they start, so those
free days are two queues in time order, not a heap: the lines not yet used and the
units under way. A line that opens on a later date is among the unused from the
start, free from that date: a unit that joins before it opens may still start on it
the day it does, as first come, first served means.
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
import math
from collections import deque
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from dcsim.input.spec import EquipmentSupply
from dcsim.model.streams import DrawnAhead


def _day(when: dt.date, start: dt.date) -> float:
    return float((when - start).days)


class ArrivalClock:
    """Poisson arrivals whose rate is piecewise constant: one Exp(1) draw per arrival.

    The next arrival after ``t`` spends an Exp(1) draw of "cumulative rate" through the
    rate's steps (the time change of a non-homogeneous Poisson process).
    """

    def __init__(self, steps: list[tuple[float, float]], rng: np.random.Generator) -> None:
        self.steps = steps  # (from day, rate per day), in order; the first from -inf
        self._starts = [since for since, _ in steps]
        self.rng = rng
        # The stream is the clock's alone. Exp(1) by NumPy's ziggurat: the markets' warm-ups
        # draw ~10^5 a replication, and -log1p(-u) of each uniform took ten times as long.
        self._budgets = DrawnAhead(rng, exponential=True)

    def exp1(self) -> float:
        """The next Exp(1) draw."""
        return self._budgets.next()

    def after(self, t: float) -> float:
        return self._spend(t, self.exp1())

    def _spend(self, t: float, budget: float) -> float:
        """When a cumulative rate of ``budget`` has passed since ``t``."""
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

    def chain(self, t: float, count: int) -> np.ndarray:
        """The next ``count`` arrivals after ``t``, each after the one before: what
        ``count`` calls of :meth:`after` give, to the last bit. Arrivals that stay within
        one rate's step are added up as arrays (t + budget / rate, in order); one that
        crosses into the next step is worked out as :meth:`after` does."""
        budgets = self._budgets.take_array(count)  # exp1() of each
        arrivals = np.empty(count)
        taken = 0
        while taken < count and t < math.inf:
            index = bisect.bisect_right(self._starts, t) - 1
            rate = self.steps[index][1]
            end = self.steps[index + 1][0] if index + 1 < len(self.steps) else math.inf
            if rate > 0:
                times = np.cumsum(np.concatenate(([t], budgets[taken:] / rate)))[1:]
                inside = int(np.searchsorted(times, end, side="right"))
                arrivals[taken : taken + inside] = times[:inside]
                taken += inside
                t = float(arrivals[taken - 1]) if inside else t
            if taken < count:
                t = self._spend(t, float(budgets[taken]))
                arrivals[taken] = t
                taken += 1
        arrivals[taken:] = math.inf
        return arrivals


_ARRIVALS_AHEAD = 2048  # background arrivals a market draws at a time


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
        # When each line next falls free, as two queues in time order (see _build):
        # lines not yet used (those a later output step opens free from its date), and
        # lines busy with a unit, by the day it is done.
        opening = [opens] * spec.lines
        lines = spec.lines
        for when, output in spec.output_steps:
            assert start_date is not None
            more = spec.lines_at(output) - lines
            opening += [max(opens, _day(when, start_date))] * more
            lines += more
        self._unused = sorted(opening)
        self._used = 0  # lines of _unused taken so far
        self._done: deque[float] = deque()
        rates = [(-math.inf, spec.background_rate)]
        for when, rate in spec.background_steps:
            assert start_date is not None
            rates.append((_day(when, start_date), rate))
        self._clock = ArrivalClock(rates, background_rng)
        for _ in range(spec.initial_backlog):
            self._build(opens)
        self._ahead = self._clock.chain(opens, _ARRIVALS_AHEAD)  # the next arrivals, in order
        self._next = 0  # ... from this one on
        self._catch_up(env.now)  # the warm-up

    def _catch_up(self, now: float) -> None:
        """Take in every background order that has arrived by ``now``."""
        arrivals = self._arrivals_by(now)
        if len(arrivals):
            self._take_lines(arrivals)

    def _arrivals_by(self, now: float) -> np.ndarray:
        """The background orders not yet taken in that arrive by ``now``, in order."""
        ahead, start = self._ahead, self._next
        parts = []
        while ahead[-1] <= now:  # all of this block arrives by now: on to the next
            parts.append(ahead[start:])
            ahead, start = self._clock.chain(float(ahead[-1]), _ARRIVALS_AHEAD), 0
        cut = int(np.searchsorted(ahead, now, side="right"))
        parts.append(ahead[start : max(start, cut)])
        self._ahead, self._next = ahead, max(start, cut)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _take_lines(self, arrivals: np.ndarray) -> None:
        """:meth:`_build` for each of ``arrivals`` (in order), a row of lines at a time.

        While no unused line is free soonest, the unit arriving k-th after now takes the
        line of the unit under way k-th (the line free soonest then), and the ones after
        it take the lines of the units just put in, in turn: with L lines under way,
        L units at a time are max(arrival, their line's free day) + build time, the
        arithmetic of _build element by element. The warm-up takes in tens of
        thousands of orders per market this way, a few hundred at a time.
        """
        build_time, unused, used = self.build_time, self._unused, self._used
        free = list(self._done)  # when the lines under way fall free, in order
        taken, count = 0, len(arrivals)
        while taken < count:
            opening = unused[used] if used < len(unused) else math.inf
            if not free or opening <= free[0]:  # an unused line is free soonest
                arrival = float(arrivals[taken])  # as _build does it
                free.append((arrival if arrival > opening else opening) + build_time)
                used += 1
                taken += 1
                continue
            under_way = np.array(free, dtype=np.float64)
            while taken < count:
                pops = under_way[: min(len(under_way), count - taken)]
                # An unused line takes over where it is free no later than the next one.
                rows = int(np.searchsorted(pops, opening, side="left"))
                finished = np.maximum(arrivals[taken : taken + rows], pops[:rows]) + build_time
                under_way = np.concatenate((under_way[rows:], finished))
                taken += rows
                if rows < len(pops):
                    break  # the unused line is next
            free = under_way.tolist()
        self._done, self._used = deque(free), used

    def _join_queue(self, now: float) -> float:
        """Put a site's unit in production at ``now``, behind every earlier order."""
        self._catch_up(now)
        return self._build(now)

    def _build(self, now: float) -> float:
        """Put one unit in production at ``now``: the line free soonest takes it. Returns
        when it is done.

        First come, first served with one build time: units start in the order they
        come, so they are done in that order, and the lines' free days are two queues in
        time order, the lines not yet used and the units under way: the line free
        soonest is at the front of one of them (what a heap of free days would give).
        """
        if self._unused_first():
            earliest = self._unused[self._used]
            self._used += 1
        else:
            earliest = self._done.popleft()
        finished = (now if now > earliest else earliest) + self.build_time
        self._done.append(finished)
        return finished

    def _unused_first(self) -> bool:
        """Whether a line not yet used is (one of) the line(s) free soonest."""
        unused, done = self._unused, self._done
        return self._used < len(unused) and (not done or unused[self._used] <= done[0])

    def backlog_days(self) -> float:
        """How long a unit ordered now would wait for a line."""
        self._catch_up(self.env.now)
        earliest = self._unused[self._used] if self._unused_first() else self._done[0]
        return max(0.0, earliest - self.env.now)

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
