"""A site at one instant: each layer's capacity, what runs, and which layers are tight.

Reads the :class:`~dcsim.model.state.SiteState` through the relaxations asked
for (see :mod:`dcsim.model.layers`) and returns one :class:`Snapshot`, the row
the timeseries keeps. Choosing one among several tight layers needs the
future, so it is done after the run by :mod:`dcsim.model.binding`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from dcsim.model.allocation import LotLoad, it_mw, place, power_order, power_share
from dcsim.model.instant import Instant, View, kept, ready_space, remembered
from dcsim.model.layers import LAYERS, Kind, Layer, fallback
from dcsim.model.state import LotState, SiteState

_SERIES = tuple(layer for layer in LAYERS if layer.kind is Kind.SERIES)
_SOURCES = tuple(layer for layer in LAYERS if layer.kind is Kind.SOURCE)
_POWER = _SERIES + _SOURCES + tuple(layer for layer in LAYERS if layer.kind is Kind.LIMIT)
_SERIES_NAMES = tuple(layer.name for layer in _SERIES)
_SOURCE_NAMES = tuple(layer.name for layer in _SOURCES)


class Snapshot(NamedTuple):
    """One row of the site timeseries (the binding layer is added after the run)."""

    time_days: float
    caps: tuple[float, ...]  # IT MW of each layer, indexed like LAYERS
    gpus_on_site: int
    gpus_installed: int
    gpus_running: int
    gpus_idle: int
    running_mw: float  # IT MW of the GPUs running
    on_site_mw: float  # IT MW of the GPUs on site
    idle_cost_per_day: float
    tight: int  # bit mask of LAYERS that are candidates for the binding layer
    power_mw: float  # facility MW reaching the GPUs: the grid path + existing + on-site
    idle_by_lot: tuple[int, ...]  # GPUs of each lot idle on site or in transit (value lost)
    stranded_mw: float  # IT MW powered, built and fitting, with no GPU running in it
    stranded_not_installed_mw: float  # ... of which GPUs on site not yet installed could use
    stranded_cooling_mw: float  # ... of which such GPUs could use if their cooling fitted
    onsite_used_mw: float  # facility MW drawn from on-site generation (what the grid path lacks)
    gpus_in_transit: int = 0  # delivered to the fleet, on their way here or held for here
    gpus_displaced: int = 0  # installed, but kept out of the space by a lot first in dispatch

    def cap(self, layer: Layer) -> float:
        return self.caps[layer.index]


def site_pue(state: SiteState, annual: bool = False) -> float:
    """Peak (or ``annual``) PUE of the halls that stand (IT-weighted); before any does, of
    the planned mix. Kept until the halls change."""
    key = ("pue", annual, state.halls_changed)
    return remembered(state.known, key, lambda: _site_pue(state, annual))


def _site_pue(state: SiteState, annual: bool) -> float:
    built = [h for h in state.halls if h.commissioned] or state.halls
    pues = [(h.annual_pue or h.pue) if annual else h.pue for h in built]
    return sum((h.it_mw * pue for h, pue in zip(built, pues, strict=True)), 0.0) / sum(
        (h.it_mw for h in built), 0.0
    )


def view_of(state: SiteState, relaxed: Iterable[Layer] = ()) -> View:
    view = _NEW(View, (
        state.power,
        state.planned,
        state.existing_mw,
        state.halls,
        state.lots,
        site_pue(state),
        state.top_level,
        state.max_level,
        state.priority,
        False,
        state.known,
        state.halls_changed,
    ))  # fmt: skip
    for layer in relaxed:
        view = layer.relax(view)
    return view


def evaluate(
    time: float,
    state: SiteState,
    relaxed: tuple[Layer, ...],
    depreciation_days: float,
    view: View | None = None,
) -> Snapshot:
    """The site at ``time``, with the ``relaxed`` layers made non-binding.

    ``view``, if given, is ``view_of(state, relaxed)`` already made.
    """
    view = view_of(state, relaxed) if view is None else view
    instant, running = _what_runs(view)
    lots, kws, running_mw = view.lots, instant.kws, instant.running_mw
    on_site = installed = in_transit = displaced = 0
    waiting_list = []
    for lot, run, placed in zip(lots, running, instant.placed, strict=True):
        on_site += lot.on_site
        installed += lot.installed
        in_transit += lot.in_transit
        displaced += lot.installed - placed
        # GPUs in transit earn nothing and depreciate: they count in cost and value lost.
        waiting_list.append(lot.on_site - run + lot.in_transit)
    waiting = tuple(waiting_list)
    gpus_running = sum(running)
    idle = on_site - gpus_running
    cost_per_day = (
        sum((n * lot.price_usd for lot, n in zip(lots, waiting, strict=True)), 0.0)
        / depreciation_days
    )
    tight = 0
    if idle > 0:
        hidden = sum(layer.bit for layer in relaxed)
        for layer in LAYERS:
            if layer.tight(instant):
                tight |= layer.bit
        tight = (tight & ~hidden) or (fallback(instant) & ~hidden) or _narrowest(instant, hidden)
    caps = tuple([layer.capacity(instant) for layer in LAYERS])
    stranded, not_installed, cooling = _stranded(instant, lots)
    # Snapshot's fields in order, without NamedTuple's Python-level __new__ (a row each).
    return _NEW(Snapshot, (
        time, caps, on_site, installed, gpus_running, idle, running_mw,
        it_mw([lot.on_site for lot in lots], kws), cost_per_day, tight, instant.power_mw,
        waiting, stranded, not_installed, cooling,
        _onsite_used(instant, site_pue(state, annual=True)), in_transit, displaced,
    ))  # fmt: skip


_NEW = tuple.__new__


def room_mw(state: SiteState, lot: int, held: tuple[int, ...] = ()) -> float:
    """IT MW more that would run at the site as built and powered (nothing relaxed) if lot
    ``lot`` stood there installed, beside every GPU on site or on its way there, installed
    (the ``held`` lots aside: the fleet holds them, they are on no one's way).

    It reads only what the site's changes set (power, halls, deliveries, transits), never
    what its crews did, so a routing decision made on it is the same whatever layers a
    run relaxes.
    """

    def running_mw(with_lot: bool) -> float:
        lots = [LotState(x.name, x.model, x.count, x.kw, x.level, x.price_usd, x.on_site,
                         x.on_site + x.in_transit) for x in state.lots]  # fmt: skip
        for index in held:
            lots[index].installed = lots[index].on_site
        lots[lot].installed = lots[lot].count if with_lot else 0
        return _what_runs(view_of(state)._replace(lots=lots, known=None))[0].running_mw

    return running_mw(True) - running_mw(False)


def idle_now(view: View, hidden: int) -> tuple[int, int]:
    """Idle GPUs in ``view``, and the power layers tight while they are (bits, ``hidden`` off).

    What :func:`evaluate` counts, without the rest of the row: a replay that
    needs only idle GPU-hours reads this.
    """
    instant, running = _what_runs(view)
    idle = sum(lot.on_site for lot in view.lots) - sum(running)
    if idle == 0:
        return 0, 0
    tight = 0
    for layer in _POWER:
        if layer.tight(instant):
            tight |= layer.bit
    return idle, tight & ~hidden


def _what_runs(view: View) -> tuple[Instant, list[int]]:
    """Power reaching the GPUs, and the GPUs of each lot that run: placed, then powered."""
    lots, power = view.lots, view.power
    series = min(map(power.__getitem__, _SERIES_NAMES))
    sources = sum(map(power.__getitem__, _SOURCE_NAMES))
    power_mw = series + view.existing_mw + sources
    power_it = power_mw / view.pue
    kws = kept(view, "kws", lambda: [lot.kw for lot in lots])  # never change
    installed = [_NEW(LotLoad, (lot.installed, lot.kw, lot.level)) for lot in lots]
    ready = ready_space(view)
    order = dispatch(view)
    placed = place(installed, ready, order=order)
    running = power_share(placed, kws, power_it, order)
    on_site = [_NEW(LotLoad, (lot.on_site, lot.kw, lot.level)) for lot in lots]
    instant = Instant(view, series / view.pue, power_it, power_mw, it_mw(running, kws), kws,
                      on_site, ready, order, placed)  # fmt: skip
    return instant, running


def dispatch(view: View) -> Sequence[int]:
    """The lots in the order space, then power, go to them: the site's dispatch order,
    else those drawing least first (sorted once: the lots' kW never change)."""
    return view.priority or kept(view, "power order", lambda: power_order(
        [lot.kw for lot in view.lots]))  # fmt: skip


def _stranded(instant: Instant, lots: list[LotState]) -> tuple[float, float, float]:
    """IT MW that is powered and stands ready (commissioned, not offline) with no GPU in it,
    and of it what GPUs on site but not installed could take, and what they could take only
    if their cooling fitted.

    The rest waits for GPUs that have not arrived (chips). The GPUs waiting are placed
    into the space those installed leave (all installed first, in the dispatch order). A relaxed
    (unlimited) layer strands nothing: stranded power is read on runs as built.
    """
    space = instant.ready
    available = min(instant.power_it, sum((s.mw for s in space), 0.0))
    if math.isinf(available):
        return 0.0, 0.0, 0.0
    stranded = available - instant.running_mw
    if stranded <= instant.slack:
        return 0.0, 0.0, 0.0
    waiting = [lot.on_site - lot.installed for lot in lots]
    if not any(waiting):
        return stranded, 0.0, 0.0
    kws = instant.kws
    loads = [LotLoad(lot.installed, lot.kw, lot.level) for lot in lots]
    loads += [LotLoad(n, lot.kw, lot.level) for n, lot in zip(waiting, lots, strict=True)]
    n = len(lots)
    # Into the space the installed GPUs leave: each lot's installed GPUs before the waiting.
    order = [*instant.order, *(n + index for index in instant.order)]

    def fits(check_cooling: bool) -> float:
        return it_mw(place(loads, space, check_cooling, order)[n:], kws)

    installable = min(stranded, fits(True))
    cooling = min(stranded - installable, max(0.0, fits(False) - installable))
    return stranded, installable, cooling


def _onsite_used(instant: Instant, annual_pue: float) -> float:
    """Facility MW the running GPUs draw beyond what the grid path (grid, transformers,
    existing service) carries: what on-site generation supplies. The annual PUE is used:
    the total is energy over the year, not the peak the plant must be sized for."""
    view = instant.view
    sources = sum(map(view.power.__getitem__, _SOURCE_NAMES))
    grid_path = instant.power_mw - sources
    if math.isinf(grid_path) or math.isinf(sources):
        return 0.0  # a relaxed layer: no energy is counted on such runs
    return min(sources, max(0.0, instant.running_mw * annual_pue - grid_path))


def _narrowest(instant: Instant, hidden: int) -> int:
    """Idle GPUs with no tight layer left unrelaxed: blame the narrowest one that is not."""
    shown = [layer for layer in LAYERS if not layer.bit & hidden]
    return min(shown, key=lambda layer: layer.capacity(instant)).bit
