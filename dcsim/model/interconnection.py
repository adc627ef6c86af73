"""The interconnection queue of one region, shared by its sites and by background requests.

Two disciplines, each a small class over :class:`RegionQueue`:

* :class:`~dcsim.model.serial_queue.SerialQueue` — first come, first served;
  each request holds one of ``study_engineers`` for all of its study phases (an
  M/M/c queue when phases are exponential and arrivals Poisson). Computed, not
  simulated, for the background: see its module.
* :class:`ClusterQueue` — FERC Order 2023 cluster studies: requests gathered in
  windows of ``cluster_window``; each cluster is studied as one through the
  phases; ``study_engineers`` clusters can be under study at once.

After its studies a request signs an agreement, then waits until the grid can carry
it — the region's headroom, or a shared, finite network upgrade
(:mod:`dcsim.model.upgrades`) — then is energized, in tranches where the site asked
for them. Background requests may withdraw at the end of each phase and right after
the agreement; a site's own request never does (the planner is committed to it).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from dcsim.input.spec import Region
from dcsim.model.event_log import Recorder
from dcsim.model.events import Event, EventRow, Process
from dcsim.model.grid_request import GridRequest, RequestPlan
from dcsim.model.service import Service
from dcsim.model.streams import DrawnAhead
from dcsim.model.upgrades import GridCapacity

P = Process.INTERCONNECTION
NAN = float("nan")
_new_row = tuple.__new__


class RegionQueue:
    """Shared queue of one region. Subclasses decide how studies are scheduled."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: Region,
        recorder: Recorder,
        background_rng: np.random.Generator,
    ) -> None:
        self.env = env
        self.spec = spec
        self.recorder = recorder
        self._rows = recorder.rows
        self.background_rng = background_rng
        self._draws = DrawnAhead(background_rng)  # the stream is the background's alone
        self._plan_draws = RequestPlan.draws(spec)
        self.capacity = GridCapacity(env, spec, self._log)
        self._count = 0
        if env.now >= -spec.warm_up:
            self._open()
        else:  # a shorter warm-up than another region's: open later
            env.process(self._open_later())

    # -- entry -----------------------------------------------------------
    def submit(self, request: GridRequest) -> None:
        request.submitted = self.env.now
        request.plan = (
            self._background_plan()
            if request.background
            else RequestPlan.draw(self.spec, request.rng)
        )
        self._log(request, Event.REQUEST_SUBMITTED, request.mw, "MW")
        self._enqueue(request)

    def _enqueue(self, request: GridRequest) -> None:
        raise NotImplementedError

    # -- shared steps ----------------------------------------------------
    def _log(
        self,
        request: GridRequest,
        event: Event,
        quantity: float = NAN,
        unit: str = "",
        detail: str = "",
    ) -> None:
        # The queue is the hottest path of a run: build the row without NamedTuple's
        # Python-level __new__ (same object, half the cost).
        self._rows.append(
            _new_row(
                EventRow,
                (
                    self.env.now,
                    request.site,
                    P,
                    event,
                    request.ident,
                    quantity,
                    unit,
                    detail,
                    request.background,
                ),
            )
        )

    def _withdraws(self, request: GridRequest, phase: int) -> bool:
        """Whether a background request drops out at the end of ``phase``."""
        assert request.plan is not None
        return request.plan.withdrawal_draws[phase] < self.spec.phases[phase].withdrawal

    def _after_studies(self, request: GridRequest) -> Generator[simpy.Event, Any, None]:
        """Agreement, then headroom or a network upgrade, then energization of each tranche.

        The agreement is signed before the upgrades it commits the utility to are
        built, so a site that orders transformers at agreement orders them while
        the upgrade is under way.
        """
        env, plan, log = self.env, request.plan, self._log
        assert plan is not None
        log(request, Event.STUDY_COMPLETED)
        if plan.agreement > 0:
            yield env.timeout(plan.agreement)
        log(
            request,
            Event.AGREEMENT_SIGNED,
            env.now - request.submitted,
            "days",
            "days since request",
        )
        if request.agreement is not None:
            request.agreement.succeed()
        if request.background and plan.withdrawal_after_agreement < (
            self.spec.withdrawal_after_agreement
        ):
            request.withdrawn = True
            log(request, Event.REQUEST_WITHDRAWN, detail="after_agreement")
            return  # before it takes headroom or a place in the upgrade line
        request.need = request.mw
        if not request.tranches:  # background traffic: energized whole, nobody to tell
            yield from self.capacity.connect(request)
            if plan.energization > 0:
                yield env.timeout(plan.energization)
            log(request, Event.TRANCHE_ENERGIZED, request.mw, "MW")
            return
        yield from self._serve_site(request)

    def _serve_site(self, request: GridRequest) -> Generator[simpy.Event, Any, None]:
        """A site's request after agreement: interim or flexible service while it waits for
        an upgrade, if its file asks for them; firm service once the grid can carry it all."""
        plan, capacity = request.plan, self.capacity
        assert plan is not None
        share = request.flexible_curtailment
        service = request.service = Service(
            self.env, request.tranches, plan.energization, share or 0.0,
            lambda *row: self._log(request, *row), request.on_energized, request.ramp,
        )  # fmt: skip
        if request.interim:
            request.on_headroom = lambda taken: self._interim(request, service, taken)
            capacity.take_interim(request)
        if request.need > capacity.headroom and share is not None:
            service.grant_flexible(request.need)
        yield from capacity.connect(request)
        service.make_firm(request.need)

    def _interim(self, request: GridRequest, service: Service, taken: float) -> None:
        self._log(request, Event.INTERIM_SERVICE_GRANTED, taken, "MW",
                  f"{request.need:g} MW wait for an upgrade")  # fmt: skip
        service.make_firm(taken)

    # -- background traffic ----------------------------------------------
    def _open(self) -> None:
        """The queue opens (at the start, or ``warm_up`` days before it): backlog, then traffic."""
        for _ in range(self.spec.initial_backlog):
            self.submit(self._background_request())  # already in line when it opens
        if self.spec.background_rate > 0:
            self._background()

    def _open_later(self) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(-self.spec.warm_up - self.env.now)
        self._open()

    def release(self) -> None:
        """Let go of what the run needed in bulk and its results do not (see simulate)."""

    def start_date_reached(self) -> None:
        """The scenario starts: headroom is what the region has left then, as its file says
        (requests still in the upgrade line that it covers take it first, in line order)."""
        self.capacity.reset(self.spec.headroom_mw)

    @property
    def headroom(self) -> float:
        """MW the region can still give without an upgrade."""
        return self.capacity.headroom

    @property
    def upgrade_line(self) -> int:
        """Requests waiting for an upgrade crew now."""
        return self.capacity.line_length

    def _background(self) -> None:
        """Background arrivals: a Poisson stream, each a bare timeout whose callback takes
        the request in and sets the next (a generator resumed per arrival costs more
        than the arrival's own work in an M/M/c queue)."""
        env, draw = self.env, self._draws.next
        mean_gap = 1.0 / self.spec.background_rate
        arrive = self._arrive

        def next_arrival(gap_ended: object = None) -> None:
            if gap_ended is not None:  # a timeout's callback: this arrival is due now
                arrive()
            # Inverse transform: one uniform per gap, as every other draw (CRN).
            env.timeout(-mean_gap * math.log1p(-draw())).callbacks.append(next_arrival)

        next_arrival()

    def _arrive(self) -> None:
        """submit(_background_request()), inlined: the draws in the same order."""
        spec, now = self.spec, self.env.now
        request = self._background_request()
        request.submitted = now
        request.plan = self._background_plan()
        row = (now, spec.name, P, Event.REQUEST_SUBMITTED, request.ident, request.mw, "MW",
               "", True)  # fmt: skip
        self._rows.append(_new_row(EventRow, row))
        self._enqueue(request)

    def _background_plan(self) -> RequestPlan:
        return RequestPlan.of_uniforms(self.spec, self._draws.take(self._plan_draws))

    @property
    def arrivals(self) -> int:
        """Background requests so far (the initial backlog included)."""
        return self._count

    def _background_request(self) -> GridRequest:
        self._count += 1
        spec = self.spec
        return GridRequest(
            ident=f"{spec.name}/bg-{self._count}",
            site=spec.name,
            mw=spec.background_size.quantile(self._draws.next()),
            tranches=(),
            rng=self.background_rng,
            background=True,
        )


