"""GPU lots: delivery at the contracted date plus a delay, then installation by crews
into commissioned space whose cooling fits."""

from __future__ import annotations

from dcsim.input.spec import Lot
from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext


def start(site: SiteContext) -> None:
    for index, lot in enumerate(site.spec.lots):
        site.env.process(deliver(site, index, lot))
    site.env.process(install(site))


def deliver(site: SiteContext, index: int, lot: Lot) -> Proc:
    delay = lot.delay.sample(site.stream(f"lot:{lot.name}"))
    yield site.at(lot.delivery + delay)
    site.log(Event.LOT_DELIVERED, lot.name, lot.count, "GPU", f"{lot.model}, {delay:.1f} days late")
    site.deliver(index)


def install(site: SiteContext) -> Proc:
    """Crews bring GPUs into service in batches, where commissioned, fitting space waits."""
    rate, batch = site.spec.installation.rate_per_day, site.spec.installation.batch
    installed = [0] * len(site.spec.lots)
    while True:
        index, count = site.next_install_batch(batch)
        if count == 0:
            yield site.space_opened()
            continue
        yield site.env.timeout(count / rate)
        lot = site.spec.lots[index]
        installed[index] += count
        site.log(Event.GPUS_INSTALLED, lot.name, count, "GPU", f"{installed[index]} of {lot.count}")
        site.install(index, count)
