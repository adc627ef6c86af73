"""One site: its processes (grid, transformers, halls, retrofits, lots, installation,
on-site power) and its state, re-evaluated after every change.

Each process only changes the state and calls :meth:`SiteModel.changed`; the
evaluation of what runs lives in :mod:`dcsim.model.layers`, the choice of the
binding layer in :mod:`dcsim.model.binding`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from dcsim.model.allocation import LotLoad, Space, place
from dcsim.model.interconnection import GridRequest, RegionQueue
from dcsim.model.layers import LAYERS, HallState, LotState, PowerState, Snapshot, evaluate
from dcsim.model.recorder import Recorder
from dcsim.model.transformers import TransformerMarket
from dcsim.spec import Hall, Lot, Retrofit, Scenario, Site

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
        self._wake = env.event()  # installation waits on this for space to open up
        self._retrofits_pending = [r for r in spec.retrofits if r.at is None]
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
            self._retrofits_pending = []

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
        if not self._wake.triggered:
            self._wake.succeed()
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

    def _at(self, when: float) -> simpy.Event:
        return self.env.timeout(max(0.0, when - self.env.now))

    # -- processes -------------------------------------------------------
    def _start(self) -> None:
        env, spec = self.env, self.spec
        self.crews = simpy.Container(env, capacity=spec.construction_crews,
                                     init=spec.construction_crews)
        env.process(self._interconnection())
        if spec.substation.order_policy == "owned":
            env.process(self._owned_transformers())
        for index, hall in enumerate(spec.halls):
            env.process(self._build(index, hall))
        for retrofit in spec.retrofits:
            if retrofit.at is not None and "cooling" not in self.relaxed:
                env.process(self._scheduled_retrofit(retrofit))
        for index, lot in enumerate(spec.lots):
            env.process(self._deliver(index, lot))
        env.process(self._install())
        if spec.onsite is not None:
            env.process(self._onsite())

    def _interconnection(self) -> Proc:
        ic, sub = self.spec.interconnection, self.spec.substation
        yield self._at(ic.request_date)
        request = GridRequest(
            ident=f"{self.spec.name}/request", site=self.spec.name, mw=ic.request_mw,
            tranches=ic.tranches, rng=self.stream("interconnection"),
            on_energized=self._energize)
        request.agreement = self.env.event()
        self.request = request
        self.region.submit(request)
        if sub.order_policy == "at_request":
            self._order_transformers()
        yield request.agreement
        self.agreement_at = self.env.now
        if sub.order_policy == "at_agreement":
            self._order_transformers()

    def _energize(self, mw: float) -> None:
        if self.first_energized_at is None:
            self.first_energized_at = self.env.now
        self.power.grid_mw += mw  # stays infinite when the grid layer is relaxed
        self.changed()

    def _order_transformers(self) -> None:
        rng = self.stream("transformers")
        for unit in range(self.spec.substation.transformers):
            self.env.process(self._transformer(unit, rng))

    def _transformer(self, unit: int, rng: np.random.Generator) -> Proc:
        ident = f"{self.spec.name}/transformer-{unit + 1}"
        self.log("transformers", "transformer_ordered", ident, 1, "unit",
                 f"factory backlog at order {self.market.backlog_days():.0f} days")
        lead = yield self.env.process(self.market.order(rng))
        self.lead_times.append(lead)
        self.log("transformers", "transformer_delivered", ident, lead, "days", "lead time")
        yield from self._put_in_service(ident, rng)

    def _owned_transformers(self) -> Proc:
        rng = self.stream("transformers")
        delivery = self.spec.substation.owned_delivery
        assert delivery is not None
        yield self._at(delivery)
        for unit in range(self.spec.substation.transformers):
            ident = f"{self.spec.name}/transformer-{unit + 1}"
            self.log("transformers", "transformer_delivered", ident, 0.0, "days", "owned")
            self.env.process(self._put_in_service(ident, rng))

    def _put_in_service(self, ident: str, rng: np.random.Generator) -> Proc:
        install = self.market.spec.installation_time.sample(rng)
        if install > 0:
            yield self.env.timeout(install)
        self.in_service += 1
        sub = self.spec.substation
        if "transformers" not in self.relaxed:
            self.power.transformer_mw = max(0, self.in_service - sub.spares) * sub.unit_mw
        self.log("transformers", "transformer_in_service", ident, self.power.transformer_mw,
                 "MW", "substation capacity")
        self.changed()

    def _build(self, index: int, hall: Hall) -> Proc:
        rng = self.stream(f"hall:{hall.name}")
        duration, commissioning = hall.construction_time.sample(rng), \
            hall.commissioning_time.sample(rng)
        yield self._at(hall.construction_start)
        yield self.crews.get(hall.crews)
        self.log("construction", "construction_started", hall.name, hall.it_mw, "MW",
                 f"{hall.crews} crew(s)")
        yield self.env.timeout(duration)
        yield self.crews.put(hall.crews)
        if commissioning > 0:
            yield self.env.timeout(commissioning)
        self.halls[index].commissioned = True
        self.log("construction", "hall_commissioned", hall.name, hall.it_mw, "MW")
        self.changed()

    def _scheduled_retrofit(self, retrofit: Retrofit) -> Proc:
        assert retrofit.at is not None
        yield self._at(retrofit.at)
        yield from self._retrofit(retrofit, "scheduled")

    def _retrofit(self, retrofit: Retrofit, why: str) -> Proc:
        index = next(i for i, h in enumerate(self.halls) if h.name == retrofit.hall)
        hall = self.halls[index]
        duration = retrofit.duration.sample(self.stream(f"retrofit:{retrofit.hall}"))
        hall.offline_share = retrofit.offline_share
        self.log("cooling", "retrofit_started", hall.name, retrofit.offline_share * hall.it_mw,
                 "MW", f"{hall.cooling} -> {retrofit.to}, {why}")
        self.changed()
        yield self.env.timeout(duration)
        target = self.cooling[retrofit.to]
        hall.cooling, hall.level, hall.pue = target.name, target.level, target.pue
        hall.offline_share = 0.0
        self.log("cooling", "retrofit_completed", hall.name, hall.it_mw, "MW", target.name)
        self.changed()

    def _deliver(self, index: int, lot: Lot) -> Proc:
        delay = lot.delay.sample(self.stream(f"lot:{lot.name}"))
        yield self._at(lot.delivery + delay)
        state = self.lots[index]
        state.on_site = state.count
        self.log("gpus", "lot_delivered", lot.name, lot.count, "GPU",
                 f"{lot.model}, {delay:.1f} days late")
        self._trigger_retrofits(state)
        self.changed()

    def _trigger_retrofits(self, lot: LotState) -> None:
        """Start 'when needed' retrofits that this lot's cooling requirement calls for."""
        for retrofit in list(self._retrofits_pending):
            hall = next(h for h in self.halls if h.name == retrofit.hall)
            if hall.level < lot.level <= self.cooling[retrofit.to].level:
                self._retrofits_pending.remove(retrofit)
                self.env.process(self._retrofit(retrofit, f"needed by {lot.name}"))

    def _install(self) -> Proc:
        """Crews bring GPUs into service in batches, where commissioned, fitting space waits."""
        rate, batch = self.spec.installation.rate_per_day, self.spec.installation.batch
        instant = "installation" in self.relaxed
        if instant:
            batch = self.spec.gpu_count
        while True:
            index, count = self._next_batch(batch)
            if count == 0:
                self._wake = self.env.event()
                yield self._wake
                continue
            if not instant:
                yield self.env.timeout(count / rate)
            lot = self.lots[index]
            lot.installed += count
            self.log("gpus", "gpus_installed", lot.name, count, "GPU",
                     f"{lot.installed} of {lot.count}")
            self.changed()

    def _next_batch(self, batch: int) -> tuple[int, int]:
        loads = [LotLoad(lot.on_site, lot.kw, lot.level) for lot in self.lots]
        ready = [Space(h.usable_mw if h.commissioned else 0.0, h.level) for h in self.halls]
        fits = place(loads, ready)
        for index, lot in enumerate(self.lots):
            room = min(fits[index], lot.on_site) - lot.installed
            if room > 0:
                return index, min(batch, room)
        return 0, 0

    def _onsite(self) -> Proc:
        onsite = self.spec.onsite
        assert onsite is not None
        rng = self.stream("onsite")
        permit, lead = onsite.permit_time.sample(rng), onsite.lead_time.sample(rng)
        yield self._at(onsite.start)
        yield self.env.timeout(permit)
        self.log("onsite", "onsite_permit_granted", "onsite", onsite.total_mw, "MW")
        yield self.env.timeout(lead)
        for block in range(onsite.blocks):
            if block > 0:
                gap = onsite.block_interval.sample(rng)
                if gap > 0:
                    yield self.env.timeout(gap)
            if "onsite" not in self.relaxed:
                self.power.onsite_mw += onsite.block_mw
            self.log("onsite", "onsite_block_online", f"onsite/block-{block + 1}",
                     onsite.block_mw, "MW")
            self.changed()
