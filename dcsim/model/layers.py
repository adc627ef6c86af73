"""The capacity layers, defined once: the registry every other module reads.

A layer is one :class:`Layer` entry in :data:`LAYERS`: its name (which gives
its output columns), its colour in charts, how its capacity is read, when it
counts as *tight* (a candidate for the binding layer while GPUs sit idle), and
what *relaxing* it means: instantly available and unlimited. Adding a layer is
one entry here plus the process that feeds it (through
:meth:`~dcsim.model.site.SiteModel.set_power` for a power layer).

Relaxing is a lens on the evaluation, never a change to the processes: every
process runs, draws and logs exactly as in the base run, and only what the
evaluation reads of the relaxed layer is replaced. The one process that reads
the evaluation, installation, sees the relaxed space: its crews install the GPUs on
site as the evaluation places them there, which more space never makes fewer of any
lot, so they may install no fewer. As the evaluation
never runs fewer GPUs with more power, space or installed GPUs under the default
dispatch (:mod:`~dcsim.model.allocation`), relaxing any set of layers never leaves
more GPUs idle, up to the crews' batching.

Everything is in IT MW: facility power is divided by the PUE of the halls that
stand, which a relaxation does not change (relaxing a layer replaces that
layer, not the cooling plant of the halls as built).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from dcsim.errors import DcsimError
from dcsim.model.allocation import it_mw
from dcsim.model.instant import (
    Instant,
    View,
    cooled_space,
    kept,
)
from dcsim.model.state import HallState, LotState


class Kind(Enum):
    SERIES = "series"  # on the grid path: the site gets the narrowest of them
    SOURCE = "source"  # generation beside the grid path: adds to it
    LIMIT = "limit"  # equipment the on-site plant waits for: holds it back, adds nothing
    SPACE = "space"  # where GPUs can stand
    CREWS = "crews"  # GPUs brought into service


@dataclass(frozen=True)
class Layer:
    name: str
    kind: Kind
    color: str
    meaning: str  # what its capacity column holds, for the README and charts
    capacity: Callable[[Instant], float]  # IT MW
    tight: Callable[[Instant], bool]
    relax: Callable[[View], View]  # instantly available and unlimited
    index: int = field(default=-1, compare=False)

    @property
    def column(self) -> str:
        """Its capacity column in the timeseries."""
        return f"cap_{self.name}_mw"

    @property
    def idle_column(self) -> str:
        """Its share of idle GPU-hours in the summary."""
        return f"idle_gpu_hours_{self.name}"

    @property
    def bit(self) -> int:
        return 1 << self.index

    def __reduce__(self) -> tuple[Callable[[str], Layer], tuple[str]]:
        # Its rules are closures: a layer crosses to a worker process by name.
        return _named, (self.name,)

    def __str__(self) -> str:
        return self.name


# ------------------------------------------------------------ power layers
# The on-site plant waits for its turbines and its switchgear, each a layer of its own.
# So that either can be relaxed as a lens, the plant publishes what it would carry with
# either or both on hand at once, and a relaxation reads the matching value.
_GEAR = ("turbines", "switchgear")
ONSITE_WITH: dict[frozenset[str], str] = {
    frozenset(): "onsite",
    frozenset({"turbines"}): "onsite+turbines",
    frozenset({"switchgear"}): "onsite+switchgear",
    frozenset(_GEAR): "onsite+turbines+switchgear",
}
ONSITE_KEYS: tuple[str, ...] = tuple(ONSITE_WITH.values())


def _gear_on_hand(view: View, gear: str) -> View:
    """``view`` with the on-site plant's ``gear`` there at once: each value reads the one
    with ``gear`` added, so relaxing turbines and switchgear commute."""
    power = dict(view.power)
    for has, key in ONSITE_WITH.items():
        power[key] = view.power[ONSITE_WITH[has | {gear}]]
    return view._replace(power=power)


PLANT_SWITCHGEAR = "onsite/switchgear"  # MW of blocks whose switchgear is in service


def _plant_waits_for(instant: Instant, gear: str) -> bool:
    """Power is used up and ``gear`` holds the plant back: with every other gear on hand,
    having this one too would add MW. (Blocks waiting for a turbine *and* switchgear are
    held by both, as liquid space not yet built is by building and cooling.)"""
    power = instant.view.power
    others = frozenset(_GEAR) - {gear}
    held = power[ONSITE_WITH[others]] < power[ONSITE_WITH[frozenset(_GEAR)]]
    return held and instant.power_used_up


def _switchgear_capacity(instant: Instant) -> float:
    """MW of switchgear in service: the substation's bays (with existing service) and the
    on-site blocks', each where the site models it; inf where it models neither."""
    view = instant.view
    substation, plant = view.power["switchgear"], view.power.get(PLANT_SWITCHGEAR)
    if math.isinf(substation) and (plant is None or math.isinf(plant)):
        return math.inf
    total = 0.0 if math.isinf(substation) else substation + view.existing_mw
    return (total + (plant or 0.0)) / view.pue


