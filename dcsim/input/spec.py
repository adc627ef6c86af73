"""Frozen, typed specifications in canonical units.

Everything the model needs, checked once at load (see :mod:`dcsim.input.load`).
Times are days from the scenario start date, power in MW (GPU power in kW),
money in USD, rates per day. Collections are tuples so specs are immutable,
hashable and picklable across worker processes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from dcsim.input.distributions import Distribution, Fixed

ORDER_POLICIES = ("at_request", "at_agreement", "owned")
# Where a pooled lot goes once delivered to the fleet. fixed: its own site, as if not
# pooled; first_ready: the first site with powered, built, fitting room for all of it
# (its own site when that has room too), waiting in the fleet until one has;
# most_room: at once, to the site where most of it would run.
ROUTING_POLICIES = ("fixed", "first_ready", "most_room")
DISCIPLINES = ("serial", "cluster")
WHEN_NEEDED = "when_needed"
_T = TypeVar("_T")


# ---------------------------------------------------------------- catalog
@dataclass(frozen=True)
class GpuModel:
    name: str
    it_kw: float  # all-in IT power per GPU at the rack
    cooling: str  # the least capable cooling type that can host it
    price_usd: float
    value_per_hour_usd: float = 0.0  # what one GPU-hour of compute earns, at the start date
    value_decline: float = 0.0  # yearly fall of that value (0.3 = 30% a year)
    source: str = ""


@dataclass(frozen=True)
class CoolingType:
    name: str
    level: int  # a hall of level >= the model's cooling level can host it
    max_rack_kw: float
    pue: float  # annual: facility energy / IT energy
    peak_pue_value: float | None = None  # on the hottest hours; None: the annual PUE
    source: str = ""

    @property
    def peak_pue(self) -> float:
        """Facility power / IT power at the peak: what the grid must carry per IT MW."""
        return self.pue if self.peak_pue_value is None else self.peak_pue_value


@dataclass(frozen=True)
class StudyPhase:
    name: str
    duration: Distribution
    withdrawal: float  # probability a request withdraws at the end of this phase


@dataclass(frozen=True)
class Region:
    name: str
    label: str
    discipline: str  # "serial" or "cluster"
    study_engineers: int  # parallel studies (serial) or clusters studied at once (cluster)
    cluster_window: float  # days a cluster stays open (cluster discipline only)
    phases: tuple[StudyPhase, ...]
    agreement_time: Distribution  # from the last study phase to a signed agreement
    energization_time: Distribution  # from agreement to first power
    headroom_mw: float  # load the grid can absorb before network upgrades are needed
    network_upgrade_time: Distribution
    background_rate: float  # background requests per day (Poisson)
    background_size: Distribution  # MW per background request
    initial_backlog: int = 0  # background requests already waiting when the queue opens
    warm_up: float = 0.0  # days the queue runs on background traffic before the start date
    upgrade_crews: int = 0  # network upgrades built at once; 0 = each starts at once
    upgrade_mw: float = 0.0  # least MW an upgrade adds (the request's shortfall if larger)
    withdrawal_after_agreement: float = 0.0  # share of background requests gone at agreement
    source: str = ""


EQUIPMENT_KINDS = ("transformer", "switchgear", "turbine")


@dataclass(frozen=True)
class EquipmentSupply:
    """One market of long-lead equipment: transformers, HV switchgear or gas turbines.

    ``output_steps`` and ``background_steps`` are (date, units per day) from that date
    on; before the first step the market makes ``output_per_day`` and everyone else
    orders ``background_rate``. Output only grows (factories expand): each step adds
    production lines, and a unit's build time stays ``build_time``.
    """

    name: str
    output_per_day: float  # units the factories finish per day at full load
    lines: int  # units in production at once
    design_time: Distribution  # engineering and materials before a unit enters production
    transport_time: Distribution
    installation_time: Distribution
    background_rate: float  # orders per day from everyone else (Poisson)
    initial_backlog: int  # units already on order when the market opens
    kind: str = "transformer"  # one of EQUIPMENT_KINDS: the catalog section it comes from
    output_steps: tuple[tuple[dt.date, float], ...] = ()
    background_steps: tuple[tuple[dt.date, float], ...] = ()
    warm_up: float = 0.0  # days the market runs on background orders before the start date
    source: str = ""

    @property
    def build_time(self) -> float:
        """Days one production line spends on one unit."""
        return self.lines / self.output_per_day

    def lines_at(self, output_per_day: float) -> int:
        """Production lines that make ``output_per_day`` at this market's build time."""
        return max(self.lines, round(output_per_day * self.build_time))


