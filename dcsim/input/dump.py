"""A :class:`~dcsim.input.spec.Scenario` back to a document and to TOML.

The output is a scenario file that names no catalog folder (everything is
inline), with every quantity in canonical units written with ``repr`` so that
reading it back gives the very same floats.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import tomli_w

from dcsim.input.distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    Triangular,
    Uniform,
)
from dcsim.input.spec import EquipmentSupply, GpuSupply, Hall, Lot, Region, Retrofit, Scenario, Site
from dcsim.input.units import (
    APPARENT_POWER,
    DURATION,
    ENERGY_PRICE,
    GPU_HOUR_VALUE,
    GPU_POWER,
    GPU_RATE,
    MONEY,
    POWER,
    POWER_RAMP,
    RACK_POWER,
    REQUEST_RATE,
    UNIT_RATE,
    Dimension,
    format_quantity,
)


def to_document(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain dicts, lists, strings and dates."""
    date = _dater(scenario)
    doc: dict[str, Any] = {
        "scenario": {
            "name": scenario.name,
            "start_date": scenario.start_date,
            "horizon": format_quantity(scenario.horizon_days, DURATION),
            "seed": scenario.seed,
            "routing": scenario.routing,
            "transit_time": dist(scenario.transit_time, DURATION),
            "catalog": False,
        },
        "sites": {site.name: _site(site, date) for site in scenario.sites},
        "gpus": {
            g.name: _clean(
                {
                    "it_power": format_quantity(g.it_kw, GPU_POWER),
                    "cooling": g.cooling,
                    "price": format_quantity(g.price_usd, MONEY),
                    "value_per_gpu_hour": format_quantity(g.value_per_hour_usd, GPU_HOUR_VALUE),
                    "value_decline": g.value_decline,
                    "source": g.source,
                }
            )
            for g in scenario.gpus
        },
        "cooling": {
            c.name: _clean(
                {
                    "level": c.level,
                    "max_rack_power": format_quantity(c.max_rack_kw, RACK_POWER),
                    "pue": c.pue,
                    "peak_pue": c.peak_pue_value,
                    "source": c.source,
                }
            )
            for c in scenario.cooling
        },
        "regions": {r.name: _region(r) for r in scenario.regions},
        "transformer_supplies": {s.name: _supply(s) for s in scenario.transformer_supplies},
        "switchgear_supplies": {s.name: _supply(s) for s in scenario.switchgear_supplies},
        "turbine_supplies": {s.name: _supply(s) for s in scenario.turbine_supplies},
        "gpu_supplies": {s.name: _gpu_supply(s) for s in scenario.gpu_supplies},
    }
    return doc


def to_toml(scenario: Scenario) -> str:
    header = (
        f"# Fully resolved dcsim scenario '{scenario.name}' (dcsim check --dump).\n"
        "# Canonical units: days, MW, kW per GPU, USD. Read back with dcsim check.\n\n"
    )
    return header + tomli_w.dumps(to_document(scenario))


def dist(d: Distribution, dim: Dimension) -> str | dict[str, Any]:

    def q(value: float) -> str:
        return format_quantity(value, dim)

    if isinstance(d, Fixed):
        return q(d.value)
    if isinstance(d, Uniform):
        return {"dist": "uniform", "low": q(d.low), "high": q(d.high)}
    if isinstance(d, Triangular):
        return {"dist": "triangular", "low": q(d.low), "mode": q(d.mode), "high": q(d.high)}
    if isinstance(d, LogNormal):
        return {"dist": "lognormal", "median": q(d.median), "sigma": d.sigma}
    if isinstance(d, Exponential):
        return {"dist": "exponential", "mean": q(d.mean_value)}
    assert isinstance(d, Empirical)
    return {"dist": "empirical", "values": [q(v) for v in d.values]}


def _dater(scenario: Scenario) -> Any:
    def date(days: float) -> dt.date | dt.datetime:
        when = scenario.date_of(days)
        return when.date() if when.time() == dt.time() else when

    return date


def _clean(table: dict[str, Any]) -> dict[str, Any]:
    """Leave out empty sources and unset optional values."""
    return {k: v for k, v in table.items() if v is not None and v != ""}


def _site(site: Site, date: Any) -> dict[str, Any]:
    ic, sub = site.interconnection, site.substation
    table: dict[str, Any] = _clean(
        {
            "name": site.name,
            "location": site.location,
            "start_date": site.start_date,
            "transformer_supply": site.transformer_supply,
            "dispatch": None if site.dispatch == "most_gpus" else site.dispatch,
            "source": site.source,
        }
    )
    table["interconnection"] = _clean(
        {
            "request": format_quantity(ic.request_mw, POWER),
            "request_date": date(ic.request_date),
            "region": ic.region,
            "tranches": [
                {"power": format_quantity(t.mw, POWER), "earliest": date(t.earliest)}
                for t in ic.tranches
            ],
            "existing": format_quantity(ic.existing_mw, POWER),
            "interim_service": ic.interim_service or None,
            "flexible_curtailment": ic.flexible_curtailment,
            "ramp": None if (r := ic.ramp_mw_per_day) is None else format_quantity(r, POWER_RAMP),
            "source": ic.source,
        }
    )
    table["substation"] = _clean(
        {
            "transformers": sub.transformers,
            "rating": format_quantity(sub.rating_mva, APPARENT_POWER),
            "power_factor": sub.power_factor,
            "order_policy": sub.order_policy,
            "delivery": None if sub.owned_delivery is None else date(sub.owned_delivery),
            "spares": sub.spares,
            "switchgear_supply": sub.switchgear_supply,
            "source": sub.source,
        }
    )
    table["construction"] = {"crews": site.construction_crews}
    table["halls"] = [_hall(h, date) for h in site.halls]
    table["retrofits"] = [_retrofit(r, date) for r in site.retrofits]
    table["lots"] = [_lot(lot, date) for lot in site.lots]
    if site.onsite is not None:
        o = site.onsite
        table["onsite"] = _clean(
            {
                "block": format_quantity(o.block_mw, POWER),
                "blocks": o.blocks,
                "start": date(o.start),
                "permit_time": dist(o.permit_time, DURATION),
                "lead_time": dist(o.lead_time, DURATION),
                "block_interval": dist(o.block_interval, DURATION),
                "spare_blocks": o.spare_blocks,
                "forced_outage_rate": o.forced_outage_rate,
                "repair_time": dist(o.repair_time, DURATION),
                "energy_cost": format_quantity(o.energy_cost_usd_per_mwh, ENERGY_PRICE),
                "retire_when_grid": o.retire_when_grid or None,
                "turbine_supply": o.turbine_supply,
                "switchgear_supply": o.switchgear_supply,
                "source": o.source,
            }
        )
    inst, econ = site.installation, site.economics
    table["installation"] = _clean(
        {
            "rate": format_quantity(inst.rate_per_day, GPU_RATE),
            "batch": inst.batch,
            "source": inst.source,
        }
    )
    table["economics"] = _clean(
        {
            "depreciation_life": format_quantity(econ.depreciation_days, DURATION),
            "gpu_price": None
            if econ.gpu_price_usd is None
            else format_quantity(econ.gpu_price_usd, MONEY),
            "source": econ.source,
        }
    )
    return table


