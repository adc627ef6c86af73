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
from dcsim.model.background import BackgroundDraws, phase_ends
from dcsim.model.clock import timeout_at
from dcsim.model.event_log import EventBlock, Recorder
from dcsim.model.events import Event
from dcsim.model.grid_request import GridRequest
from dcsim.model.interconnection import NAN, RegionQueue


class SerialQueue(RegionQueue):
    """First come, first served, with ``study_engineers`` studies under way at once.

    First come, first served on identical engineers means requests start their studies
    in arrival order, each on the engineer free soonest (Kiefer and Wolfowitz's
    recursion): start = max(arrival, earliest free time). So a request's whole study —
    when it starts, when each phase ends, whether it withdraws — is known once the
    requests before it are in line, from the durations drawn for it.

    Background requests are therefore neither processes nor events. Their draws are
    taken ahead as arrays (:class:`~dcsim.model.background.BackgroundDraws`), and they
    are *taken in* — put in line, in arrival order — only when something needs the
    line as it stands: a site's request joining it, the end of the run, or the
    earliest day a request not yet taken in could sign its agreement. Only a request
    that signs becomes a :class:`GridRequest`, with one timeout at its agreement,
    where it meets the grid's shared headroom at the right time. The rows of the
    studies are logged at the end as one block of arrays. A site's request keeps a
    process, so that the site sees its study start when it happens. The sample path
    is the one a SimPy resource gives (tests/test_queue_recursion.py), and the
    theory checks hold (tests/test_theory_queue.py: Erlang C, Little,
    Pollaczek-Khinchine).
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: Region,
        recorder: Recorder,
        background_rng: np.random.Generator,
        until: float = math.inf,
    ) -> None:
        """``until``: when the run will end, if known (the draws are taken to about then)."""
        self._until = until
        self._free_at = [-math.inf] * spec.study_engineers  # a heap: when each is next free
        self._traffic: BackgroundDraws | None = None  # once the queue is open
        self._taken = 0  # background requests taken in so far
        self._logged = 0  # ... and logged
        self._starts: list[float] = []  # the study start of each taken in
        self._wake_at = math.inf  # when the next look at the untaken requests is due
        self._wake: simpy.Event | None = None
        super().__init__(env, spec, recorder, background_rng)
        recorder.add_source(self._studies_before)

    # -- background traffic, computed ------------------------------------
    def _open(self) -> None:
        self._traffic = BackgroundDraws(self.spec, self.background_rng, self.env.now, self._until)
        self._take_in(self.env.now)

    def release(self) -> None:
        self._traffic = None  # the background requests' draws, as lists and arrays

    @property
    def arrivals(self) -> int:
        """Background requests taken in so far (the initial backlog included): those that
        arrived by the last time the line was needed (a site's request, a look, the end)."""
        return self._taken

    def submit(self, request: GridRequest) -> None:
        # Everyone who came before a site's request is in line before it.
        if self._traffic is not None:
            self._take_in(self.env.now)
        super().submit(request)

    def _take_in(self, until: float, inclusive: bool = True) -> None:
        """Put in line every background request that arrived by ``until`` (before it, if
        not ``inclusive``), and set a timeout at each one's agreement; then look again
        no later than the earliest a request not yet taken in could sign."""
        draws = self._traffic
        assert draws is not None
        draws.draw_past(until)
        times, runs, through = draws.times, draws.runs, draws.through
        agreement, stays = draws.agreement, draws.stays
        free, starts, replace = self._free_at, self._starts, heapq.heapreplace
        k, count = self._taken, len(times)
        while k < count and (times[k] <= until if inclusive else times[k] < until):
            arrival = times[k]
            start = free[0] if free[0] > arrival else arrival
            end = start
            durations = runs[k]
            for phase in range(through[k]):  # up to the phase it withdraws at, if any
                end += durations[phase]
            replace(free, end)  # the engineer free soonest takes it, until ``end``
            starts.append(start)
            if stays[k]:
                # As a timeout set on its arrival would fall: now + (end + agreement - now).
                self._call_at(arrival + (end + agreement[k] - arrival), k)
            k += 1
        self._taken = k
        self._look_again()

    def _look_again(self) -> None:
        assert self._traffic is not None
        when = self._traffic.next_after(self._taken)
        if when < self._wake_at:
            self._wake_at = when
            self._wake = timeout_at(self.env, when)
            self._wake.callbacks.append(self._woken)

    def _woken(self, event: simpy.Event) -> None:
        if event is not self._wake:
            return  # an earlier look took its place
        self._wake_at = math.inf
        self._take_in(self.env.now)

    def _call_at(self, when: float, index: int) -> None:
        timeout_at(self.env, when).callbacks.append(lambda _: self._agreement(index))

    def _agreement(self, index: int) -> None:
        """Background request ``index`` has finished its studies and signs now."""
        draws = self._traffic
        assert draws is not None
        spec = self.spec
        request = GridRequest(
            ident=f"{spec.name}/bg-{index + 1}",
            site=spec.name,
            mw=draws.mw[index],
            tranches=(),
            rng=self.background_rng,
            background=True,
            plan=draws.plan(index),
            submitted=draws.times[index],
        )
        self._background_agreement(request)

    def _studies_before(self, until: float) -> EventBlock | None:
        """The rows of the background requests' studies, from arrival to the end of their
        studies, for every request that arrived before ``until``: one block of arrays."""
        if self._traffic is None:
            return None
        # Nothing after now has happened (a request taken in early would go ahead of a
        # site's request that comes before it).
        self._take_in(min(until, self.env.now), inclusive=False)
        first, last = self._logged, self._taken
        self._logged = last
        if first == last:
            return None
        return _study_rows(self.spec, self._traffic, first, last, self._starts[first:last])

    # -- a site's request ------------------------------------------------
    def _enqueue(self, request: GridRequest) -> None:
        plan = request.plan
        assert plan is not None and not request.background
        free = self._free_at
        start = self.env.now
        if free[0] > start:
            start = free[0]
        end, ends = start, []
        for duration in plan.phase_durations:  # a site's request never withdraws
            end += duration
            ends.append(end)
        heapq.heapreplace(free, end)
        self.env.process(self._site_studies(request, start, ends))

    def _background_agreement(self, request: GridRequest) -> None:
        """A background request signs (or withdraws); if the headroom covers it, it is
        connected now and energized after its energization time; either way with no
        process."""
        env, plan, log = self.env, request.plan, self._log
        assert plan is not None
        now = env.now
        log(request, Event.AGREEMENT_SIGNED, now - request.submitted, "days",
            "days since request")  # fmt: skip
        if plan.withdrawal_after_agreement < self.spec.withdrawal_after_agreement:
            request.withdrawn = True
            log(request, Event.REQUEST_WITHDRAWN, detail="after_agreement")
            return
        request.need = request.mw
        if request.need <= self.capacity.headroom:
            self.capacity.headroom -= request.need
            request.upgrade_wait = 0.0
            self._energize_background(request)
        else:
            self._await_upgrade(request)

    def _await_upgrade(self, request: GridRequest) -> None:
        """A background request the headroom does not cover waits for an upgrade, then for
        its energization: callbacks, not a process. (A process would start at the next
        step, which is this instant's before anything else: no other event comes in
        between; tests/test_callbacks_as_processes.py runs both.)"""
        cleared = self.capacity.wait_for_upgrade(request)
        cleared.callbacks.append(lambda _: self._upgraded(request))

    def _energize_background(self, request: GridRequest) -> None:
        """A background request the headroom covers is connected now and energized after
        its energization time. Nothing waits on that: it is logged now, at the day it will
        happen."""
        assert request.plan is not None
        now = self.env.now
        self.recorder.event(now + request.plan.energization, request.site,
                            Event.TRANCHE_ENERGIZED, request.ident, request.mw, "MW",
                            background=True, logged=now)  # fmt: skip

    def _upgraded(self, request: GridRequest) -> None:
        """A background request's upgrade is done (or another's spare covers it): it is
        energized after its energization time, and logged then, as its process did (rows
        logged ahead sort before others of their day: logging this one ahead too would
        reorder rows that tie)."""
        assert request.plan is not None
        if request.plan.energization > 0:
            energized = self.env.timeout(request.plan.energization)
            energized.callbacks.append(lambda _: self._energized(request))
        else:
            self._energized(request)

    def _energized(self, request: GridRequest) -> None:
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


# The rows of one background request's studies, in the order they are logged: submitted,
# study started, each phase completed, then withdrawn or study completed.
_WAITED = "days waited for a study engineer"


def _study_rows(
    spec: Region, draws: BackgroundDraws, first: int, last: int, starts: list[float]
) -> EventBlock:
    """Rows of requests ``first``..``last - 1``, request by request, as one block."""
    count, phases = last - first, len(spec.phases)
    arrival = draws.array("time")[first:last]
    start = np.asarray(starts, dtype=np.float64)
    durations = draws.array("durations")[first:last]
    through = draws.array("through")[first:last]
    withdrawn = draws.array("withdrawn")[first:last]
    slots = 3 + phases  # submitted, started, each phase, the end of the studies
    time = np.empty((count, slots))
    event = np.empty((count, slots), dtype=np.int16)
    quantity = np.full((count, slots), NAN)
    unit = np.zeros((count, slots), dtype=np.int64)  # codes into strings below
    detail = np.zeros((count, slots), dtype=np.int64)
    present = np.ones((count, slots), dtype=bool)
    strings = ["", "MW", "days", _WAITED, *(p.name for p in spec.phases), spec.name]
    phase_code = 4  # strings[4 + p] is phase p's name
    time[:, 0], event[:, 0] = arrival, Event.REQUEST_SUBMITTED.code
    quantity[:, 0], unit[:, 0] = draws.array("mw")[first:last], 1
    time[:, 1], event[:, 1] = start, Event.STUDY_STARTED.code
    quantity[:, 1], unit[:, 1], detail[:, 1] = start - arrival, 2, 3
    ends = phase_ends(start, durations, through)
    for index in range(phases):
        column = 2 + index
        time[:, column], event[:, column] = ends[index], Event.PHASE_COMPLETED.code
        detail[:, column], present[:, column] = phase_code + index, index < through
    time[:, -1] = ends[-1]
    event[:, -1] = np.where(withdrawn, Event.REQUEST_WITHDRAWN.code,
                            Event.STUDY_COMPLETED.code)  # fmt: skip
    detail[:, -1] = np.where(withdrawn, phase_code + through - 1, 0)
    request = np.repeat(np.arange(count), slots).reshape(count, slots)
    keep = present.ravel()
    objects = [f"{spec.name}/bg-{number}" for number in range(first + 1, last + 1)]
    site = len(strings) - 1
    offset = len(strings)
    return EventBlock(
        logged=np.repeat(arrival, slots)[keep],  # worked out when the request arrived
        time=time.ravel()[keep],
        event=event.ravel()[keep],
        quantity=quantity.ravel()[keep],
        site=np.full(int(keep.sum()), site),
        obj=request.ravel()[keep] + offset,
        unit=unit.ravel()[keep],
        detail=detail.ravel()[keep],
        strings=[*strings, *objects],
        background=np.ones(int(keep.sum()), dtype=bool),
    )
