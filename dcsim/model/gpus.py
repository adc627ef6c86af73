"""GPU lots: delivery at the contracted date plus a delay, or, for a lot ordered from a
GPU supply (:mod:`~dcsim.model.chips`), when the supply has made and shipped it.

Installation by crews into commissioned space whose cooling fits is decided
at the end of each instant, by the site (:meth:`~dcsim.model.site_core.SiteCore.settle`).
"""

from __future__ import annotations

from dcsim.input.spec import Lot
from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext


def start(site: SiteContext) -> None:
    for index, lot in enumerate(site.spec.lots):
        site.env.process(deliver(site, index, lot))


def deliver(site: SiteContext, index: int, lot: Lot) -> Proc:
    delay = lot.delay.sample(site.stream(f"lot:{lot.name}"))
    if lot.supply is not None:
        yield site.at(lot.delivery)
        supply = site.chip_supply(lot.supply)
        backlog = f"{lot.model} from {lot.supply}, backlog {supply.backlog_days():.0f} days"
        site.log(Event.GPUS_ORDERED, lot.name, lot.count, "GPU", backlog)
        rng = site.stream(f"lot:{lot.name}/supply")
        lead = yield site.env.process(supply.order(lot.count, rng))
        site.record_lead_time(lead, "gpu")
        yield site.at(site.env.now + delay)  # the lot's own delay, after the supply ships
    else:
        yield site.at(lot.delivery + delay)
    late = "after the supply shipped it" if lot.supply else "late"
    pooled = lot.pooled and site.routes
    where = ", to the fleet" if pooled else ""
    detail = f"{lot.model}, {delay:.1f} days {late}{where}"
    site.log(Event.LOT_DELIVERED, lot.name, lot.count, "GPU", detail)
    if pooled:
        site.to_fleet(index)  # the fleet routes it to a site (dcsim.model.fleet)
    else:
        site.deliver(index)
