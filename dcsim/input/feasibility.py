"""Sites that load but cannot work as written: warnings for ``dcsim check``.

Each is a file that is valid, key by key, yet describes a site some of whose
GPUs can never run within the horizon, or never at all: more GPU power than
the halls hold, a cooling no hall has or will get, lots that arrive after the
horizon, a grid request or a substation smaller than the site's own peak
demand. ``dcsim check`` prints them and exits 0; ``--strict`` makes them errors.
"""

from __future__ import annotations

from dcsim.input.spec import Scenario, Site


def site_warnings(scenario: Scenario) -> list[str]:
    """One sentence per problem, each naming the site and the key to look at."""
    out: list[str] = []
    for site in scenario.sites:
        out.extend(_site(scenario, site))
    return out


def _site(scenario: Scenario, site: Site) -> list[str]:
    key = f"sites.{site.name}"
    cooling = {c.name: c for c in scenario.cooling}
    models = {lot.model: scenario.gpu(lot.model) for lot in site.lots}
    out = []
    gpu_mw = sum(lot.count * models[lot.model].it_kw for lot in site.lots) / 1000.0
    hall_mw = sum(h.it_mw for h in site.halls)
    if gpu_mw > hall_mw * (1 + 1e-9):
        out.append(
            f"{key}.lots: the GPUs draw {gpu_mw:,.1f} MW of IT power and the halls hold"
            f" {hall_mw:,.1f} MW: {gpu_mw - hall_mw:,.1f} MW of GPUs can never run"
        )
    # The best cooling each hall ever has: as built, or after a retrofit.
    best = {h.name: cooling[h.cooling].level for h in site.halls}
    for retrofit in site.retrofits:
        best[retrofit.hall] = max(best[retrofit.hall], cooling[retrofit.to].level)
    top = max(best.values(), default=-1)
    hostable_mw = 0.0  # IT MW of the GPUs some hall can host, now or after a retrofit
    for index, lot in enumerate(site.lots):
        model = models[lot.model]
        needed = cooling[model.cooling]
        if needed.level > top:
            out.append(
                f"{key}.lots[{index}] ({lot.name}): {lot.model} needs {needed.name} cooling"
                f" (level {needed.level}) and no hall has or gets it by a retrofit:"
                f" its {lot.count:,} GPUs can never run"
            )
        else:
            hostable_mw += lot.count * model.it_kw / 1000.0
        arrival = lot.delivery + lot.delay.mean
        if arrival >= scenario.horizon_days:
            verb = f"ordered from {lot.supply}" if lot.supply else "delivered"
            out.append(
                f"{key}.lots[{index}] ({lot.name}): {verb} {lot.delivery:,.0f} days in plus"
                f" a mean delay of {lot.delay.mean:,.0f} days, on or after the horizon"
                f" ({scenario.horizon_days:,.0f} days): in most replications it never arrives"
            )
    ic, sub = site.interconnection, site.substation
    pue = _final_pue(scenario, site)
    peak = min(hostable_mw, hall_mw) * pue
    grid = ic.request_mw + ic.existing_mw
    # On-site blocks count unless they retire once the grid carries the request.
    keeps = site.onsite is not None and not site.onsite.retire_when_grid
    onsite = site.onsite.total_mw if keeps and site.onsite is not None else 0.0
    if grid + onsite < peak * (1 - 1e-9):
        out.append(
            f"{key}.interconnection.request: {ic.request_mw:,.1f} MW"
            + (f" (+ {ic.existing_mw:,.1f} MW existing)" if ic.existing_mw else "")
            + (f" (+ {onsite:,.1f} MW on site)" if onsite else "")
            + f" is less than the site's peak facility demand, {peak:,.1f} MW"
            f" ({min(hostable_mw, hall_mw):,.1f} MW of IT at peak PUE {pue:.2f}): some GPUs"
            " never run"
        )
    plant = site.onsite
    # With turbines or switchgear from a market, a spare whose gear comes first carries load
    # until the others' gear comes; without either, a spare only ever stands in for outages.
    if (
        plant is not None
        and plant.spare_blocks
        and not plant.forced_outage_rate
        and plant.turbine_supply is None
        and plant.switchgear_supply is None
    ):
        out.append(
            f"{key}.onsite.spare_blocks: {plant.spare_blocks} spare block(s) stand by for"
            " outages, and forced_outage_rate is 0: they never run (give the rate, or drop them)"
        )
    carrying = (sub.transformers - sub.spares) * sub.rating_mva * sub.power_factor
    if carrying < ic.request_mw * (1 - 1e-9):
        out.append(
            f"{key}.substation: {sub.transformers - sub.spares} carrying transformer(s) x"
            f" {sub.rating_mva:g} MVA x power factor {sub.power_factor:g} carry"
            f" {carrying:,.1f} MW, less than the {ic.request_mw:,.1f} MW requested"
        )
    return out


def _final_pue(scenario: Scenario, site: Site) -> float:
    """IT-weighted PUE of the halls once every retrofit is done."""
    cooling = {c.name: c for c in scenario.cooling}
    final = {h.name: h.cooling for h in site.halls}
    for retrofit in site.retrofits:
        final[retrofit.hall] = retrofit.to
    total = sum(h.it_mw for h in site.halls)
    return sum(h.it_mw * cooling[final[h.name]].peak_pue for h in site.halls) / total
