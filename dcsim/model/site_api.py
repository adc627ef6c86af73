"""What a site process may ask of its site: the one interface between them.

The processes (:mod:`.substation`, :mod:`.construction`, :mod:`.cooling`,
:mod:`.gpus`, :mod:`.onsite`) are typed against this protocol, not against
:class:`~dcsim.model.site.SiteModel`, so they never import the site and never
touch its fields: every change of state goes through one of these methods,
which the site re-evaluates once the instant is over.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

import numpy as np
import simpy

from dcsim.input.spec import CoolingType, Site
from dcsim.model.chips import ChipSupply
from dcsim.model.equipment import EquipmentMarket
from dcsim.model.events import Event

Proc = Generator[simpy.Event, Any, None]


class FleetHandle(Protocol):
    """What a site tells the fleet (:class:`~dcsim.model.fleet.Fleet`)."""

    def receive(self, home: Any, index: int) -> None:
        """Pooled lot ``index`` of site ``home`` has been delivered to the fleet."""
        ...

    def site_changed(self) -> None:
        """Something changed at a site: room may have opened for a held lot."""
        ...


class SiteContext(Protocol):
    @property
    def env(self) -> simpy.Environment: ...

    @property
    def spec(self) -> Site: ...

    @property
    def transformer_market(self) -> EquipmentMarket: ...

    def market(self, kind: str, name: str) -> EquipmentMarket:
        """The shared market of ``kind`` (transformer, switchgear, turbine) named ``name``."""

    def chip_supply(self, name: str) -> ChipSupply:
        """The shared GPU supply named ``name``."""

    def stream(self, part: str) -> np.random.Generator:
        """The site's named random stream ``site:NAME/part``."""

    def at(self, when: float) -> simpy.Event:
        """A timeout to day ``when`` (at once if it has passed)."""

    def log(
        self, event: Event, obj: str, quantity: float = ..., unit: str = "", detail: str = ""
    ) -> None: ...

    def cooling_type(self, name: str) -> CoolingType: ...

    # -- changes of state: the site re-evaluates at the end of the instant
    def set_power(self, layer: str, mw: float) -> None:
        """What power layer ``layer`` delivers now (facility MW)."""

    def add_power(self, layer: str, mw: float) -> None: ...

    def commission(self, hall: int) -> None: ...

    def start_retrofit(self, hall: str, offline_share: float) -> None: ...

    def complete_retrofit(self, hall: str, cooling: str) -> None: ...

    def deliver(self, lot: int) -> None: ...

    @property
    def routes(self) -> bool:
        """Whether pooled lots go to the fleet."""
        ...

    def to_fleet(self, lot: int) -> None:
        """Hand a delivered pooled lot to the fleet, which routes it to a site."""
        ...

    def record_lead_time(self, days: float, kind: str = "transformer") -> None: ...

    # -- what processes wait on or read ----------------------------------
    def hall_level(self, hall: str) -> int: ...

    def grid_carries_request(self) -> simpy.Event:
        """Succeeds once grid service and substation both carry the whole request."""

    def arrivals(self) -> tuple[tuple[int, str], ...]:
        """(cooling level needed, lot name) of every lot delivered so far, in order."""

    def lot_arrived(self) -> simpy.Event:
        """Succeeds when the next lot arrives."""
