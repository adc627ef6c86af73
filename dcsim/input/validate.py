"""A resolved document to a validated :class:`~dcsim.input.spec.Scenario`.

Every key is read through :class:`~dcsim.input.toml_table.Table`, so unknown keys, wrong
units, bad ranges and dangling references all fail here, once, with the file
and the dotted key path. The model downstream trusts what it is given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dcsim.errors import SpecError
from dcsim.input import budget, limits
from dcsim.input import validate_parts as parts
from dcsim.input.dotted_keys import Origins
from dcsim.input.spec import (
    DISPATCH_POLICIES,
    ORDER_POLICIES,
    ROUTING_POLICIES,
    Economics,
    Installation,
    Interconnection,
    Scenario,
    Site,
    Substation,
    Tranche,
)
from dcsim.input.toml_table import Table
from dcsim.input.units import (
    APPARENT_POWER,
    DURATION,
    GPU_RATE,
    MONEY,
    POWER,
)
from dcsim.input.validate_catalog import (
    cooling_type,
    equipment_supply,
    gpu_model,
    gpu_supply,
    region,
)
from dcsim.input.validate_parts import Refs

DEFAULT_HORIZON = "10 years"
DEFAULT_BATCH = 576  # eight 72-GPU racks brought up together
DEFAULT_SUPPLY = "north_america"


HORIZON_LIMIT = f"a horizon that ends by {limits.LATEST}"


def horizon_fits(start: dt.date, days: float) -> bool:
    """Whether the horizon ends by the latest date the outputs are built for."""
    return days <= (limits.LATEST - start).days


def build_scenario(
    doc: dict[str, Any], origins: Origins, dates_within_horizon: bool = True
) -> Scenario:
    """Validate ``doc``. A file's dates must lie within its horizon (a typo guard);
    ``dates_within_horizon=False`` lets a run be cut short with --years instead."""
    root = Table(doc, "", origins)
    # Catalog first: sites refer to it by name.
    cooling = tuple(cooling_type(name, t) for name, t in root.named_tables("cooling"))
    cooling_names = {c.name: c for c in cooling}
    gpus = tuple(gpu_model(name, t, cooling_names) for name, t in root.named_tables("gpus"))
    regions = tuple(region(name, t) for name, t in root.named_tables("regions"))
    supplies = tuple(
        equipment_supply(name, t, "transformer")
        for name, t in root.named_tables("transformer_supplies")
    )
    switchgear = tuple(
        equipment_supply(name, t, "switchgear")
        for name, t in root.named_tables("switchgear_supplies", default={})
    )
    turbines = tuple(
        equipment_supply(name, t, "turbine")
        for name, t in root.named_tables("turbine_supplies", default={})
    )
    chips = tuple(gpu_supply(name, t) for name, t in root.named_tables("gpu_supplies", default={}))

    sites_raw = root.raw("sites")
    if not isinstance(sites_raw, dict) or not sites_raw:
        raise root.error(
            "sites",
            sites_raw,
            'at least one site (a site file, or scenario.sites = ["site.toml", ...])',
        )
    scen = root.sub("scenario", root.raw("scenario"))
    start = _start_date(scen, sites_raw, origins)
    horizon = scen.quantity("horizon", DURATION, default=DEFAULT_HORIZON)
    if not horizon_fits(start, horizon):
        raise scen.error("horizon", scen.data.get("horizon", DEFAULT_HORIZON), HORIZON_LIMIT)
    seed = scen.integer("seed", limits.SEED, default=0)
    supply_names = [s.name for s in supplies]
    default_supply = scen.reference(
        "transformer_supply",
        supply_names,
        "transformer supply",
        default=DEFAULT_SUPPLY
        if DEFAULT_SUPPLY in supply_names
        else (supply_names[0] if supply_names else DEFAULT_SUPPLY),
    )
    name = scen.string("name", default=next(iter(sites_raw)))
    routing = scen.string("routing", default="fixed", choices=ROUTING_POLICIES)
    transit = scen.distribution("transit_time", DURATION, default="0 day", positive=False)
    scen.raw("catalog", None)  # already acted on when the files were read
    scen.done()

    refs = Refs(
        gpus={g.name: g for g in gpus},
        cooling=cooling_names,
        regions=[r.name for r in regions],
        supplies=supply_names,
        default_supply=default_supply,
        switchgear=[s.name for s in switchgear],
        turbines=[s.name for s in turbines],
        chips=[s.name for s in chips],
        start=start,
        horizon=horizon if dates_within_horizon else None,
    )
    sites = tuple(
        _site(site_name, t, refs) for site_name, t in root.named_tables("sites", limit=limits.SITES)
    )
    root.raw("overrides", None)
    root.done()
    scenario = Scenario(
        name=name,
        start_date=start,
        horizon_days=horizon,
        seed=seed,
        sites=sites,
        gpus=gpus,
        cooling=cooling,
        regions=regions,
        transformer_supplies=supplies,
        switchgear_supplies=switchgear,
        turbine_supplies=turbines,
        gpu_supplies=chips,
        routing=routing,
        transit_time=transit,
        source_file=origins.default,
    )
    budget.check(scenario, origins)
    return scenario


def _start_date(scen: Table, sites_raw: dict[str, Any], origins: Origins) -> dt.date:
    if scen.has("start_date"):
        value = scen.raw("start_date")
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise scen.error("start_date", value, "a date written as YYYY-MM-DD without quotes")
        if not limits.EARLIEST <= value <= limits.LATEST:
            raise scen.error(
                "start_date", value, f"a date from {limits.EARLIEST} to {limits.LATEST}"
            )
        return value
    starts = []
    for name, site in sites_raw.items():
        value = site.get("start_date") if isinstance(site, dict) else None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            starts.append(value)
        else:
            path = f"sites.{name}.start_date"
            raise SpecError.at(
                origins(path),
                path,
                value if value is not None else "<nothing: the key is missing>",
                "the site's start date written as YYYY-MM-DD without quotes",
            )
    return min(starts)


# ------------------------------------------------------------------ sites
def _site(name: str, t: Table, refs: Refs) -> Site:
    t.string("name")
    site_start = t.raw("start_date")
    if isinstance(site_start, dt.datetime) or not isinstance(site_start, dt.date):
        raise t.error("start_date", site_start, "a date written as YYYY-MM-DD without quotes")
    t.date("start_date", refs.start, refs.horizon)

    def date(table: Table, key: str, default: object = None) -> float:
        if default is None:
            return table.date(key, refs.start, refs.horizon)
        return table.date(key, refs.start, refs.horizon, default=default)

    ic = t.sub("interconnection", t.raw("interconnection"))
    request_mw = ic.quantity("request", POWER)
    request_date = date(ic, "request_date")
    tranches = tuple(parts.tranche(tr, date) for tr in ic.tables("tranches", default=[])) or (
        Tranche(request_mw, request_date),
    )
    total = sum(tr.mw for tr in tranches)
    if abs(total - request_mw) > 1e-6 * max(1.0, request_mw):
        raise ic.error(
            "tranches",
            ic.data.get("tranches"),
            f"tranches that add up to the request ({ic.data['request']!r});"
            f" they add up to {total:g} MW",
        )
    interconnection = Interconnection(
        request_mw=request_mw,
        request_date=request_date,
        region=ic.reference("region", refs.regions, "region"),
        tranches=tranches,
        existing_mw=ic.quantity("existing", POWER, default="0 MW", positive=False),
        interim_service=ic.boolean("interim_service", default=False),
        ramp_mw_per_day=parts.ramp(ic),
        flexible_curtailment=(
            ic.number("flexible_curtailment", high=0.99) if ic.has("flexible_curtailment") else None
        ),
        source=ic.string("source", default=""),
    )
    ic.done()

    sub = t.sub("substation", t.raw("substation"))
    policy = sub.string("order_policy", choices=ORDER_POLICIES)
    owned = date(sub, "delivery") if policy == "owned" else None
    if policy != "owned" and sub.has("delivery"):
        raise sub.error(
            "delivery", sub.data["delivery"], 'no delivery date unless order_policy = "owned"'
        )
    substation = Substation(
        transformers=sub.integer("transformers", limits.UNITS, minimum=1),
        rating_mva=sub.quantity("rating", APPARENT_POWER),
        power_factor=sub.number("power_factor", default=0.95, low=0.0, high=1.0, low_open=True),
        order_policy=policy,
        owned_delivery=owned,
        spares=sub.integer("spares", limits.UNITS, default=0),
        switchgear_supply=parts.optional_supply(
            sub, "switchgear_supply", refs.switchgear, "switchgear"
        ),
        source=sub.string("source", default=""),
    )
    if policy == "owned" and substation.switchgear_supply is not None:
        raise sub.error(
            "switchgear_supply",
            substation.switchgear_supply,
            'no switchgear supply with order_policy = "owned" (an owned substation has its own)',
        )
    if substation.spares >= substation.transformers:
        raise sub.error(
            "spares",
            substation.spares,
            f"fewer spares than transformers ({substation.transformers})",
        )
    sub.done()

    construction = t.sub("construction", t.raw("construction", {}))
    crews = construction.integer("crews", limits.UNITS, default=1, minimum=1)
    construction.done()

    halls = tuple(parts.hall(h, refs, date, crews) for h in t.tables("halls"))
    if not halls:
        raise t.error("halls", [], "at least one hall ([[halls]])")
    hall_names = [h.name for h in halls]
    if len(set(hall_names)) != len(hall_names):
        raise t.error("halls", hall_names, "halls with distinct names")
    retrofits = tuple(
        parts.retrofit(r, refs, date, hall_names) for r in t.tables("retrofits", default=[])
    )
    retrofitted = [r.hall for r in retrofits]
    for index, hall in enumerate(retrofitted):
        if hall in retrofitted[:index]:
            raise t.error(
                f"retrofits[{index}].hall",
                hall,
                "at most one retrofit per hall (a retrofit converts the whole hall)",
            )
    lots = tuple(parts.lot(i, entry, refs, date) for i, entry in enumerate(t.tables("lots")))
    if not lots:
        raise t.error("lots", [], "at least one GPU lot ([[lots]])")
    lot_names = [lot.name for lot in lots]
    if len(set(lot_names)) != len(lot_names):
        raise t.error("lots", lot_names, "lots with distinct names")
    plant = (
        parts.onsite(t.sub("onsite", t.raw("onsite")), date, site_start, refs)
        if t.has("onsite")
        else None
    )

    inst = t.sub("installation", t.raw("installation"))
    installation = Installation(
        rate_per_day=inst.quantity("rate", GPU_RATE),
        batch=inst.integer("batch", limits.GPUS_PER_LOT, default=DEFAULT_BATCH, minimum=1),
        source=inst.string("source", default=""),
    )
    inst.done()

    econ = t.sub("economics", t.raw("economics"))
    economics = Economics(
        depreciation_days=econ.quantity("depreciation_life", DURATION),
        gpu_price_usd=econ.quantity("gpu_price", MONEY) if econ.has("gpu_price") else None,
        source=econ.string("source", default=""),
    )
    econ.done()

    site = Site(
        name=name,
        location=t.string("location", default=""),
        start_date=site_start,
        transformer_supply=t.reference(
            "transformer_supply", refs.supplies, "transformer supply", default=refs.default_supply
        ),
        interconnection=interconnection,
        substation=substation,
        construction_crews=crews,
        halls=halls,
        retrofits=retrofits,
        lots=lots,
        onsite=plant,
        installation=installation,
        economics=economics,
        source=t.string("source", default=""),
        dispatch=t.string("dispatch", default="most_gpus", choices=DISPATCH_POLICIES),
    )
    t.done()
    return site
