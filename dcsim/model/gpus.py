"""GPU lots: delivery at the contracted date plus a delay, then installation by crews
into commissioned space whose cooling fits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.model.allocation import LotLoad, place
from dcsim.model.cooling import trigger_retrofits
from dcsim.model.layers import ready_space
from dcsim.spec import Lot

if TYPE_CHECKING:
    from dcsim.model.site import Proc, SiteModel


def deliver(site: SiteModel, index: int, lot: Lot) -> Proc:
    delay = lot.delay.sample(site.stream(f"lot:{lot.name}"))
    yield site.at(lot.delivery + delay)
    state = site.lots[index]
    state.on_site = state.count
    site.log("gpus", "lot_delivered", lot.name, lot.count, "GPU",
             f"{lot.model}, {delay:.1f} days late")
    trigger_retrofits(site, state)
    site.changed()


def install(site: SiteModel) -> Proc:
    """Crews bring GPUs into service in batches, where commissioned, fitting space waits."""
    rate, batch = site.spec.installation.rate_per_day, site.spec.installation.batch
    instant = "installation" in site.relaxed
    if instant:
        batch = site.spec.gpu_count
    while True:
        index, count = next_batch(site, batch)
        if count == 0:
            site.wake = site.env.event()
            yield site.wake
            continue
        if not instant:
            yield site.env.timeout(count / rate)
        lot = site.lots[index]
        lot.installed += count
        site.log("gpus", "gpus_installed", lot.name, count, "GPU",
                 f"{lot.installed} of {lot.count}")
        site.changed()


def next_batch(site: SiteModel, batch: int) -> tuple[int, int]:
    loads = [LotLoad(lot.on_site, lot.kw, lot.level) for lot in site.lots]
    ready = ready_space(site.halls)
    fits = place(loads, ready)
    for index, lot in enumerate(site.lots):
        room = min(fits[index], lot.on_site) - lot.installed
        if room > 0:
            return index, min(batch, room)
    return 0, 0