def _hall(h: Hall, date: Any) -> dict[str, Any]:
    return _clean(
        {
            "name": h.name,
            "it_power": format_quantity(h.it_mw, POWER),
            "cooling": h.cooling,
            "construction_start": date(h.construction_start),
            "construction_time": dist(h.construction_time, DURATION),
            "crews": h.crews,
            "commissioning_time": dist(h.commissioning_time, DURATION),
            "source": h.source,
        }
    )


def _retrofit(r: Retrofit, date: Any) -> dict[str, Any]:
    return _clean(
        {
            "hall": r.hall,
            "to": r.to,
            "at": "when_needed" if r.at is None else date(r.at),
            "duration": dist(r.duration, DURATION),
            "offline_share": r.offline_share,
            "source": r.source,
        }
    )


def _lot(lot: Lot, date: Any) -> dict[str, Any]:
    return _clean(
        {
            "name": lot.name,
            "delivery": None if lot.supply else date(lot.delivery),
            "supply": lot.supply,
            "ordered": date(lot.delivery) if lot.supply else None,
            "count": lot.count,
            "model": lot.model,
            "delay": dist(lot.delay, DURATION),
            "pooled": True if lot.pooled else None,
            "source": lot.source,
        }
    )


def _region(r: Region) -> dict[str, Any]:
    return _clean(
        {
            "label": r.label,
            "discipline": r.discipline,
            "study_engineers": r.study_engineers,
            "cluster_window": format_quantity(r.cluster_window, DURATION),
            "phases": [
                {"name": p.name, "duration": dist(p.duration, DURATION), "withdrawal": p.withdrawal}
                for p in r.phases
            ],
            "agreement_time": dist(r.agreement_time, DURATION),
            "energization_time": dist(r.energization_time, DURATION),
            "headroom": format_quantity(r.headroom_mw, POWER),
            "network_upgrade_time": dist(r.network_upgrade_time, DURATION),
            "background_rate": format_quantity(r.background_rate, REQUEST_RATE),
            "background_size": dist(r.background_size, POWER),
            "initial_backlog": r.initial_backlog,
            "warm_up": format_quantity(r.warm_up, DURATION),
            "upgrade_crews": r.upgrade_crews,
            "upgrade_size": format_quantity(r.upgrade_mw, POWER),
            "withdrawal_after_agreement": r.withdrawal_after_agreement,
            "source": r.source,
        }
    )


def _supply(s: EquipmentSupply) -> dict[str, Any]:
    return _clean(
        {
            "output": format_quantity(s.output_per_day, UNIT_RATE),
            "lines": s.lines,
            "design_time": dist(s.design_time, DURATION),
            "transport_time": dist(s.transport_time, DURATION),
            "installation_time": dist(s.installation_time, DURATION),
            "background_rate": format_quantity(s.background_rate, UNIT_RATE),
            "initial_backlog": s.initial_backlog,
            "output_schedule": [
                {"from": when, "output": format_quantity(rate, UNIT_RATE)}
                for when, rate in s.output_steps
            ]
            or None,
            "background_schedule": [
                {"from": when, "rate": format_quantity(rate, UNIT_RATE)}
                for when, rate in s.background_steps
            ]
            or None,
            "warm_up": format_quantity(s.warm_up, DURATION) if s.warm_up else None,
            "source": s.source,
        }
    )


def _gpu_supply(s: GpuSupply) -> dict[str, Any]:
    def per_day(orders: float) -> str:
        return format_quantity(orders * s.background_order, GPU_RATE)

    return _clean(
        {
            "output": format_quantity(s.output_per_day, GPU_RATE),
            "transport_time": dist(s.transport_time, DURATION),
            "background_demand": per_day(s.background_rate),
            "background_order": s.background_order,
            "initial_backlog": s.initial_backlog,
            "allocation": s.allocation if s.allocation != "fcfs" else None,
            "output_schedule": [
                {"from": when, "output": format_quantity(rate, GPU_RATE)}
                for when, rate in s.output_steps
            ]
            or None,
            "background_schedule": [
                {"from": when, "demand": per_day(rate)} for when, rate in s.background_steps
            ]
            or None,
            "warm_up": format_quantity(s.warm_up, DURATION) if s.warm_up else None,
            "source": s.source,
        }
    )