class ClusterQueue(RegionQueue):
    """Requests gathered in windows and studied together, phase by phase."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: Region,
        recorder: Recorder,
        background_rng: np.random.Generator,
        cluster_rng: np.random.Generator,
    ) -> None:
        self.studies = simpy.Resource(env, capacity=spec.study_engineers)
        self.cluster_rng = cluster_rng
        self.pending: list[GridRequest] = []
        self.clusters = 0
        super().__init__(env, spec, recorder, background_rng)
        env.process(self._windows())

    def _enqueue(self, request: GridRequest) -> None:
        self.pending.append(request)

    def _windows(self) -> Generator[simpy.Event, Any, None]:
        if self.env.now < -self.spec.warm_up:  # windows count from when the queue opens
            yield self.env.timeout(-self.spec.warm_up - self.env.now)
        while True:
            yield self.env.timeout(self.spec.cluster_window)
            if self.pending:
                batch, self.pending = self.pending, []
                self.clusters += 1
                self.env.process(self._study(f"{self.spec.name}/cluster-{self.clusters}", batch))

    def _study(self, cluster: str, batch: list[GridRequest]) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for request in batch:
            self._log(request, Event.CLUSTER_CLOSED, len(batch), "requests", cluster)
        with self.studies.request() as slot:
            yield slot
            for request in batch:
                request.study_started_at = env.now
                self._log(
                    request, Event.STUDY_STARTED, env.now - request.submitted, "days", cluster
                )
            for index, phase in enumerate(self.spec.phases):
                # One duration for the whole cluster, from the region's own stream.
                yield env.timeout(phase.duration.sample(self.cluster_rng))
                staying = []
                for request in batch:
                    self._log(request, Event.PHASE_COMPLETED, detail=phase.name)
                    if request.background and self._withdraws(request, index):
                        request.withdrawn = True
                        self._log(request, Event.REQUEST_WITHDRAWN, detail=phase.name)
                    else:
                        staying.append(request)
                batch = staying
                if not batch:
                    break  # everyone withdrew: free the study slot at once
        for request in batch:
            env.process(self._after_studies(request))
