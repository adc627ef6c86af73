"""The serial region queue: first come, first served on ``study_engineers``, computed.

See :class:`SerialQueue`; the shared steps (agreement, headroom, upgrades, energization)
are :class:`~dcsim.model.interconnection.RegionQueue`'s.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from dcsim.input.spec import Region
from dcsim.model.events import Event, EventRow, Recorder
from dcsim.model.grid_request import GridRequest
from dcsim.model.interconnection import NAN, P, RegionQueue, _new_row


class SerialQueue(RegionQueue):
    """First come, first served, with ``study_engineers`` studies under way at once.

    First come, first served on identical engineers means requests start their studies
    in arrival order, each on the engineer free soonest (Kiefer and Wolfowitz's
    recursion): start = max(arrival, earliest free time). So a request's whole study —
    when it starts, when each phase ends, whether it withdraws — is known the moment it
    arrives, from the durations drawn then. A background request needs no SimPy process
    for it: its study rows are logged ahead, and one timeout wakes it at its agreement,
    where it meets the grid's shared headroom at the right time. A site's request keeps
    a process, so that the site sees its study start when it happens. The sample path
    is the one a SimPy resource gives (tests/test_theory_queue.py: Erlang C, Little,
    Pollaczek-Khinchine).
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: Region,
        recorder: Recorder,
        background_rng: np.random.Generator,
    ) -> None:
        self._free_at = [-math.inf] * spec.study_engineers  # a heap: when each is next free
        super().__init__(env, spec, recorder, background_rng)

    def _enqueue(self, request: GridRequest) -> None:
        plan = request.plan
        assert plan is not None
        free = self._free_at
        start = self.env.now
        if free[0] > start:
            start = free[0]
        end, ends, phases = start, [], self.spec.phases
        withdrawn = None
        for index, duration in enumerate(plan.phase_durations):
            end += duration
            ends.append(end)
            if (
                request.background
                and phases[index].withdrawal > 0
                and self._withdraws(request, index)
            ):
                withdrawn = phases[index].name
                break
        heapq.heapreplace(free, end)  # the engineer free soonest takes it, until ``end``
        if not request.background:
            self.env.process(self._site_studies(request, start, ends))
            return
        # The rows of its studies, built here: the hottest loop of a run.
        site, ident, rows = request.site, request.ident, self._rows
        rows.append(_new_row(EventRow, (start, site, P, Event.STUDY_STARTED, ident,
                                        start - request.submitted, "days",
                                        "days waited for a study engineer", True)))  # fmt: skip
        for time, phase in zip(ends, phases, strict=False):
            rows.append(_new_row(EventRow, (time, site, P, Event.PHASE_COMPLETED, ident, NAN,
                                            "", phase.name, True)))  # fmt: skip
        if withdrawn is not None:
            request.withdrawn = True
            rows.append(_new_row(EventRow, (end, site, P, Event.REQUEST_WITHDRAWN, ident, NAN,
                                            "", withdrawn, True)))  # fmt: skip
            return
        rows.append(_new_row(EventRow, (end, site, P, Event.STUDY_COMPLETED, ident, NAN, "",
                                        "", True)))  # fmt: skip
        wake = self.env.timeout(end + plan.agreement - self.env.now)
        wake.callbacks.append(lambda _: self._background_agreement(request))

    def _background_agreement(self, request: GridRequest) -> None:
        """A background request signs (or withdraws); if the headroom covers it, it is
        connected now and energized after its energization time, with no process."""
        env, plan, log = self.env, request.plan, self._log
        assert plan is not None
        now = env.now
        self._rows.append(_new_row(EventRow, (now, request.site, P, Event.AGREEMENT_SIGNED,
                                              request.ident, now - request.submitted, "days",
                                              "days since request", True)))  # fmt: skip
        if plan.withdrawal_after_agreement < self.spec.withdrawal_after_agreement:
            request.withdrawn = True
            log(request, Event.REQUEST_WITHDRAWN, detail="after_agreement")
            return
        request.need = request.mw
        if request.need <= self.capacity.headroom:
            self.capacity.headroom -= request.need
            request.upgrade_wait = 0.0
            # Nothing waits on a background request's energization: log it now.
            self._rows.append(_new_row(EventRow, (env.now + plan.energization, request.site, P,
                                                  Event.TRANCHE_ENERGIZED, request.ident,
                                                  request.mw, "MW", "", True)))  # fmt: skip
        else:
            env.process(self._background_upgrade(request))

    def _background_upgrade(self, request: GridRequest) -> Generator[simpy.Event, Any, None]:
        assert request.plan is not None
        yield from self.capacity.connect(request)
        if request.plan.energization > 0:
            yield self.env.timeout(request.plan.energization)
        self._log(request, Event.TRANCHE_ENERGIZED, request.mw, "MW")

    def _site_studies(
        self, request: GridRequest, start: float, ends: list[float]
    ) -> Generator[simpy.Event, Any, None]:
        """A site's request through the study times its arrival fixed, then onwards."""
        env, log = self.env, self._log
        if start > env.now:
            yield env.timeout(start - env.now)
        request.study_started_at = env.now
        log(request, Event.STUDY_STARTED, env.now - request.submitted, "days",
            "days waited for a study engineer")  # fmt: skip
        for end, phase in zip(ends, self.spec.phases, strict=False):
            if end > env.now:
                yield env.timeout(end - env.now)
            log(request, Event.PHASE_COMPLETED, NAN, "", phase.name)
        yield from self._after_studies(request)
