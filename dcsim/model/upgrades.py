"""A region's grid capacity: the headroom left, and the network upgrades that add to it.

Upgrades are shared and finite. A request that fits the headroom takes it. A larger one
waits for the spare of an upgrade under way if that covers it (the one done soonest),
else joins the line, where ``upgrade_crews`` upgrades are built at once (0: each starts
at once), first come, first served. An upgrade adds at least ``upgrade_size`` MW: its
request takes the headroom left plus its shortfall, and the spare is headroom for the
requests after, including those still in the line, which leave it as soon as it covers
them. With Poisson arrivals at the line, exponential builds and no spare, the line is an
M/M/c queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from dcsim.input.spec import Region
from dcsim.model.events import Event
from dcsim.model.grid_request import GridRequest

Log = Callable[..., None]  # RegionQueue._log: (request, event, quantity, unit, detail)


@dataclass(slots=True)
class _Upgrade:
    """A network upgrade under way: whose it is, when it is done, and the MW it will leave
    that nobody has claimed yet (requests that claimed them wait on ``claims``)."""

    owner: str
    done_at: float
    spare: float
    claims: list[simpy.Event]


class GridCapacity:
    """Headroom and the upgrade line of one region."""

    def __init__(self, env: simpy.Environment, spec: Region, log: Log) -> None:
        self.env = env
        self.spec = spec
        self._log = log
        self.headroom = spec.headroom_mw
        # Requests waiting for an upgrade crew, in the order they joined, each with the
        # event that lets it go on (an upgrade built for it, or headroom left by another).
        self._upgrade_line: deque[tuple[GridRequest, simpy.Event]] = deque()
        self._under_way: list[_Upgrade] = []
        # Those of them with MW nobody has claimed, in the same order: only these can
        # cover a request that needs more than nothing (one waiting always does).
        self._with_spare: list[_Upgrade] = []

    def connect(self, request: GridRequest) -> Generator[simpy.Event, Any, None]:
        """Until the grid can carry the ``request.need`` MW: at once if the headroom covers them."""
        if request.need <= self.headroom:
            self.headroom -= request.need
            request.upgrade_wait = 0.0
        else:
            yield self.wait_for_upgrade(request)

    def take_interim(self, request: GridRequest) -> None:
        """Interim service: a request the headroom does not cover takes what there is, and
        waits only for the rest (``request.need``); its ``on_headroom`` hears of the MW.

        Only headroom nobody ahead of it waits for: at agreement when the upgrade line is
        empty, in the line when it is first. Headroom that gathers is the earlier
        requests' first (it may come to cover one, which then needs no crew), so taking
        it early never puts another upgrade ahead of the interim request itself.
        """
        line = self._upgrade_line
        ahead = line and line[0][0] is not request
        if request.need <= self.headroom or self.headroom <= 0 or ahead:
            return
        taken, self.headroom = self.headroom, 0.0
        request.need -= taken
        assert request.on_headroom is not None
        request.on_headroom(taken)

    def reset(self, headroom: float) -> None:
        """Headroom is ``headroom`` now; requests in the line that it covers take it first."""
        self.headroom = headroom
        self._share_headroom()

    def wait_for_upgrade(self, request: GridRequest) -> simpy.Event:
        """The event that lets a request the headroom does not cover go on: the spare of an
        upgrade under way if it covers the request (the one done soonest), else an upgrade
        crew in the line. With a crew free, a spare due after the request's own upgrade
        would be done is not worth waiting for."""
        assert request.plan is not None
        cleared = self.env.event()
        # Only an upgrade with unclaimed MW can cover a need above nothing.
        candidates = self._with_spare if request.need > 0 else self._under_way
        upgrade = min(
            (u for u in candidates if u.spare >= request.need),
            key=lambda u: u.done_at,
            default=None,
        )
        crews = self.spec.upgrade_crews
        crew_free = crews == 0 or len(self._under_way) < crews
        own_done_at = self.env.now + request.plan.network_upgrade
        if upgrade is not None and crew_free and upgrade.done_at > own_done_at:
            upgrade = None
        request.line_joined_at = self.env.now
        if upgrade is not None:
            self._claim(request, cleared, upgrade)
        else:
            self._log(
                request,
                Event.NETWORK_UPGRADE_QUEUED,
                request.need - self.headroom,
                "MW",
                f"request exceeds remaining headroom of {self.headroom:g} MW",
            )
            self._upgrade_line.append((request, cleared))
            self._start_upgrades()
        return cleared

    def _left_line(self, request: GridRequest) -> None:
        request.upgrade_wait = self.env.now - request.line_joined_at

    def _claim(self, request: GridRequest, cleared: simpy.Event, upgrade: _Upgrade) -> None:
        self._left_line(request)
        upgrade.spare -= request.need
        if request.need <= 0:  # never from validated input: it gives spare back
            self._with_spare = [u for u in self._under_way if u.spare > 0]
        elif upgrade.spare <= 0:
            self._forget_spare(upgrade)
        upgrade.claims.append(cleared)
        detail = f"spare of the upgrade for {upgrade.owner}, due day {upgrade.done_at:g}"
        self._log(request, Event.NETWORK_UPGRADE_SHARED, request.need, "MW", detail)

    def _start_upgrades(self) -> None:
        """Give free upgrade crews to the requests at the front of the line."""
        crews, line = self.spec.upgrade_crews, self._upgrade_line
        while line and (crews == 0 or len(self._under_way) < crews):
            self._begin_upgrade(*line.popleft())

    def _begin_upgrade(self, request: GridRequest, cleared: simpy.Event) -> None:
        # Done here, at once, so that the crew is busy before the next is given.
        assert request.plan is not None
        self._left_line(request)
        shortfall = request.need - self.headroom  # > 0: a request that fits has left the line
        added = max(self.spec.upgrade_mw, shortfall)
        self.headroom = 0.0  # the request takes what is left; the upgrade brings the rest
        duration = request.plan.network_upgrade
        upgrade = _Upgrade(request.ident, self.env.now + duration, added - shortfall, [cleared])
        self._under_way.append(upgrade)
        if upgrade.spare > 0:
            self._with_spare.append(upgrade)
        self._log(request, Event.NETWORK_UPGRADE_STARTED, added, "MW",
                  f"{shortfall:g} MW of it for this request")  # fmt: skip
        # Requests behind in the line that its spare covers wait for it, not for a crew.
        self._leave_line(lambda: upgrade.spare,
                         lambda other, cleared: self._claim(other, cleared, upgrade))  # fmt: skip
        self._build(request, upgrade, duration)

    def _build(self, request: GridRequest, upgrade: _Upgrade, duration: float) -> None:
        """Build ``upgrade`` for ``duration`` days. A timeout and a callback, not a process:
        a process would start at the next step, this instant's before anything else, and set
        the same timeout then (tests/test_callbacks_as_processes.py runs both)."""
        built = self.env.timeout(duration)
        built.callbacks.append(lambda _: self._upgrade_built(request, upgrade, duration))

    def _upgrade_built(self, request: GridRequest, upgrade: _Upgrade, duration: float) -> None:
        """The upgrade under way for ``request`` is done: its MW are there."""
        self._under_way.remove(upgrade)
        self._forget_spare(upgrade)
        self.headroom += upgrade.spare
        self._log(request, Event.NETWORK_UPGRADE_COMPLETED, duration, "days")
        for claim in upgrade.claims:
            claim.succeed()
        self._share_headroom()
        self._start_upgrades()

    def _forget_spare(self, upgrade: _Upgrade) -> None:
        self._with_spare = [u for u in self._with_spare if u is not upgrade]

    def _share_headroom(self) -> None:
        """Requests still in the line that the headroom now covers leave it, in line order;
        what is left goes to the first in the line if it is on interim service."""
        self._leave_line(lambda: self.headroom, self._take_headroom)
        if self._upgrade_line and self._upgrade_line[0][0].interim:
            self.take_interim(self._upgrade_line[0][0])

    def _take_headroom(self, request: GridRequest, cleared: simpy.Event) -> None:
        self.headroom -= request.need
        self._left_line(request)
        self._log(request, Event.NETWORK_UPGRADE_SHARED, request.need, "MW",
                  "headroom left by an earlier upgrade")  # fmt: skip
        cleared.succeed()

    def _leave_line(
        self, room: Callable[[], float], take: Callable[[GridRequest, simpy.Event], None]
    ) -> None:
        """Every request in the line that ``room()`` MW cover is given to ``take`` (which
        uses up that room), in line order; the others keep their places."""
        if not self._upgrade_line or room() <= 0:
            return
        waiting: deque[tuple[GridRequest, simpy.Event]] = deque()
        for request, cleared in self._upgrade_line:
            if request.need <= room():
                take(request, cleared)
            else:
                waiting.append((request, cleared))
        self._upgrade_line = waiting

    @property
    def line_length(self) -> int:
        """Requests waiting for an upgrade crew now."""
        return len(self._upgrade_line)
