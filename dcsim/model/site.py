"""One site in the simulation: its processes, its grid request, and the end of each instant.

The processes live in modules of their own (:mod:`.substation`,
:mod:`.construction`, :mod:`.cooling`, :mod:`.gpus`, :mod:`.onsite`) and see
the site only through :class:`~dcsim.model.site_api.SiteContext`. Each change
they make goes to the site's :class:`~dcsim.model.site_core.SiteCore` and onto
its tape, and asks for one settle at the end of the instant, after every other
change of that instant: there the site is evaluated and idle crews start
their next batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import simpy
from simpy.events import EventPriority

from dcsim.input.spec import CoolingType, Scenario, Site
from dcsim.model import construction, cooling, gpus, onsite
from dcsim.model.capacity import Snapshot, room_mw
from dcsim.model.chips import ChipSupply
from dcsim.model.equipment import EquipmentMarket
from dcsim.model.event_log import Recorder
from dcsim.model.events import Event
from dcsim.model.grid_request import GridRequest
from dcsim.model.interconnection import RegionQueue
from dcsim.model.layers import Layer
from dcsim.model.site_api import FleetHandle, Proc
from dcsim.model.site_core import Batch, SiteCore, Tape
from dcsim.model.state import LotState
from dcsim.model.substation import LAYER as TRANSFORMERS
from dcsim.model.substation import SWITCHGEAR, Substation

GRID = "grid"
# SimPy runs events of one instant by priority (URGENT 0, NORMAL 1). The fleet routes at 2,
# once every change of the instant is in; a settle at 3 runs after every change and routing
# of its instant, whatever the order those were scheduled in (as a replay applies them).
ROUTING = EventPriority(2)
AFTER_CHANGES = EventPriority(3)


class EndOfInstant(simpy.Event):
    """An event that fires at the current instant once every NORMAL event of it has run."""

    def __init__(self, env: simpy.Environment, priority: EventPriority = AFTER_CHANGES) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority)


class SiteModel:
    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        spec: Site,
        region: RegionQueue,
        markets: Mapping[tuple[str, str], EquipmentMarket],
        recorder: Recorder,
        streams: Callable[[str], np.random.Generator],
        relaxed: Iterable[Layer] = (),
        chips: Mapping[str, ChipSupply] | None = None,
        fleet: FleetHandle | None = None,
    ) -> None:
        self._env = env
        self._spec = spec
        self._region = region
        self._markets = markets
        self._chips = chips or {}
        self._fleet = fleet
        self._recorder = recorder
        self._streams = streams
        self._cooling = {c.name: c for c in scenario.cooling}
        self._core = SiteCore(scenario, spec, relaxed)
        self.tape: Tape = []  # every change, in the order made: what replay() reruns
        self.lead_times: dict[str, list[float]] = {}  # by kind of equipment
        self.request: GridRequest | None = None
        self.agreement_at: float | None = None
        self.first_energized_at: float | None = None
        self._arrivals: list[tuple[int, str]] = []
        self._lot_arrived = env.event()
        self._grid_carries = env.event()
        self._settle_pending = False
        self._request_settle()
        self._start()

    # -- what processes read ---------------------------------------------
    @property
    def env(self) -> simpy.Environment:
        return self._env

    @property
    def spec(self) -> Site:
        return self._spec

    @property
    def transformer_market(self) -> EquipmentMarket:
        return self._markets["transformer", self._spec.transformer_supply]

    def market(self, kind: str, name: str) -> EquipmentMarket:
        return self._markets[kind, name]

    def chip_supply(self, name: str) -> ChipSupply:
        return self._chips[name]

    def stream(self, part: str) -> np.random.Generator:
        return self._streams(f"site:{self._spec.name}/{part}")

    def at(self, when: float) -> simpy.Event:
        return self._env.timeout(max(0.0, when - self._env.now))

    def cooling_type(self, name: str) -> CoolingType:
        return self._cooling[name]

    def hall_level(self, hall: str) -> int:
        return next(h for h in self._core.state.halls if h.name == hall).level

    def arrivals(self) -> tuple[tuple[int, str], ...]:
        return tuple(self._arrivals)

    def lot_arrived(self) -> simpy.Event:
        return self._lot_arrived

    def grid_carries_request(self) -> simpy.Event:
        return self._grid_carries

    def region_wait(self) -> float | None:
        """Days the site's request waited before its studies began."""
        request = self.request
        if request is None or request.study_started_at is None:
            return None
        return request.study_started_at - request.submitted

    def curtailed_mwh(self) -> float:
        """MWh of the site's non-firm grid service curtailed so far (0 without a flexible
        connection)."""
        service = None if self.request is None else self.request.service
        return 0.0 if service is None else service.curtailed_mwh()

    def firm_service_at(self) -> float | None:
        """When the whole request was energized and firm, if it has been."""
        service = None if self.request is None else self.request.service
        return None if service is None else service.full_at

    def upgrade_wait(self) -> float | None:
        """Days the site's agreed request waited for an upgrade crew (0 if none was needed)."""
        return None if self.request is None else self.request.upgrade_wait

    # -- what the run reads afterwards ------------------------------------
    @property
    def timeseries(self) -> list[Snapshot]:
        return self._core.timeseries

    @property
    def first_power_at(self) -> float | None:
        return self._core.first_power_at

    @property
    def all_running_at(self) -> float | None:
        return self._core.all_running_at

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
        if self._core.state.power[layer] == mw:
            # No change (a plant's update sets every value it publishes): nothing to
            # evaluate, but it stays on the tape, so that a replay settles at the same
            # instants and sums idle time over the same intervals as before.
            self.tape.append((self._env.now, "set_power", (layer, mw)))
            return
        self._change("set_power", layer, mw)
        power = self._core.state.power
        if not self._grid_carries.triggered and min(
            power[GRID], power[TRANSFORMERS], power[SWITCHGEAR]
        ) >= (self._spec.interconnection.request_mw * (1 - 1e-9)):
            self._grid_carries.succeed()  # only power changes can make it so

    def add_power(self, layer: str, mw: float) -> None:
        self.set_power(layer, self._core.state.power[layer] + mw)

    def commission(self, hall: int) -> None:
        self._change("commission", hall)

    def start_retrofit(self, hall: str, offline_share: float) -> None:
        self._change("start_retrofit", hall, offline_share)

    def complete_retrofit(self, hall: str, cooling_name: str) -> None:
        self._change("complete_retrofit", hall, cooling_name)

    def deliver(self, lot: int) -> None:
        self._change("deliver", lot)
        state = self._core.lots[lot]
        self._arrivals.append((state.level, state.name))
        arrived, self._lot_arrived = self._lot_arrived, self._env.event()
        arrived.succeed()

    @property
    def routes(self) -> bool:
        """Whether the site's pooled lots go to the fleet (else straight to the site)."""
        return self._fleet is not None

    def to_fleet(self, lot: int) -> None:
        assert self._fleet is not None
        self._fleet.receive(self, lot)

    def transit(self, lot: int, gpus: int) -> None:
        """``gpus`` of lot ``lot`` (an index into the lots it may host) are on their way
        here, or held by the fleet for here."""
        self._change("transit", lot, gpus)

    def bind(self, lot: int, bound: bool) -> None:
        """Lot ``lot`` is now (or no longer) bound for this site."""
        self._change("bind", lot, bound)

    def room_mw(self, lot: int, held: tuple[int, ...] = ()) -> float:
        """IT MW more that would run here now if lot ``lot`` stood here, the ``held`` lots
        aside (see capacity.room_mw)."""
        return room_mw(self._core.state, lot, held)

    def lot_state(self, lot: int) -> LotState:
        return self._core.lots[lot]

    def release(self) -> None:
        """Hand the timeseries and tape over to the run's result alone (see simulate)."""
        self._core.timeseries, self.tape = [], []

    def record_lead_time(self, days: float, kind: str = "transformer") -> None:
        self.lead_times.setdefault(kind, []).append(days)

    def mean_lead_time(self, kind: str) -> float:
        """Mean order-to-delivery days of the site's units of ``kind``; NaN if none came."""
        times = self.lead_times.get(kind, [])
        return sum(times) / len(times) if times else float("nan")

    # -- internals -------------------------------------------------------
    def _change(self, method: str, *args: object) -> None:
        self._core.apply(method, args)
        self.tape.append((self._env.now, method, args))
        self._request_settle()
        if self._fleet is not None:
            self._fleet.site_changed()

    def _request_settle(self) -> None:
        if not self._settle_pending:
            self._settle_pending = True
            EndOfInstant(self._env).callbacks.append(self._settle)

    def _settle(self, _: simpy.Event | None) -> None:
        self._settle_pending = False
        core, now = self._core, self._env.now
        had_power, had_all = core.first_power_at is not None, core.all_running_at is not None
        batch = core.settle(now)
        last = core.timeseries[-1]
        if not had_power and core.first_power_at is not None:
            self.log(Event.FIRST_POWER, self._spec.name, last.power_mw, "MW")
        if not had_all and core.all_running_at is not None:
            self.log(Event.ALL_GPUS_RUNNING, self._spec.name, last.gpus_running, "GPU")
        if batch is not None:
            self._env.timeout(batch.duration).callbacks.append(self._finish_batch)

    def _finish_batch(self, _: simpy.Event) -> None:
        batch: Batch = self._core.finish_batch()
        lot = self._core.lots[batch.lot]
        self.log(Event.GPUS_INSTALLED, lot.name, batch.count, "GPU",
                 f"{lot.installed} of {lot.count}")  # fmt: skip
        if self._env.peek() > self._env.now:
            # Nothing else happens at this instant (most batches end alone): settle now,
            # as the end of the instant would, without an event for it (the same rows:
            # tests/test_callbacks_as_processes.py).
            self._settle(None)
        else:
            self._request_settle()

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
            onsite.start(self)

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
            interim=ic.interim_service,
            flexible_curtailment=ic.flexible_curtailment,
            ramp=ic.ramp_mw_per_day,
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
