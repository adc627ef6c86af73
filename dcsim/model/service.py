"""A site's grid service after its agreement: what it may draw, and when.

The request's MW are granted in parts. Firm MW come from the region's headroom (all of
the request, or with ``interim_service`` whatever headroom there is at agreement) or from
a network upgrade. With a ``flexible_curtailment`` share, the MW still waiting for an
upgrade are granted at once as non-firm service, curtailed that share of the hours until
the upgrade makes them firm. A grant is energized ``energization_time`` after it is made
(non-firm MW made firm need no second energization), never before its tranche's date.
Interim service goes on while the request waits: headroom that frees up (an upgrade's
spare) and covers nobody whole in the line is the interim request's once it is first in
the line (see :meth:`~dcsim.model.upgrades.GridCapacity.take_interim`).

Curtailment is counted on average, not hour by hour: non-firm MW carry (1 - share) of
their value in the grid layer, and the share curtailed is reported as MWh of service.

A ``ramp`` (MW a month) caps how fast the load may grow once MW are energized, as a
utility's ramp schedule does: the grid layer rises by a month's worth at once, then by as
much at the start of each month after, until it reaches what is energized. Its cost is one
event a step, so it grows with the MW, not with the horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import simpy

from dcsim.input.spec import Tranche
from dcsim.model.events import Event

Log = Callable[..., None]  # RegionQueue._log bound to the request: (event, quantity, unit, detail)
MONTH = 365.25 / 12  # days


class Ramp:
    """Passes grid MW on to the site no faster than ``rate`` MW a day, in monthly steps."""

    def __init__(
        self, env: simpy.Environment, rate: float, log: Log, deliver: Callable[[float], None]
    ) -> None:
        self.env = env
        self._step = rate * MONTH
        self._log = log
        self._deliver = deliver
        self.target = 0.0  # MW energized (as the grid layer counts them)
        self.given = 0.0  # MW the site may draw now
        self._stepping = False

    def raise_to(self, target: float) -> None:
        self.target = target
        if not self._stepping:
            self._next_step()

    def _next_step(self, _: object = None) -> None:
        step = min(self.target - self.given, self._step)
        if step <= 1e-9:
            self._stepping = False
            return
        self._stepping = True
        self.given += step
        self._log(Event.LOAD_RAMPED, self.given, "MW", f"ramp of {self._step:g} MW a month")
        self._deliver(step)
        self.env.timeout(MONTH).callbacks.append(self._next_step)


class Service:
    """The grants of one site request and the MW of them energized, firm and non-firm."""

    def __init__(
        self,
        env: simpy.Environment,
        tranches: tuple[Tranche, ...],
        delay: float,
        curtailed_share: float,
        log: Log,
        on_energized: Callable[[float], None] | None,
        ramp: float | None = None,
    ) -> None:
        self.env = env
        self._tranches = sorted(tranches, key=lambda t: t.earliest)
        self._delay = delay
        self._share = curtailed_share
        self._log = log
        self._on_energized = on_energized
        self._ramp = None if ramp is None or on_energized is None else (
            Ramp(env, ramp, log, on_energized)
        )  # fmt: skip
        self._grants: list[tuple[float, float, float]] = []  # (ready at, firm MW, non-firm MW)
        self._nonfirm_ready_at = 0.0
        self._nonfirm_left = 0.0  # non-firm MW granted and not made firm yet
        self.energized = 0.0  # MW of the request energized, firm or not
        self.firm = 0.0  # ... of which firm
        self.full_at: float | None = None  # when all of it was energized and firm
        self._grid_mw = 0.0  # what the grid layer was given: firm + (1 - share) x non-firm
        self._curtailed_mwh = 0.0
        self._since = env.now
        for tranche in self._tranches:
            self._update_at(tranche.earliest)

    # -- grants ------------------------------------------------------------
    def grant_firm(self, mw: float) -> None:
        """``mw`` firm MW granted now: energized after the energization time."""
        self._grant(self.env.now + self._delay, mw, 0.0)

    def grant_flexible(self, mw: float) -> None:
        """``mw`` non-firm MW granted now (a flexible connection), energized likewise."""
        self._nonfirm_ready_at = self.env.now + self._delay
        self._nonfirm_left += mw
        self._log(Event.FLEXIBLE_SERVICE_GRANTED, mw, "MW",
                  f"curtailed {self._share:.0%} of the hours until firm")  # fmt: skip
        self._grant(self._nonfirm_ready_at, 0.0, mw)

    def make_firm(self, mw: float) -> None:
        """The grid can now carry ``mw`` more MW firm. Non-firm MW among them are already
        (or about to be) energized and become firm then; the rest are energized after the
        energization time."""
        converted = min(mw, self._nonfirm_left)
        if converted > 0:
            self._nonfirm_left -= converted
            self._grant(max(self.env.now, self._nonfirm_ready_at), converted, -converted)
        if mw - converted > 1e-9:
            self.grant_firm(mw - converted)

    def _grant(self, ready: float, firm: float, nonfirm: float) -> None:
        self._grants.append((ready, firm, nonfirm))
        self._update_at(ready)

    # -- energization ----------------------------------------------------------
    def _update_at(self, when: float) -> None:
        if when <= self.env.now:
            self._update()
        else:
            self.env.timeout(when - self.env.now).callbacks.append(lambda _: self._update())

    def _update(self) -> None:
        """Energize what the grants ready now and the tranche dates allow."""
        now = self.env.now
        firm = sum(f for ready, f, _ in self._grants if ready <= now)
        nonfirm = sum(n for ready, _, n in self._grants if ready <= now)
        allowed = sum((t.mw for t in self._tranches if t.earliest <= now), 0.0)
        energized = min(firm + nonfirm, allowed)
        firm_energized = min(firm, energized)
        self._curtailed_mwh += self._curtailed_mw() * (now - self._since) * 24.0
        self._since = now
        made_firm = (self.energized - self.firm) - (energized - firm_energized)
        new_firm = firm_energized - self.firm - max(0.0, made_firm)
        self._log_tranches(self.energized, energized, firm_up_to=self.energized + new_firm)
        if made_firm > 1e-9:
            self._log(Event.FIRM_SERVICE_REACHED, made_firm, "MW", "non-firm MW made firm")
        self.energized, self.firm = energized, firm_energized
        if (
            self.full_at is None
            and firm_energized >= sum((t.mw for t in self._tranches), 0.0) - 1e-9
        ):
            self.full_at = now
        grid = firm_energized + (1.0 - self._share) * (energized - firm_energized)
        if grid > self._grid_mw + 1e-9:
            if self._ramp is not None:
                self._ramp.raise_to(grid)
            elif self._on_energized is not None:
                self._on_energized(grid - self._grid_mw)
        self._grid_mw = max(grid, self._grid_mw)

    def _log_tranches(self, before: float, after: float, firm_up_to: float) -> None:
        """One ``tranche_energized`` row per tranche (or part of one) newly energized,
        the firm MW first; non-firm parts say so in their detail."""
        start = 0.0
        for number, tranche in enumerate(self._tranches, start=1):
            end = start + tranche.mw
            cuts = sorted({max(start, before), min(end, after), min(max(firm_up_to, start), end)})
            for low, high in pairwise(cuts):
                if high - low <= 1e-9 or low < before - 1e-9 or high > after + 1e-9:
                    continue
                notes = [] if high - low >= tranche.mw - 1e-9 else [f"part of tranche {number}"]
                if low >= firm_up_to - 1e-9:
                    notes.append("non-firm")
                self._log(Event.TRANCHE_ENERGIZED, high - low, "MW", ", ".join(notes))
            start = end

    def _curtailed_mw(self) -> float:
        return self._share * (self.energized - self.firm)

    def curtailed_mwh(self) -> float:
        """MWh of non-firm service curtailed from the agreement to now."""
        return self._curtailed_mwh + self._curtailed_mw() * (self.env.now - self._since) * 24.0