@dataclass(frozen=True)
class GpuSupply:
    """A constrained supply of accelerators (say, CoWoS-packaging-limited): one fluid line.

    Orders are filled by ``allocation`` (first come, first served, or pro rata: every open
    order gets a share of the output in proportion to its size) at ``output_per_day`` GPUs
    a day, which steps up on the dates of ``output_steps``. Everyone else orders
    ``background_order`` GPUs at a time, ``background_rate`` orders a day (Poisson; dated by
    ``background_steps``). ``initial_backlog`` GPUs are on order when it opens,
    ``warm_up`` days before the start date.
    """

    name: str
    output_per_day: float  # GPUs a day
    transport_time: Distribution  # from the end of production to the site
    background_rate: float  # orders a day from everyone else
    background_order: int  # GPUs in one background order
    initial_backlog: int = 0  # GPUs
    output_steps: tuple[tuple[dt.date, float], ...] = ()
    background_steps: tuple[tuple[dt.date, float], ...] = ()  # (date, orders a day)
    warm_up: float = 0.0
    allocation: str = "fcfs"  # one of ALLOCATION_RULES
    source: str = ""


ALLOCATION_RULES = ("fcfs", "pro_rata")


# ---------------------------------------------------------------- site
@dataclass(frozen=True)
class Tranche:
    mw: float
    earliest: float


@dataclass(frozen=True)
class Interconnection:
    request_mw: float
    request_date: float
    region: str
    tranches: tuple[Tranche, ...]
    existing_mw: float = 0.0  # service already energized at the start, besides the request
    interim_service: bool = False  # take the headroom there is at agreement, wait for the rest
    flexible_curtailment: float | None = None  # non-firm service until firm, curtailed this share
    ramp_mw_per_day: float | None = None  # how fast the load may grow once energized; None: at once
    source: str = ""


@dataclass(frozen=True)
class Substation:
    transformers: int
    rating_mva: float
    power_factor: float
    order_policy: str
    owned_delivery: float | None = None  # only with order_policy = "owned"
    spares: int = 0  # units kept in reserve (N+spares); they carry no load
    switchgear_supply: str | None = None  # one HV switchgear bay per transformer, from there
    source: str = ""

    @property
    def unit_mw(self) -> float:
        return self.rating_mva * self.power_factor


@dataclass(frozen=True)
class Hall:
    name: str
    it_mw: float
    cooling: str
    construction_start: float
    construction_time: Distribution
    crews: int = 1
    commissioning_time: Distribution = field(default_factory=lambda: Fixed(0.0))
    source: str = ""


@dataclass(frozen=True)
class Retrofit:
    hall: str
    to: str
    at: float | None  # None: start when a lot that needs it arrives
    duration: Distribution
    offline_share: float
    source: str = ""


@dataclass(frozen=True)
class Lot:
    name: str
    delivery: float  # the contracted day, or for a lot from a supply the day it is ordered
    count: int
    model: str
    delay: Distribution = field(default_factory=lambda: Fixed(0.0))
    source: str = ""
    supply: str | None = None  # a GpuSupply: delivered when the supply has made it
    pooled: bool = False  # delivered to the fleet, which routes it (Scenario.routing)

    @property
    def ordered(self) -> bool:
        return self.supply is not None


@dataclass(frozen=True)
class Onsite:
    block_mw: float
    blocks: int
    start: float  # when the permit application goes in
    permit_time: Distribution
    lead_time: Distribution  # from permit to the first block online
    block_interval: Distribution = field(default_factory=lambda: Fixed(0.0))
    spare_blocks: int = 0  # N+spares: extra blocks that carry load only while another is out
    forced_outage_rate: float = 0.0  # share of the time a block is out
    repair_time: Distribution = field(default_factory=lambda: Fixed(3.0))  # one outage
    energy_cost_usd_per_mwh: float = 0.0  # fuel and operation, per MWh generated
    retire_when_grid: bool = False  # switched off once grid and substation carry the request
    turbine_supply: str | None = None  # one turbine per block, ordered at ``start``, from there
    switchgear_supply: str | None = None  # one switchgear unit per block, ordered at ``start``
    source: str = ""

    @property
    def total_mw(self) -> float:
        """MW the blocks carry with none out (spares aside)."""
        return self.block_mw * self.blocks


@dataclass(frozen=True)
class Installation:
    rate_per_day: float  # GPUs a site's crews bring into service per day
    batch: int  # GPUs brought into service together
    source: str = ""


@dataclass(frozen=True)
class Economics:
    depreciation_days: float
    gpu_price_usd: float | None = None  # overrides the catalog price when set
    source: str = ""


# Which GPUs get the power when it is short. most_gpus: those drawing least first (the
# most GPUs a MW runs; the only one under which relaxing a layer never idles more GPUs);
# newest_first: highest value per GPU-hour first (a newer generation earns more, U10/U11);
# lot_order: as the lots are listed; value: highest value per kW first.
DISPATCH_POLICIES = ("most_gpus", "newest_first", "lot_order", "value")


