"""One site: its state, re-evaluated after every change, and its grid request.

The site's other processes each live in a module of their own —
:mod:`~dcsim.model.substation`, :mod:`~dcsim.model.construction`,
:mod:`~dcsim.model.cooling`, :mod:`~dcsim.model.gpus`, :mod:`~dcsim.model.onsite` —
as functions over a SiteModel: they change its state and call
:meth:`SiteModel.changed`. What runs is worked out in :mod:`dcsim.model.layers`,
the binding layer in :mod:`dcsim.model.binding`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from dcsim.model import construction, cooling, gpus, onsite, substation
from dcsim.model.interconnection import GridRequest, RegionQueue
from dcsim.model.layers import LAYERS, HallState, LotState, PowerState, Snapshot, evaluate
from dcsim.model.recorder import Recorder
from dcsim.model.transformers import TransformerMarket
from dcsim.spec import Hall, Scenario, Site

Proc = Generator[simpy.Event, Any, None]


class SiteModel:
    def __init__(self, env: simpy.Environment, scenario: Scenario, spec: Site,
                 region: RegionQueue, market: TransformerMarket, recorder: Recorder,
                 streams: Callable[[str], np.random.Generator],
                 relaxed: frozenset[str] = frozenset()) -> None:
        self.env = env
        self.spec = spec
        self.region = region
        self.market = market
        self.recorder = recorder
        self.stream = lambda part: streams(f"site:{spec.name}/{part}")
        self.cooling = {c.name: c for c in scenario.cooling}

        self.power = PowerState(existing_mw=spec.interconnection.existing_mw,
                                onsite_planned_mw=spec.onsite.total_mw if spec.onsite else 0.0)
        self.halls = [self._hall_state(h) for h in spec.halls]
        price = spec.economics.gpu_price_usd
        self.lots = []
        for lot in spec.lots:
            model = scenario.gpu(lot.model)
            self.lots.append(LotState(
                lot.name, lot.model, lot.count, model.it_kw,
                self.cooling[model.cooling].level, price or model.price_usd))
        self.max_level = max(lot.level for lot in self.lots)
        self.in_service = 0
        self.timeseries: list[Snapshot] = []
        self.lead_times: list[float] = []
        self.request: GridRequest | None = None
        self.agreement_at: float | None = None
        self.first_energized_at: float | None = None
        self.first_power_at: float | None = None
        self.all_running_at: float | None = None
        self.wake = env.event()  # installation waits on this for space to open up
        self.retrofits_pending = [r for r in spec.retrofits if r.at is None]
        self.relaxed = relaxed
        self.relaxed_mask = sum(1 << LAYERS.index(layer) for layer in relaxed)
        self._relax()
        self.changed()
        self._start()

    def _relax(self) -> None:
        """Make the named layers non-binding: instantly available and unlimited.

        Used by the bottleneck cascade; the processes of a relaxed layer still
        run and log, they just no longer constrain anything.
        """
        relaxed = self.relaxed
        if "grid" in relaxed:
            self.power.grid_mw = math.inf
        if "transformers" in relaxed:
            self.power.transformer_mw = math.inf
        if "onsite" in relaxed:
            # Instantly available: every planned block online from the start. (Unlimited
            # on-site power would also remove the grid and transformers as constraints.)
            self.power.onsite_mw = self.power.onsite_planned_mw
        for hall in self.halls:
            if "building" in relaxed:
                hall.commissioned = hall.unlimited = True
            if "cooling" in relaxed:
                hall.level = max(c.level for c in self.cooling.values())
        if "cooling" in relaxed:
            self.retrofits_pending = []

    def _hall_state(self, hall: Hall) -> HallState:
        cooling = self.cooling[hall.cooling]
        return HallState(hall.name, hall.it_mw, hall.cooling, cooling.level, cooling.pue)

    # -- bookkeeping -----------------------------------------------------
    def log(self, process: str, event: str, obj: str, quantity: float = float("nan"),
            unit: str = "", detail: str = "") -> None:
        self.recorder.event(self.env.now, self.spec.name, process, event, obj, quantity, unit,
                            detail)

    def changed(self) -> None:
        """Re-evaluate after any change of state; keep one timeseries row per instant."""
        # Space may have opened up even when nothing in the row changed: wake the crews.
        if not self.wake.triggered:
            self.wake.succeed()
        now = self.env.now
        snap, _ = evaluate(now, self.power, self.halls, self.lots,
                           self.spec.economics.depreciation_days, self.max_level,
                           self.relaxed_mask)
        rows = self.timeseries
        if rows and rows[-1][1:] == snap[1:]:
            return
        if rows and rows[-1].time_days == now:
            rows[-1] = snap
            if len(rows) > 1 and rows[-2][1:] == snap[1:]:
                rows.pop()
        else:
            rows.append(snap)
        if self.first_power_at is None and snap.power_mw > 0:
            self.first_power_at = now
            self.log("site", "first_power", self.spec.name, snap.power_mw, "MW")
        if (self.all_running_at is None and snap.gpus_idle == 0
                and snap.gpus_running == self.spec.gpu_count):
            self.all_running_at = now
            self.log("site", "all_gpus_running", self.spec.name, snap.gpus_running, "GPU")

    def region_wait(self) -> float | None:
        """Days the site's request waited before its studies began."""
        request = self.request
        if request is None or request.study_started_at is None:
            return None
        return request.study_started_at - request.submitted

    def at(self, when: float) -> simpy.Event:
        return self.env.timeout(max(0.0, when - self.env.now))

    # -- processes -------------------------------------------------------
    def _start(self) -> None:
        env, spec = self.env, self.spec
        self.crews = simpy.Container(env, capacity=spec.construction_crews,
                                     init=spec.construction_crews)
        env.process(self._interconnection())
        if spec.substation.order_policy == "owned":
            env.process(substation.owned_transformers(self))
        for index, hall in enumerate(spec.halls):
            env.process(construction.build_hall(self, index, hall))
        for retrofit in spec.retrofits:
            if retrofit.at is not None and "cooling" not in self.relaxed:
                env.process(cooling.scheduled_retrofit(self, retrofit))
        for index, lot in enumerate(spec.lots):
            env.process(gpus.deliver(self, index, lot))
        env.process(gpus.install(self))
        if spec.onsite is not None:
            env.process(onsite.generate(self))

    def _interconnection(self) -> Proc:
        ic, sub = self.spec.interconnection, self.spec.substation
        yield self.at(ic.request_date)
        request = GridRequest(
            ident=f"{self.spec.name}/request", site=self.spec.name, mw=ic.request_mw,
            tranches=ic.tranches, rng=self.stream("interconnection"),
            on_energized=self._energize)
        request.agreement = self.env.event()
        self.request = request
        self.region.submit(request)
        if sub.order_policy == "at_request":
            substation.order_transformers(self)
        yield request.agreement
        self.agreement_at = self.env.now
        if sub.order_policy == "at_agreement":
            substation.order_transformers(self)

    def _energize(self, mw: float) -> None:
        if self.first_energized_at is None:
            self.first_energized_at = self.env.now
        self.power.grid_mw += mw  # stays infinite when the grid layer is relaxed
        self.changed()

