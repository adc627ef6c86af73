"""The event budget: refuse a scenario that would take too many events to simulate.

Cost grows with the number of events, so a value that looks harmless
("1e15 requests/day", a cluster window of a microsecond, 10 million GPUs
installed one at a time) can make a run that never ends. Before anything
runs, the events of one replication are estimated from the counts and rates
that drive them; past :data:`~dcsim.input.limits.EVENTS` the scenario is
refused with the estimate and the key that drives it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dcsim.errors import SpecError
from dcsim.input.limits import EVENTS
from dcsim.input.spec import Scenario


def estimate(scenario: Scenario, horizon_days: float) -> dict[str, float]:
    """Events of one replication, roughly, by the key that drives them."""
    used_regions = {site.region for site in scenario.sites}
    drivers: dict[str, float] = {}
    for region in scenario.regions:
        if region.name not in used_regions:
            continue
        per_request = 2 * len(region.phases) + 8  # rows and SimPy events of one request
        key = f"regions.{region.name}"
        span = horizon_days + region.warm_up  # the queue runs from the start of its warm-up
        drivers[f"{key}.background_rate"] = region.background_rate * span * per_request
        drivers[f"{key}.initial_backlog"] = region.initial_backlog * per_request
        if region.warm_up:
            drivers[f"{key}.warm_up"] = region.background_rate * region.warm_up * per_request
        if region.discipline == "cluster":
            drivers[f"{key}.cluster_window"] = span / region.cluster_window
    for kind, name in scenario.used_markets():
        supply = scenario.supply(kind, name)
        key = f"{kind}_supplies.{name}"
        # Background orders are a SimPy event each once the start date is reached.
        rate = max([supply.background_rate, *(r for _, r in supply.background_steps)])
        drivers[f"{key}.background_rate"] = rate * horizon_days
        drivers[f"{key}.initial_backlog"] = float(supply.initial_backlog)
        if supply.warm_up:  # a warm-up order costs a step of the heap, about as much
            drivers[f"{key}.warm_up"] = rate * supply.warm_up
    for chips in scenario.used_gpu_supplies():
        # A background order costs a step of the supply's recursion, warm-up or not.
        key = f"gpu_supplies.{chips.name}"
        rate = max([chips.background_rate, *(r for _, r in chips.background_steps)])
        drivers[f"{key}.background_demand"] = rate * (horizon_days + chips.warm_up)
    for site in scenario.sites:
        key = f"sites.{site.name}"
        batches = sum(math.ceil(lot.count / site.installation.batch) for lot in site.lots)
        drivers[f"{key}.installation.batch"] = 3.0 * batches
        drivers[f"{key}.lots"] = 4.0 * len(site.lots)
        drivers[f"{key}.halls"] = 6.0 * (len(site.halls) + len(site.retrofits))
        drivers[f"{key}.substation.transformers"] = 6.0 * site.substation.transformers
        if site.onsite is not None:
            drivers[f"{key}.onsite.blocks"] = 3.0 * site.onsite.blocks
    return drivers


def check(
    scenario: Scenario, source: Callable[[str], str], horizon_days: float | None = None
) -> None:
    """Refuse ``scenario`` if one replication would take more events than the budget.

    ``source`` names the file a dotted key came from (as :class:`Origins` does).
    """
    horizon = scenario.horizon_days if horizon_days is None else horizon_days
    drivers = estimate(scenario, horizon)
    total = sum(drivers.values())
    if total <= EVENTS.most:
        return
    key = max(drivers, key=lambda k: drivers[k])
    raise SpecError(
        f"{source(key)}: {key}: this scenario would take about {total:,.0f} events per replication"
        f" over its {horizon / 365.25:g}-year horizon, {drivers[key]:,.0f} of them driven by"
        f" {key}; the budget is {EVENTS.most:,}. Lower that value (or shorten the horizon)."
    )
