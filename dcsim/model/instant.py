"""What the evaluation reads of a site at one instant, and what it keeps between instants.

:class:`View` is the site's state as the evaluation reads it, after relaxations;
:class:`Instant` adds what every layer's rules need, each worked out at most once an
evaluation. What follows from a site's halls alone (its ready, cooled and built space,
the slack) is kept in the site's store until the halls change (:func:`kept`), and the
placements of the GPUs on site until the deliveries change too: a site changes power
or installed GPUs at most instants, its halls and deliveries at few.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from dcsim.model.allocation import LotLoad, Space, it_mw, place
from dcsim.model.state import HallState, LotState


class View(NamedTuple):
    """The state as the evaluation reads it, after relaxations; ``pue`` from the true state."""

    power: dict[str, float]
    planned: dict[str, float]
    existing_mw: float
    halls: list[HallState]
    lots: list[LotState]
    pue: float
    top_level: int
    max_level: int  # the most demanding cooling level among the site's lots
    priority: tuple[int, ...] = ()  # lots in the order power goes to them
    unlimited_space: bool = False
    # Where what follows from the halls and the GPUs on site alone may be kept (the site's
    # SiteState.known), with the count of changes to its halls; None: nowhere. A state is
    # only ever read through one set of relaxed layers (its SiteCore's), so the keys need
    # not name them; every change to a hall goes through SiteCore, which counts it.
    known: dict[tuple[object, ...], Any] | None = None
    halls_changed: int = 0


@dataclass
class Instant:
    """What every layer's rules need, each computed once per evaluation (at most): the
    properties work out their value on first use and keep it in a field of their own
    (plain fields, not the instance's ``__dict__``, so that the class compiles: see
    dcsim/native.py)."""

    view: View
    series_it: float  # IT MW through the grid path: the narrowest series layer
    power_it: float  # IT MW reaching the GPUs: grid path + existing + sources
    power_mw: float  # the same in facility MW
    running_mw: float
    kws: list[float]
    on_site: list[LotLoad]
    ready: Sequence[Space]  # ready_space(view)
    order: Sequence[int]  # lots in the order space, then power, go to them
    placed: Sequence[int]  # installed GPUs of each lot that stand in the ready space
    _slack: float | None = field(init=False, repr=False, compare=False)
    _power_used_up: bool | None = field(init=False, repr=False, compare=False)
    _cooled: Sequence[Space] | None = field(init=False, repr=False, compare=False)
    _built_mw: float | None = field(init=False, repr=False, compare=False)
    _placed_built: float | None = field(init=False, repr=False, compare=False)
    _placed_cooled: float | None = field(init=False, repr=False, compare=False)
    _placed_ready: float | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Set here, not as the fields' defaults: a compiled class does not read those.
        self._slack = self._power_used_up = self._cooled = self._built_mw = None
        self._placed_built = self._placed_cooled = self._placed_ready = None

    @property
    def slack(self) -> float:
        """IT MW below which a layer counts as used up (see :func:`tolerance`)."""
        if self._slack is None:
            self._slack = kept(self.view, "slack", lambda: tolerance(self))
        return self._slack

    @property
    def power_used_up(self) -> bool:
        if self._power_used_up is None:
            self._power_used_up = self.power_it <= self.running_mw + self.slack
        return self._power_used_up

    @property
    def cooled(self) -> Sequence[Space]:
        if self._cooled is None:
            self._cooled = cooled_space(self.view)
        return self._cooled

    @property
    def built_mw(self) -> float:
        if self._built_mw is None:
            self._built_mw = built_mw(self.view)
        return self._built_mw

    @property
    def placed_built(self) -> float:
        """IT MW of the GPUs on site that fit the commissioned space, cooling aside."""
        if self._placed_built is None:
            self._placed_built = self._kept(
                "built", lambda: placed_mw(self, [Space(self.built_mw, 0)], False)
            )
        return self._placed_built

    @property
    def placed_cooled(self) -> float:
        """IT MW of the GPUs on site that fit space whose cooling fits, built or not."""
        if self._placed_cooled is None:
            self._placed_cooled = self._kept("cooled", lambda: placed_mw(self, self.cooled))
        return self._placed_cooled

    @property
    def placed_ready(self) -> float:
        """IT MW of the GPUs on site that fit space they can be installed and run in."""
        if self._placed_ready is None:
            self._placed_ready = self._kept("ready", lambda: placed_mw(self, self.ready))
        return self._placed_ready

    def _kept(self, space: str, placed: Callable[[], float]) -> float:
        """``placed()``, kept with the site until its halls or the GPUs on site change
        (they change at few instants; power and installed GPUs at most)."""
        view = self.view
        counts = [load.gpus for load in self.on_site]
        return remembered(view.known, ("placed", space, view.halls_changed, *counts), placed)


_GPU_SLACK = 1000.0  # packing leaves less than one GPU of slack per hall


def tolerance(instant: Instant) -> float:
    """IT MW below which a layer counts as used up: one GPU per hall, as packing leaves."""
    return (len(instant.view.halls) + 1) * max(instant.kws) / _GPU_SLACK + 1e-9


_T = TypeVar("_T")


def remembered(known: dict[tuple[object, ...], Any] | None, key: tuple[object, ...],
               work: Callable[[], _T]) -> _T:  # fmt: skip
    """``work()``, kept in the store ``known`` under ``key`` (``key`` names all it reads);
    worked out each time where there is no store."""
    if known is None:
        return work()
    value = known.get(key)
    if value is None:
        value = known[key] = work()
    return value


def kept(view: View, what: str, work: Callable[[], _T]) -> _T:
    """``work()``, which reads only the halls of ``view`` (and what never changes), kept
    with the site until its halls change."""
    return remembered(view.known, (what, view.halls_changed), work)


def ready_space(view: View) -> Sequence[Space]:
    """Space GPUs can be installed and run in: commissioned, less what retrofits hold."""

    def work() -> tuple[Space, ...]:
        if view.unlimited_space:
            return tuple(Space(math.inf, h.level) for h in view.halls)
        return tuple(Space(h.usable_mw if h.commissioned else 0.0, h.level) for h in view.halls)

    return kept(view, "ready", work)


def built_mw(view: View) -> float:
    """IT MW of the commissioned halls (unlimited where building is relaxed)."""

    def work() -> float:
        if view.unlimited_space:
            return math.inf
        return sum((h.it_mw for h in view.halls if h.commissioned), 0.0)

    return kept(view, "built", work)


def cooled_space(view: View) -> Sequence[Space]:
    """Space whose cooling fits, commissioned or not, less what retrofits hold."""

    def work() -> tuple[Space, ...]:
        if view.unlimited_space:
            return tuple(Space(math.inf, h.level) for h in view.halls)
        return tuple(Space(h.usable_mw, h.level) for h in view.halls)

    return kept(view, "cooled", work)


def placed_mw(instant: Instant, space: Sequence[Space], check_cooling: bool = True) -> float:
    """IT MW of the GPUs on site that fit ``space``."""
    return it_mw(place(instant.on_site, space, check_cooling, instant.order), instant.kws)
