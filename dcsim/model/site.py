"""One site: it owns its state, starts its processes, and files its grid request.

The processes live in modules of their own (:mod:`.substation`,
:mod:`.construction`, :mod:`.cooling`, :mod:`.gpus`, :mod:`.onsite`) and see
the site only through :class:`~dcsim.model.site_api.SiteContext`: each change
they make goes through a method here, which re-evaluates the site
(:mod:`.capacity`) and keeps one timeseries row per instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import simpy

from dcsim.input.spec import CoolingType, Hall, Scenario, Site
from dcsim.model import construction, cooling, gpus, onsite
from dcsim.model.allocation import LotLoad, place
from dcsim.model.capacity import Snapshot, evaluate, view_of
from dcsim.model.events import Event, Recorder
from dcsim.model.interconnection import GridRequest, RegionQueue
from dcsim.model.layers import POWER_LAYERS, Layer, ready_space
from dcsim.model.site_api import Proc
from dcsim.model.state import HallState, LotState, SiteState
from dcsim.model.substation import Substation
from dcsim.model.transformers import TransformerMarket

GRID = "grid"


class SiteModel:
    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        spec: Site,
        region: RegionQueue,
        market: TransformerMarket,
        recorder: Recorder,
        streams: Callable[[str], np.random.Generator],
        relaxed: Iterable[Layer] = (),
    ) -> None:
        self._env = env
        self._spec = spec
        self._region = region
        self._market = market
        self._recorder = recorder
        self._streams = streams
        self._cooling = {c.name: c for c in scenario.cooling}
        self._relaxed = tuple(sorted(set(relaxed), key=lambda layer: layer.index))

        planned = {layer.name: 0.0 for layer in POWER_LAYERS}
        planned["onsite"] = spec.onsite.total_mw if spec.onsite else 0.0
        self._state = SiteState(
            power={layer.name: 0.0 for layer in POWER_LAYERS},
            planned=planned,
            existing_mw=spec.interconnection.existing_mw,
            halls=[self._hall_state(h) for h in spec.halls],
            top_level=max(c.level for c in scenario.cooling),
        )
        price = spec.economics.gpu_price_usd
        for lot in spec.lots:
            model = scenario.gpu(lot.model)
            self._state.lots.append(
                LotState(
                    lot.name,
                    lot.model,
                    lot.count,
                    model.it_kw,
                    self._cooling[model.cooling].level,
                    price or model.price_usd,
                )
            )
        self._state.max_level = max(lot.level for lot in self._state.lots)

        self.timeseries: list[Snapshot] = []
        self.lead_times: list[float] = []
        self.request: GridRequest | None = None
        self.agreement_at: float | None = None
        self.first_energized_at: float | None = None
        self.first_power_at: float | None = None
        self.all_running_at: float | None = None
        self._arrivals: list[tuple[int, str]] = []
        self._lot_arrived = env.event()
        self._space = env.event()  # the installation crews' wake-up: its one owner
        self._changed()
        self._start()

    def _hall_state(self, hall: Hall) -> HallState:
        kind = self._cooling[hall.cooling]
        return HallState(hall.name, hall.it_mw, kind.name, kind.level, kind.pue)

    # -- what processes read ---------------------------------------------
    @property
    def env(self) -> simpy.Environment:
        return self._env

    @property
    def spec(self) -> Site:
        return self._spec

    @property
    def transformer_market(self) -> TransformerMarket:
        return self._market

    def stream(self, part: str) -> np.random.Generator:
        return self._streams(f"site:{self._spec.name}/{part}")

    def at(self, when: float) -> simpy.Event:
        return self._env.timeout(max(0.0, when - self._env.now))

    def cooling_type(self, name: str) -> CoolingType:
        return self._cooling[name]

    def hall_level(self, hall: str) -> int:
        return self._hall(hall).level

    def arrivals(self) -> tuple[tuple[int, str], ...]:
        return tuple(self._arrivals)

    def lot_arrived(self) -> simpy.Event:
        return self._lot_arrived

    def space_opened(self) -> simpy.Event:
        if self._space.triggered:
            self._space = self._env.event()
        return self._space

    def next_install_batch(self, batch: int) -> tuple[int, int]:
        lots = self._state.lots
        loads = [LotLoad(lot.on_site, lot.kw, lot.level) for lot in lots]
        fits = place(loads, ready_space(view_of(self._state, self._relaxed)))
        for index, lot in enumerate(lots):
            room = min(fits[index], lot.on_site) - lot.installed
            if room > 0:
                return index, min(batch, room)
        return 0, 0

    def region_wait(self) -> float | None:
        """Days the site's request waited before its studies began."""
        request = self.request
        if request is None or request.study_started_at is None:
            return None
        return request.study_started_at - request.submitted

    # -- changes of state ------------------------------------------------
    def log(
        self,
        event: Event,
        obj: str,
        quantity: float = float("nan"),
        unit: str = "",
        detail: str = "",
    ) -> None:
        self._recorder.event(self._env.now, self._spec.name, event, obj, quantity, unit, detail)

    def set_power(self, layer: str, mw: float) -> None:
        self._state.power[layer] = mw
        self._changed()

    def add_power(self, layer: str, mw: float) -> None:
        self.set_power(layer, self._state.power[layer] + mw)

    def commission(self, hall: int) -> None:
        self._state.halls[hall].commissioned = True
        self._changed()

    def start_retrofit(self, hall: str, offline_share: float) -> None:
        self._hall(hall).offline_share = offline_share
        self._changed()

    def complete_retrofit(self, hall: str, cooling_name: str) -> None:
        state, target = self._hall(hall), self._cooling[cooling_name]
        state.cooling, state.level, state.pue = target.name, target.level, target.pue
        state.offline_share = 0.0
        self._changed()

    def deliver(self, lot: int) -> None:
        state = self._state.lots[lot]
        state.on_site = state.count
        self._arrivals.append((state.level, state.name))
        arrived, self._lot_arrived = self._lot_arrived, self._env.event()
        arrived.succeed()
        self._changed()

    def install(self, lot: int, count: int) -> None:
        self._state.lots[lot].installed += count
        self._changed()

    def record_lead_time(self, days: float) -> None:
        self.lead_times.append(days)

    # -- internals -------------------------------------------------------
    def _hall(self, name: str) -> HallState:
        return next(h for h in self._state.halls if h.name == name)

    def _changed(self) -> None:
        """Re-evaluate after any change of state; keep one timeseries row per instant."""
        # Space may have opened up even when nothing in the row changed: wake the crews.
        if not self._space.triggered:
            self._space.succeed()
        now = self._env.now
        snap = evaluate(now, self._state, self._relaxed, self._spec.economics.depreciation_days)
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
            self.log(Event.FIRST_POWER, self._spec.name, snap.power_mw, "MW")
        if (
            self.all_running_at is None
            and snap.gpus_idle == 0
            and snap.gpus_running == self._spec.gpu_count
        ):
            self.all_running_at = now
            self.log(Event.ALL_GPUS_RUNNING, self._spec.name, snap.gpus_running, "GPU")

    def _start(self) -> None:
        env, spec = self._env, self._spec
        substation = Substation(self)
        env.process(self._interconnection(substation))
        if spec.substation.order_policy == "owned":
            env.process(substation.owned())
        construction.start(self)
        cooling.start(self)
        gpus.start(self)
        if spec.onsite is not None:
            env.process(onsite.generate(self))

    def _interconnection(self, substation: Substation) -> Proc:
        ic, policy = self._spec.interconnection, self._spec.substation.order_policy
        yield self.at(ic.request_date)
        request = GridRequest(
            ident=f"{self._spec.name}/request",
            site=self._spec.name,
            mw=ic.request_mw,
            tranches=ic.tranches,
            rng=self.stream("interconnection"),
            on_energized=self._energize,
        )
        request.agreement = self._env.event()
        self.request = request
        self._region.submit(request)
        if policy == "at_request":
            substation.order_all()
        yield request.agreement
        self.agreement_at = self._env.now
        if policy == "at_agreement":
            substation.order_all()

    def _energize(self, mw: float) -> None:
        if self.first_energized_at is None:
            self.first_energized_at = self._env.now
        self.add_power(GRID, mw)
