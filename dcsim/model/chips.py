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
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Generator
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
        self.env = env
        self.spec = spec
        opens = env.now - spec.warm_up
        days = [float((when - start_date).days) for when, _ in spec.output_steps]
        self._since = [-math.inf, *days]  # output in force from each day on
        self._output = [spec.output_per_day, *(rate for _, rate in spec.output_steps)]
        rates = [(-math.inf, spec.background_rate)]
        rates += [(float((when - start_date).days), r) for when, r in spec.background_steps]
        self._clock = ArrivalClock(rates, background_rng)
        self._free_at = opens  # when everything ordered so far is made
        if spec.initial_backlog:
            self._make(opens, spec.initial_backlog)
        self._next_arrival = self._clock.after(opens)
        self._catch_up(env.now)  # the warm-up

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


def supply_stream(name: str) -> str:
    """The named random stream of a GPU supply's background orders."""
    return f"chips:{name}/background"
