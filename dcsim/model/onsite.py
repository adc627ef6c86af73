"""On-site (bridge) generation: a permit, a lead time, then blocks of MW."""

from __future__ import annotations

from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext

LAYER = "onsite"


def generate(site: SiteContext) -> Proc:
    onsite = site.spec.onsite
    assert onsite is not None
    rng = site.stream("onsite")
    permit, lead = onsite.permit_time.sample(rng), onsite.lead_time.sample(rng)
    yield site.at(onsite.start)
    yield site.env.timeout(permit)
    site.log(Event.ONSITE_PERMIT_GRANTED, "onsite", onsite.total_mw, "MW")
    yield site.env.timeout(lead)
    for block in range(onsite.blocks):
        if block > 0:
            gap = onsite.block_interval.sample(rng)
            if gap > 0:
                yield site.env.timeout(gap)
        site.log(Event.ONSITE_BLOCK_ONLINE, f"onsite/block-{block + 1}", onsite.block_mw, "MW")
        site.add_power(LAYER, onsite.block_mw)