def _series(name: str, color: str, meaning: str, plant_gear: bool = False) -> Layer:
    def capacity(instant: Instant) -> float:
        if plant_gear:
            return _switchgear_capacity(instant)
        view = instant.view
        return (view.power[name] + view.existing_mw) / view.pue

    def tight(instant: Instant) -> bool:
        own = instant.view.power[name] / instant.view.pue
        if instant.power_used_up and own <= instant.series_it + 1e-9:
            return True
        return plant_gear and _plant_waits_for(instant, name)

    def relax(view: View) -> View:
        power = {**view.power, name: math.inf}
        if plant_gear:
            power = _gear_on_hand(view, name).power
            power[name] = math.inf
            if PLANT_SWITCHGEAR in power:
                power[PLANT_SWITCHGEAR] = math.inf
        return view._replace(power=power)

    return Layer(name, Kind.SERIES, color, meaning, capacity, tight, relax)


def _source(name: str, color: str, meaning: str) -> Layer:
    def capacity(instant: Instant) -> float:
        return instant.view.power[name] / instant.view.pue

    def tight(instant: Instant) -> bool:
        # Behind plan even with its gear on hand: what turbines or switchgear hold back is
        # theirs (their layers), not the plant's.
        view = instant.view
        with_gear = view.power[ONSITE_WITH[frozenset(_GEAR)]]
        return instant.power_used_up and with_gear < view.planned[name]

    def relax(view: View) -> View:
        # Instantly available: every planned block online from the start, whatever gear it
        # waits for. (Unlimited generation would also remove the grid path as a constraint.)
        planned = view.planned[name]
        return view._replace(power={**view.power, **dict.fromkeys(ONSITE_KEYS, planned)})

    return Layer(name, Kind.SOURCE, color, meaning, capacity, tight, relax)


def _turbines(instant: Instant) -> float:
    return instant.view.power["turbines"] / instant.view.pue


def _relax_turbines(view: View) -> View:
    view = _gear_on_hand(view, "turbines")
    return view._replace(power={**view.power, "turbines": math.inf})


# ------------------------------------------------------------ space and crews
def _building_capacity(instant: Instant) -> float:
    return instant.built_mw


def _building_tight(instant: Instant) -> bool:
    return instant.placed_built <= instant.running_mw + instant.slack


def _relax_building(view: View) -> View:
    # Built by hand, not with dataclasses.replace: this runs at every evaluation of a replay.
    halls = [HallState(h.name, h.it_mw, h.cooling, h.level, h.pue, True, h.offline_share,
                       h.annual_pue)
             for h in view.halls]  # fmt: skip
    return view._replace(halls=halls, unlimited_space=True)


def _cooling_capacity(instant: Instant) -> float:
    view = instant.view
    return kept(
        view,
        "cooling",
        lambda: sum((s.mw for s in cooled_space(view) if s.level >= view.max_level), 0.0),
    )


def _cooling_tight(instant: Instant) -> bool:
    return instant.placed_cooled <= instant.running_mw + instant.slack


def _relax_cooling(view: View) -> View:
    # Every hall fits every GPU and no retrofit holds space offline; the PUE stays
    # that of the halls as they are (View.pue), so relaxing never costs power.
    top = view.top_level
    halls = [HallState(h.name, h.it_mw, h.cooling, top, h.pue, h.commissioned, 0.0, h.annual_pue)
             for h in view.halls]  # fmt: skip
    return view._replace(halls=halls)


