"""The fleet: pooled lots are delivered to it, not to a site, and it routes each to one.

A lot marked ``pooled`` reaches the fleet when it would have reached its own site
(its home). At the end of that instant, once every change of it is in, the fleet
sends it where the scenario's ``routing`` policy says (ROUTING_POLICIES):

- ``first_ready``: to the first site with room for all of it, its home when the
  home has room too; while none has, the fleet holds it (counted at its home as in
  transit) and looks again whenever any site changes;
- ``most_room``: at once, to the site where most of it would run (home on ties).

*Room* is the IT MW more that would run at a site, as built and powered, if the
lot stood there installed beside every GPU already there or on its way
(:func:`~dcsim.model.capacity.room_mw`). It reads only what the sites' changes
set, never what their crews did, so routing is the same in every run that only
relaxes layers, and a site's tape can still be replayed on its own. A lot
going to another site is in transit for ``transit_time`` (transport and
re-installation), then delivered there. Lots are routed whole and only before they
stand on a site: a lot once delivered to a site stays there.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

from dcsim.input.spec import Scenario
from dcsim.model.event_log import Recorder
from dcsim.model.events import Event
from dcsim.model.site import ROUTING, EndOfInstant, SiteModel

PooledLot = tuple[str, int]  # (home site, lot index there)
_EPS = 1e-9


class Fleet:
    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        recorder: Recorder,
        streams: Callable[[str], np.random.Generator],
    ) -> None:
        self._env = env
        self._scenario = scenario
        self._recorder = recorder
        self._streams = streams
        self._sites: dict[str, SiteModel] = {}
        self._slots: dict[PooledLot, dict[str, int]] = {}  # where each lot sits in each site
        self._arrived: list[PooledLot] = []  # reached the fleet this instant
        self._held: list[PooledLot] = []  # waiting for room (first_ready), oldest first
        self._check_pending = False

    def join(self, site: SiteModel) -> None:
        """Add a site; the fleet may route pooled lots to it."""
        name = site.spec.name
        self._sites[name] = site
        for position, (home, index) in enumerate(self._scenario.hosted_lots(site.spec)):
            self._slots.setdefault((home.name, index), {})[name] = position

    # -- what the sites call -----------------------------------------------
    def receive(self, home: SiteModel, index: int) -> None:
        """Pooled lot ``index`` of ``home`` has been delivered to the fleet."""
        self._arrived.append((home.spec.name, index))
        self._request_check()

    def site_changed(self) -> None:
        if self._held:
            self._request_check()

    # -- routing -------------------------------------------------------------
    def _request_check(self) -> None:
        if not self._check_pending:
            self._check_pending = True
            EndOfInstant(self._env, ROUTING).callbacks.append(self._route)

    def _route(self, _: simpy.Event) -> None:
        if self._scenario.routing == "most_room":
            for key in self._arrived:
                self._send(key, *self._most_room(key))
        else:
            # Held lots first (they came first), then this instant's in arrival order.
            self._retry_held()
            for key in self._arrived:
                if not self._try(key):
                    self._hold(key)
        self._arrived.clear()
        self._check_pending = False

    def _retry_held(self) -> None:
        # A held lot sent on frees what its hold took at home: try the others again.
        moved = True
        while moved and self._held:
            moved = False
            for key in list(self._held):
                if self._try(key):
                    self._held.remove(key)
                    moved = True

    def _rooms(self, key: PooledLot) -> dict[str, float]:
        """IT MW more that would run at each site with the lot there, home first."""
        home = key[0]
        names = [home, *(n for n in self._sites if n != home)]
        return {n: self._sites[n].room_mw(self._slots[key][n], self._held_at(n)) for n in names}

    def _held_at(self, site: str) -> tuple[int, ...]:
        """Slots of the lots held for ``site``: in the fleet, so they take no room there."""
        return tuple(index for home, index in self._held if home == site)

    def _need_mw(self, key: PooledLot) -> float:
        lot = self._sites[key[0]].lot_state(key[1])
        return lot.count * lot.kw / 1000.0

    def _try(self, key: PooledLot) -> bool:
        """first_ready: send the lot if a site has room for all of it (home first)."""
        rooms, need = self._rooms(key), self._need_mw(key)
        ready = [n for n, mw in rooms.items() if mw >= need * (1 - 1e-6) - _EPS]
        if not ready:
            return False
        home = key[0]
        dest = home if home in ready else max(ready, key=lambda n: rooms[n])
        self._send(key, dest, rooms)
        return True

    def _most_room(self, key: PooledLot) -> tuple[str, dict[str, float]]:
        rooms = self._rooms(key)
        best = max(rooms.values())
        # Home on ties (and when no site has any room); then site order.
        return next(n for n, mw in rooms.items() if mw >= best - _EPS), rooms

    def _hold(self, key: PooledLot) -> None:
        home, index = key
        site = self._sites[home]
        lot = site.lot_state(index)
        site.transit(index, lot.count)  # counted at home, as in transit
        self._log(Event.LOT_HELD, home, lot.name, lot.count,
                  f"no site has room for all {self._need_mw(key):.1f} IT MW of it")  # fmt: skip
        self._held.append(key)

    def _send(self, key: PooledLot, dest: str, rooms: dict[str, float]) -> None:
        home, index = key
        source = self._sites[home]
        lot = source.lot_state(index)
        shown = ", ".join(f"{n} {mw:.1f}" for n, mw in rooms.items())
        why = f"{self._scenario.routing}; room in IT MW (of {self._need_mw(key):.1f}): {shown}"
        if lot.in_transit:
            source.transit(index, 0)  # it was held for home
        if dest == home:
            self._log(Event.LOT_ROUTED, home, lot.name, lot.count, f"{home} -> {home}, {why}")
            source.deliver(index)
            return
        days = self._scenario.transit_time.sample(self._streams(f"fleet:{home}/{lot.name}"))
        self._log(Event.LOT_ROUTED, home, lot.name, lot.count,
                  f"{home} -> {dest} in {days:.1f} days, {why}")  # fmt: skip
        target, slot = self._sites[dest], self._slots[key][dest]
        source.bind(index, False)
        target.bind(slot, True)
        target.transit(slot, lot.count)

        def arrive(_: simpy.Event) -> None:
            self._log(Event.LOT_ARRIVED, dest, lot.name, lot.count, f"from {home}")
            target.deliver(slot)

        self._env.timeout(days).callbacks.append(arrive)

    def _log(self, event: Event, site: str, obj: str, count: int, detail: str) -> None:
        self._recorder.event(self._env.now, site, event, obj, float(count), "GPU", detail)
