"""A site's capacity layers at one instant, what runs, and which layers hold GPUs back.

Everything is expressed in IT MW, the unit all layers share: facility power
(grid, transformers, on-site generation) is divided by the site's PUE.

Which layers are *tight* (candidates for the binding layer) when GPUs sit idle:

* power — when the power that reaches the site, min(grid, transformers) plus
  on-site generation, is used up. Within it, the grid if it is the narrower of
  grid and transformers, the transformers if they are, and on-site generation
  while it still has blocks to come;
* building — when commissioned hall space (ignoring cooling) cannot take more
  of the GPUs on site than already run;
* cooling — when space whose cooling fits the GPUs (any hall, commissioned or
  not, less what retrofits hold offline) cannot take more than already run;
* installation — when every installed GPU runs and commissioned, compatible
  space is waiting for more to be installed.

Choosing one among several tight layers needs the future, so it is done after
the run by :mod:`dcsim.model.binding`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from dcsim.model.allocation import LotLoad, Space, it_mw, place, power_share

LAYERS = ("grid", "transformers", "onsite", "building", "cooling", "installation")
GRID, TRANSFORMERS, ONSITE, BUILDING, COOLING, INSTALLATION = (1 << i for i in range(6))


@dataclass
class HallState:
    name: str
    it_mw: float
    cooling: str
    level: int
    pue: float
    commissioned: bool = False
    offline_share: float = 0.0
    unlimited: bool = False  # space made non-binding (what-if: building removed as a layer)

    @property
    def usable_mw(self) -> float:
        if self.unlimited:
            return math.inf
        return self.it_mw * (1.0 - self.offline_share)


@dataclass
class LotState:
    name: str
    model: str
    count: int
    kw: float
    level: int
    price_usd: float
    on_site: int = 0
    installed: int = 0


def ready_space(halls: list[HallState]) -> list[Space]:
    """Space GPUs can be installed and run in: commissioned, less what retrofits hold."""
    return [Space(h.usable_mw if h.commissioned else 0.0, h.level) for h in halls]


class Snapshot(NamedTuple):
    """One row of the site timeseries (the binding layer is added after the run)."""

    time_days: float
    cap_grid: float
    cap_transformers: float
    cap_onsite: float
    cap_building: float
    cap_cooling: float
    cap_installation: float
    gpus_on_site: int
    gpus_installed: int
    gpus_running: int
    gpus_idle: int
    running_mw: float  # IT MW of the GPUs running
    on_site_mw: float  # IT MW of the GPUs on site
    idle_cost_per_day: float
    tight: int  # bit mask of LAYERS that are candidates for the binding layer
    power_mw: float  # facility MW reaching the GPUs: min(grid, transformers) + on-site


@dataclass
class PowerState:
    grid_mw: float = 0.0  # energized for the site's request
    existing_mw: float = 0.0  # service in place at the start, with its own substation
    transformer_mw: float = 0.0
    onsite_mw: float = 0.0
    onsite_planned_mw: float = 0.0


def evaluate(time: float, power: PowerState, halls: list[HallState], lots: list[LotState],
             depreciation_days: float, max_level: int,
             relaxed: int = 0) -> tuple[Snapshot, list[int]]:
    """The site at one instant; also returns GPUs running per lot."""
    # Facility power feeds the halls that stand; before any does, the planned mix.
    built = [h for h in halls if h.commissioned] or halls
    pue = sum(h.it_mw * h.pue for h in built) / sum(h.it_mw for h in built)
    grid, xfmr, onsite = power.grid_mw / pue, power.transformer_mw / pue, power.onsite_mw / pue
    existing = power.existing_mw / pue
    power_it = min(grid, xfmr) + existing + onsite

    kws = [lot.kw for lot in lots]
    installed = [LotLoad(lot.installed, lot.kw, lot.level) for lot in lots]
    commissioned = ready_space(halls)
    running = power_share(place(installed, commissioned), kws, power_it)
    running_mw = it_mw(running, kws)
    on_site = sum(lot.on_site for lot in lots)
    idle = on_site - sum(running)
    cost_per_day = sum((lot.on_site - run) * lot.price_usd for lot, run in
                       zip(lots, running, strict=True)) / depreciation_days

    tight = 0
    if idle > 0:
        tight = _tight(power, grid, xfmr, power_it, running_mw, halls, lots, kws) & ~relaxed
    snapshot = Snapshot(
        time_days=time, cap_grid=grid + existing, cap_transformers=xfmr + existing,
        cap_onsite=onsite,
        cap_building=sum(h.usable_mw if h.unlimited else h.it_mw
                         for h in halls if h.commissioned),
        cap_cooling=sum(h.usable_mw for h in halls if h.level >= max_level),
        cap_installation=it_mw([lot.installed for lot in lots], kws),
        gpus_on_site=on_site, gpus_installed=sum(lot.installed for lot in lots),
        gpus_running=sum(running), gpus_idle=idle, running_mw=running_mw,
        on_site_mw=it_mw([lot.on_site for lot in lots], kws),
        idle_cost_per_day=cost_per_day,
        tight=tight, power_mw=(min(power.grid_mw, power.transformer_mw) + power.existing_mw
                               + power.onsite_mw),
    )
    return snapshot, running


def _tight(power: PowerState, grid: float, xfmr: float, power_it: float, running_mw: float,
           halls: list[HallState], lots: list[LotState], kws: list[float]) -> int:
    # Packing leaves less than one GPU of slack per hall; treat that as "used up".
    tol = (len(halls) + 1) * max(kws) / 1000.0 + 1e-9
    on_site = [LotLoad(lot.on_site, lot.kw, lot.level) for lot in lots]
    tight = 0
    if power_it <= running_mw + tol:
        if grid <= xfmr + 1e-9:
            tight |= GRID
        if xfmr <= grid + 1e-9:
            tight |= TRANSFORMERS
        if power.onsite_mw < power.onsite_planned_mw:
            tight |= ONSITE
    built = [Space(sum(h.usable_mw if h.unlimited else h.it_mw for h in halls
                       if h.commissioned), 0)]
    if it_mw(place(on_site, built, check_cooling=False), kws) <= running_mw + tol:
        tight |= BUILDING
    cooled = [Space(h.usable_mw, h.level) for h in halls]
    if it_mw(place(on_site, cooled), kws) <= running_mw + tol:
        tight |= COOLING
    installed_mw = it_mw([lot.installed for lot in lots], kws)
    if installed_mw <= running_mw + tol:
        ready = ready_space(halls)
        if it_mw(place(on_site, ready), kws) > installed_mw + tol:
            tight |= INSTALLATION
    if tight == 0:
        # Layers that are each wide enough alone but not together (say, liquid space
        # not yet built and built space not liquid): blame the narrower of the two.
        tight = COOLING if it_mw(place(on_site, cooled), kws) <= it_mw(
            place(on_site, built, check_cooling=False), kws) else BUILDING
    return tight