def _installation_capacity(instant: Instant) -> float:
    return it_mw([lot.installed for lot in instant.view.lots], instant.kws)


def _installation_tight(instant: Instant) -> bool:
    installed = _installation_capacity(instant)
    slack = instant.slack
    return installed <= instant.running_mw + slack and instant.placed_ready > installed + slack


def _relax_installation(view: View) -> View:
    lots = [LotState(lot.name, lot.model, lot.count, lot.kw, lot.level, lot.price_usd, lot.on_site,
                     lot.on_site, lot.in_transit, lot.bound) for lot in view.lots]  # fmt: skip
    return view._replace(lots=lots)


def _registry(*layers: Layer) -> tuple[Layer, ...]:
    return tuple(replace(layer, index=i) for i, layer in enumerate(layers))


LAYERS: tuple[Layer, ...] = _registry(
    _series("grid", "#d62728", "energized grid service (and service existing at the start)"),
    _series(
        "transformers",
        "#ff7f0e",
        "transformers in service less spares, rating × power factor (and existing service)",
    ),
    _series(
        "switchgear",
        "#bcbd22",
        "switchgear in service: the substation's HV bays less spares × a transformer's MW"
        " (and existing service), plus on-site blocks whose own switchgear is in; inf where"
        " the site models neither. The substation part is on the grid path; the blocks'"
        " part holds the on-site plant back",
        plant_gear=True,
    ),
    _source("onsite", "#8c564b", "on-site generation online"),
    Layer(
        "turbines",
        Kind.LIMIT,
        "#e377c2",
        "on-site blocks whose gas turbine has been delivered and installed (MW);"
        " inf where the plant does not draw turbines from a market",
        _turbines,
        lambda instant: _plant_waits_for(instant, "turbines"),
        _relax_turbines,
    ),
    Layer(
        "building",
        Kind.SPACE,
        "#1f77b4",
        "commissioned halls",
        _building_capacity,
        _building_tight,
        _relax_building,
    ),
    Layer(
        "cooling",
        Kind.SPACE,
        "#17becf",
        "halls, built or not, whose cooling fits the most demanding GPU model the site has"
        " contracted, less space offline for retrofits",
        _cooling_capacity,
        _cooling_tight,
        _relax_cooling,
    ),
    Layer(
        "installation",
        Kind.CREWS,
        "#9467bd",
        "installed GPUs, displaced ones too (`gpus_displaced`)",
        _installation_capacity,
        _installation_tight,
        _relax_installation,
    ),
)
BY_NAME: dict[str, Layer] = {layer.name: layer for layer in LAYERS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
POWER_LAYERS: tuple[Layer, ...] = tuple(
    layer for layer in LAYERS if layer.kind in (Kind.SERIES, Kind.SOURCE, Kind.LIMIT)
)
BUILDING, COOLING, INSTALLATION = (BY_NAME[n] for n in ("building", "cooling", "installation"))


def _named(name: str) -> Layer:
    return BY_NAME[name]


def layers_of(names: Iterable[str | Layer]) -> frozenset[Layer]:
    """Layers from their names (or themselves); an unknown name is a DcsimError."""
    chosen = set()
    for item in names:
        if isinstance(item, Layer):
            chosen.add(item)
        elif item in BY_NAME:
            chosen.add(BY_NAME[item])
        else:
            raise DcsimError(f"unknown layer {item!r}; layers are {', '.join(NAMES)}")
    return frozenset(chosen)


def fallback(instant: Instant) -> int:
    """The layer to blame when each is wide enough alone but not together.

    Say liquid space not yet built and built space not liquid: the narrower of
    building and cooling.
    """
    return COOLING.bit if instant.placed_cooled <= instant.placed_built else BUILDING.bit


def markdown_table() -> str:
    """The README's table of capacity columns, generated from the registry."""
    lines = ["| column | layer | capacity (IT MW) |", "|---|---|---|"]
    lines += [f"| `{layer.column}` | {layer.name} | {layer.meaning} |" for layer in LAYERS]
    return "\n".join(lines)
