"""The parts of a site file read on their own: tranches, halls, retrofits, lots, on-site.

Split from :mod:`dcsim.input.validate` to keep each module short; the site as a
whole (and the references between its parts) is read there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dcsim.input import limits
from dcsim.input.spec import (
    WHEN_NEEDED,
    CoolingType,
    GpuModel,
    Hall,
    Lot,
    Onsite,
    Retrofit,
    Tranche,
)
from dcsim.input.toml_table import Table
from dcsim.input.units import DURATION, ENERGY_PRICE, POWER, POWER_RAMP


class Refs:
    def __init__(
        self,
        *,
        gpus: dict[str, GpuModel],
        cooling: dict[str, CoolingType],
        regions: list[str],
        supplies: list[str],
        default_supply: str,
        switchgear: list[str],
        turbines: list[str],
        chips: list[str],
        start: dt.date,
        horizon: float | None,
    ) -> None:
        self.switchgear = switchgear  # names of switchgear supplies in the catalog
        self.turbines = turbines
        self.chips = chips  # names of GPU supplies
        self.gpus = gpus
        self.cooling = cooling
        self.regions = regions
        self.supplies = supplies
        self.default_supply = default_supply
        self.start = start
        self.horizon = horizon


def tranche(t: Table, date: Any) -> Tranche:
    result = Tranche(mw=t.quantity("power", POWER), earliest=date(t, "earliest"))
    t.done()
    return result


def hall(t: Table, refs: Refs, date: Any, site_crews: int) -> Hall:
    crews = t.integer("crews", limits.UNITS, default=1, minimum=1)
    if crews > site_crews:
        raise t.error(
            "crews", crews, f"no more crews than the site has ({site_crews}, construction.crews)"
        )
    result = Hall(
        name=t.string("name"),
        it_mw=t.quantity("it_power", POWER),
        cooling=t.reference("cooling", refs.cooling, "cooling type"),
        construction_start=date(t, "construction_start"),
        construction_time=t.distribution("construction_time", DURATION),
        crews=crews,
        commissioning_time=t.distribution(
            "commissioning_time", DURATION, default="0 day", positive=False
        ),
        source=t.string("source", default=""),
    )
    t.done()
    return result


def retrofit(t: Table, refs: Refs, date: Any, halls: list[str]) -> Retrofit:
    at_raw = t.raw("at")
    at = None if at_raw == WHEN_NEEDED else (date(t, "at") if not isinstance(at_raw, str) else None)
    if isinstance(at_raw, str) and at_raw != WHEN_NEEDED:
        raise t.error("at", at_raw, f'a date (YYYY-MM-DD) or "{WHEN_NEEDED}"')
    result = Retrofit(
        hall=t.reference("hall", halls, "hall of this site"),
        to=t.reference("to", refs.cooling, "cooling type"),
        at=at,
        duration=t.distribution("duration", DURATION, positive=False),
        offline_share=t.number("offline_share", default=1.0, low=0.0, high=1.0),
        source=t.string("source", default=""),
    )
    t.done()
    return result


def lot(index: int, t: Table, refs: Refs, date: Any) -> Lot:
    """A lot contracted for a date (``delivery``), or ordered from a GPU supply on a date
    (``supply`` and ``ordered``), when the supply's output decides its delivery."""
    supply = None
    if t.has("supply"):
        supply = t.reference("supply", refs.chips, "GPU supply")
        if t.has("delivery"):
            wanted = "no delivery date on a lot from a supply (the supply's output decides it;"
            raise t.error("delivery", t.raw("delivery"), wanted + " the order date is ordered)")
    result = Lot(
        name=t.string("name", default=f"lot-{index + 1}"),
        delivery=date(t, "ordered" if supply else "delivery"),
        supply=supply,
        count=t.integer("count", limits.GPUS_PER_LOT, minimum=1),
        model=t.reference("model", refs.gpus, "GPU model"),
        delay=t.distribution("delay", DURATION, default="0 day", positive=False),
        source=t.string("source", default=""),
        pooled=t.boolean("pooled", default=False),
    )
    t.done()
    return result


def ramp(ic: Table) -> float | None:
    """MW a day the load may grow; a month's step must be a real amount of power."""
    if not ic.has("ramp"):
        return None
    rate = ic.quantity("ramp", POWER_RAMP)
    if rate * 365.25 / 12 < 0.1:
        raise ic.error("ramp", ic.raw("ramp"), "a ramp of at least 0.1 MW a month")
    return rate


def optional_supply(t: Table, key: str, names: list[str], what: str) -> str | None:
    """A named equipment supply, or None when the key is absent (the gear is not modelled)."""
    if not t.has(key):
        return None
    return t.reference(key, names, f"{what} supply")


def onsite(t: Table, date: Any, site_start: dt.date, refs: Refs) -> Onsite:
    result = Onsite(
        block_mw=t.quantity("block", POWER),
        blocks=t.integer("blocks", limits.UNITS, minimum=1),
        start=date(t, "start", default=site_start),
        permit_time=t.distribution("permit_time", DURATION, positive=False),
        lead_time=t.distribution("lead_time", DURATION, positive=False),
        block_interval=t.distribution("block_interval", DURATION, default="0 day", positive=False),
        spare_blocks=t.integer("spare_blocks", limits.UNITS, default=0),
        forced_outage_rate=t.number("forced_outage_rate", default=0.0, high=0.99),
        repair_time=t.distribution("repair_time", DURATION, default="3 days"),
        energy_cost_usd_per_mwh=t.quantity(
            "energy_cost", ENERGY_PRICE, default="0 USD/MWh", positive=False
        ),
        retire_when_grid=t.boolean("retire_when_grid", default=False),
        turbine_supply=optional_supply(t, "turbine_supply", refs.turbines, "turbine"),
        switchgear_supply=optional_supply(t, "switchgear_supply", refs.switchgear, "switchgear"),
        source=t.string("source", default=""),
    )
    t.done()
    return result
