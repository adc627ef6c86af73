"""GPU lots: delivery at the contracted date plus a delay.

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
    yield site.at(lot.delivery + delay)
    site.log(Event.LOT_DELIVERED, lot.name, lot.count, "GPU", f"{lot.model}, {delay:.1f} days late")
    site.deliver(index)
