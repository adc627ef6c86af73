"""The shared market for large power transformers.

Factories finish ``output`` units a year on ``lines`` production lines; each
unit holds a line for ``lines / output`` years. Orders from sites and from
everyone else (a Poisson stream) are built first come, first served, so the
wait for a line — and with it the lead time — rises with demand instead of
being a fixed number.

Because service is first come, first served and each unit's build time is
known when it joins the queue, the finish time of each unit follows from the
times the lines next fall free (Lindley's recursion on a heap). Background
orders therefore need no SimPy process of their own: only their arrival
stream is a process, and the model's cost grows with events, not with units.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from dcsim.input.spec import TransformerSupply


class TransformerMarket:
    def __init__(
        self, env: simpy.Environment, spec: TransformerSupply, background_rng: np.random.Generator
    ) -> None:
        self.env = env
        self.spec = spec
        self.build_time = spec.build_time
        self._free_at = [0.0] * spec.lines  # a heap: when each line next falls free
        self.background_rng = background_rng
        for _ in range(spec.initial_backlog):
            self._join_queue(0.0)
        if spec.background_rate > 0:
            env.process(self._background())

    def _join_queue(self, now: float) -> float:
        """Put one unit in production at ``now``; return when it is finished."""
        start = max(now, self._free_at[0])
        done = start + self.build_time
        heapq.heapreplace(self._free_at, done)
        return done

    def backlog_days(self) -> float:
        """How long a unit ordered now would wait for a line."""
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

    def _background(self) -> Generator[simpy.Event, Any, None]:
        mean_gap = 1.0 / self.spec.background_rate
        rng = self.background_rng
        while True:
            # Inverse transform: one uniform per gap, as every other draw (CRN).
            yield self.env.timeout(-mean_gap * math.log1p(-rng.random()))
            self._join_queue(self.env.now)