@dataclass(frozen=True)
class Site:
    name: str
    location: str
    start_date: dt.date
    transformer_supply: str
    interconnection: Interconnection
    substation: Substation
    construction_crews: int
    halls: tuple[Hall, ...]
    retrofits: tuple[Retrofit, ...]
    lots: tuple[Lot, ...]
    onsite: Onsite | None
    installation: Installation
    economics: Economics
    source: str = ""
    dispatch: str = "most_gpus"  # one of DISPATCH_POLICIES

    @property
    def region(self) -> str:
        return self.interconnection.region

    @property
    def gpu_count(self) -> int:
        return sum(lot.count for lot in self.lots)

    def markets(self) -> list[tuple[str, str]]:
        """(kind, supply name) of every equipment market the site draws from."""
        pairs = [("transformer", self.transformer_supply)]
        if self.substation.switchgear_supply is not None:
            pairs.append(("switchgear", self.substation.switchgear_supply))
        plant = self.onsite
        if plant is not None and plant.turbine_supply is not None:
            pairs.append(("turbine", plant.turbine_supply))
        if plant is not None and plant.switchgear_supply is not None:
            pairs.append(("switchgear", plant.switchgear_supply))
        return pairs

    def gpu_supplies(self) -> set[str]:
        """Names of the GPU supplies the site's ordered lots come from."""
        return {lot.supply for lot in self.lots if lot.supply is not None}


# ---------------------------------------------------------------- scenario
@dataclass(frozen=True)
class Scenario:
    name: str
    start_date: dt.date
    horizon_days: float
    seed: int
    sites: tuple[Site, ...]
    gpus: tuple[GpuModel, ...]
    cooling: tuple[CoolingType, ...]
    regions: tuple[Region, ...]
    transformer_supplies: tuple[EquipmentSupply, ...]
    switchgear_supplies: tuple[EquipmentSupply, ...] = ()
    turbine_supplies: tuple[EquipmentSupply, ...] = ()
    gpu_supplies: tuple[GpuSupply, ...] = ()
    routing: str = "fixed"  # one of ROUTING_POLICIES, for pooled lots
    transit_time: Distribution = field(default_factory=lambda: Fixed(0.0))  # to another site
    source_file: str = field(default="", compare=False)

    def site(self, name: str) -> Site:
        return _by_name(self.sites, name, "site")

    def gpu(self, name: str) -> GpuModel:
        return _by_name(self.gpus, name, "GPU model")

    def region(self, name: str) -> Region:
        return _by_name(self.regions, name, "region")

    def transformer_supply(self, name: str) -> EquipmentSupply:
        return _by_name(self.transformer_supplies, name, "transformer supply")

    def supplies(self, kind: str) -> tuple[EquipmentSupply, ...]:
        """The catalog's markets of one of EQUIPMENT_KINDS."""
        return {
            "transformer": self.transformer_supplies,
            "switchgear": self.switchgear_supplies,
            "turbine": self.turbine_supplies,
        }[kind]

    def used_markets(self) -> list[tuple[str, str]]:
        """Every (kind, supply name) some site draws from, in a fixed order."""
        return sorted({pair for site in self.sites for pair in site.markets()})

    def supply(self, kind: str, name: str) -> EquipmentSupply:
        return _by_name(self.supplies(kind), name, f"{kind} supply")

    def used_gpu_supplies(self) -> list[GpuSupply]:
        """The GPU supplies some site's lots are ordered from, in name order."""
        used = set().union(*(site.gpu_supplies() for site in self.sites))
        return [_by_name(self.gpu_supplies, name, "GPU supply") for name in sorted(used)]

    @property
    def routes(self) -> bool:
        """Whether the fleet routes lots: some lot is pooled and the policy is not fixed."""
        return self.routing != "fixed" and any(lot.pooled for s in self.sites for lot in s.lots)

    def hosted_lots(self, site: Site) -> list[tuple[Site, int]]:
        """(home site, lot index) of every lot that may stand at ``site``: its own lots,
        then, when the fleet routes, every other site's pooled lots (in site order)."""
        hosted = [(site, index) for index in range(len(site.lots))]
        if self.routes:
            hosted += [(home, index) for home in self.sites if home.name != site.name
                       for index, lot in enumerate(home.lots) if lot.pooled]  # fmt: skip
        return hosted

    def date_of(self, days: float) -> dt.datetime:
        start = dt.datetime.combine(self.start_date, dt.time())
        return start + dt.timedelta(days=days)


def _by_name(items: tuple[_T, ...], name: str, what: str) -> _T:
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    from dcsim.errors import DcsimError

    known = ", ".join(str(getattr(i, "name", "?")) for i in items)
    raise DcsimError(f"no {what} named {name!r}; known: {known}")
