"""Plain-text descriptions of a loaded scenario, for ``dcsim check``."""

from __future__ import annotations

from collections import Counter

from dcsim.input.spec import Scenario, Site


def describe(scenario: Scenario) -> str:
    end = scenario.date_of(scenario.horizon_days).date()
    lines = [
        f"scenario {scenario.name}: {len(scenario.sites)} site(s), start {scenario.start_date},"
        f" horizon {scenario.horizon_days / 365.25:g} years (to {end}), seed {scenario.seed}",
    ]
    pooled = sum(lot.pooled for site in scenario.sites for lot in site.lots)
    if pooled:
        transit = scenario.transit_time.mean
        how = (f"routed {scenario.routing}, {transit:.0f} days on average to another site"
               if scenario.routes else "routing fixed: each goes to its own site")  # fmt: skip
        lines.append(f"  fleet: {pooled} pooled lot(s), {how}")
    for site in scenario.sites:
        lines.extend(_site(scenario, site))
    return "\n".join(lines)


def _site(scenario: Scenario, site: Site) -> list[str]:
    ic, sub = site.interconnection, site.substation

    def date(days: float) -> str:
        return scenario.date_of(days).date().isoformat()

    models = Counter[str]()
    for lot in site.lots:
        models[lot.model] += lot.count
    deliveries = [lot.delivery for lot in site.lots if not lot.ordered]
    orders = [lot.delivery for lot in site.lots if lot.ordered]
    it_mw = sum(h.it_mw for h in site.halls)
    cooling = Counter(h.cooling for h in site.halls)
    out = [
        f"  site {site.name} ({site.location or 'no location given'}), region {site.region}",
        f"    grid request   {ic.request_mw:g} MW on {date(ic.request_date)}"
        f" in {len(ic.tranches)} tranche(s)"
        + (f", {ic.existing_mw:g} MW already energized" if ic.existing_mw else ""),
        f"    transformers   {sub.transformers} x {sub.rating_mva:g} MVA"
        f" (pf {sub.power_factor:g}, {sub.spares} spare), order policy {sub.order_policy}"
        + (f", delivered {date(sub.owned_delivery)}" if sub.owned_delivery is not None else "")
        + (f", switchgear from {sub.switchgear_supply}" if sub.switchgear_supply else ""),
        f"    halls          {len(site.halls)}, {it_mw:g} MW IT ("
        + ", ".join(f"{n} {c}" for c, n in sorted(cooling.items()))
        + ")"
        + f", {site.construction_crews} crew(s)",
    ]
    if site.retrofits:
        out.append(
            f"    retrofits      {len(site.retrofits)}: "
            + ", ".join(
                f"{r.hall} -> {r.to} " + ("when needed" if r.at is None else f"at {date(r.at)}")
                for r in site.retrofits
            )
        )
    if site.onsite is not None:
        o = site.onsite
        gear = [
            f"{what} from {name}"
            for what, name in (("turbines", o.turbine_supply), ("switchgear", o.switchgear_supply))
            if name
        ]
        if o.spare_blocks:
            gear.append(f"{o.spare_blocks} spare block(s)")
        if o.forced_outage_rate:
            gear.append(f"each out {o.forced_outage_rate:.0%} of the time")
        if o.retire_when_grid:
            gear.append("retired once the grid carries the request")
        out.append(f"    on-site power  {o.blocks} x {o.block_mw:g} MW = {o.total_mw:g} MW"
                   + (f", {', '.join(gear)}" if gear else ""))  # fmt: skip
    when = []
    if deliveries:
        when.append(f"contracted for {date(min(deliveries))} to {date(max(deliveries))}")
    if orders:
        rule = {s.name: s.allocation for s in scenario.gpu_supplies}
        names = [n + (" (pro rata)" if rule.get(n) == "pro_rata" else "")
                 for n in sorted(site.gpu_supplies())]  # fmt: skip
        when.append(f"{len(orders)} ordered from {', '.join(names)}"
                    f" from {date(min(orders))} to {date(max(orders))}")  # fmt: skip
    pooled = [lot.name for lot in site.lots if lot.pooled]
    if pooled:
        when.append("pooled: " + ", ".join(pooled))
    out.append(
        f"    GPU lots       {len(site.lots)}, {site.gpu_count:,} GPUs ("
        + ", ".join(f"{m} {n:,}" for m, n in sorted(models.items()))
        + "), "
        + "; ".join(when)
    )
    dispatch = f"; dispatch {site.dispatch}" if site.dispatch != "most_gpus" else ""
    out.append(f"    installation   {site.installation.rate_per_day * 7:g} GPUs/week{dispatch}")
    return out
