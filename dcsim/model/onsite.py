"""On-site (bridge) generation: a permit, a lead time, then blocks of MW."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dcsim.model.site import Proc, SiteModel


def generate(site: SiteModel) -> Proc:
    onsite = site.spec.onsite
    assert onsite is not None
    rng = site.stream("onsite")
    permit, lead = onsite.permit_time.sample(rng), onsite.lead_time.sample(rng)
    yield site.at(onsite.start)
    yield site.env.timeout(permit)
    site.log("onsite", "onsite_permit_granted", "onsite", onsite.total_mw, "MW")
    yield site.env.timeout(lead)
    for block in range(onsite.blocks):
        if block > 0:
            gap = onsite.block_interval.sample(rng)
            if gap > 0:
                yield site.env.timeout(gap)
        if "onsite" not in site.relaxed:
            site.power.onsite_mw += onsite.block_mw
        site.log("onsite", "onsite_block_online", f"onsite/block-{block + 1}",
                 onsite.block_mw, "MW")
        site.changed()
