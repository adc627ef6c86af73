"""On-site (bridge) generation: a permit, a lead time, then blocks of MW that fail at times.

``blocks`` blocks carry the load; ``spare_blocks`` more (N+1 and so on) stand by and carry
it only while another is out. Each block, spares too, is out a ``forced_outage_rate``
share of the time: it runs an exponential time (mean repair x (1 - rate) / rate), then is
repaired for ``repair_time``, from a random stream of its own, so adding a spare never
changes when the others fail. With ``retire_when_grid`` the plant is switched off once
grid and substation carry the whole request.
"""

from __future__ import annotations

import math

from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext

LAYER = "onsite"


class Plant:
    """The blocks online now, and what they carry."""

    def __init__(self, site: SiteContext) -> None:
        self.site = site
        spec = site.spec.onsite
        assert spec is not None
        self.spec = spec
        self.up = 0  # blocks online and not out
        self.retired = False

    def carrying_mw(self) -> float:
        return min(self.up, self.spec.blocks) * self.spec.block_mw

    def _set(self) -> None:
        self.site.set_power(LAYER, 0.0 if self.retired else self.carrying_mw())

    def build(self) -> Proc:
        spec, site = self.spec, self.site
        rng = site.stream("onsite")
        permit, lead = spec.permit_time.sample(rng), spec.lead_time.sample(rng)
        yield site.at(spec.start)
        yield site.env.timeout(permit)
        site.log(Event.ONSITE_PERMIT_GRANTED, "onsite", spec.total_mw, "MW")
        yield site.env.timeout(lead)
        for block in range(spec.blocks + spec.spare_blocks):
            if block > 0:
                gap = spec.block_interval.sample(rng)
                if gap > 0:
                    yield site.env.timeout(gap)
            if self.retired:
                return
            name = f"onsite/block-{block + 1}"
            spare = "spare" if block >= spec.blocks else ""
            site.log(Event.ONSITE_BLOCK_ONLINE, name, spec.block_mw, "MW", spare)
            self.up += 1
            self._set()
            if spec.forced_outage_rate > 0:
                site.env.process(self._outages(name))

    def _outages(self, name: str) -> Proc:
        spec, site = self.spec, self.site
        rng = site.stream(f"{name}/outages")
        rate = spec.forced_outage_rate
        mean_up = spec.repair_time.mean * (1.0 - rate) / rate
        while True:
            yield site.env.timeout(-mean_up * math.log1p(-rng.random()))
            repair = spec.repair_time.sample(rng)
            if self.retired:
                return
            self.up -= 1
            self._set()
            site.log(Event.ONSITE_BLOCK_OUT, name, self.carrying_mw(), "MW",
                     f"repair {repair:.1f} days")  # fmt: skip
            yield site.env.timeout(repair)
            if self.retired:
                return
            self.up += 1
            self._set()
            site.log(Event.ONSITE_BLOCK_BACK, name, self.carrying_mw(), "MW")

    def retire_when_grid(self) -> Proc:
        yield self.site.grid_carries_request()
        self.retired = True
        self._set()
        self.site.log(Event.ONSITE_RETIRED, "onsite", 0.0, "MW",
                      "grid and substation carry the request")  # fmt: skip


def start(site: SiteContext) -> None:
    plant = Plant(site)
    site.env.process(plant.build())
    if plant.spec.retire_when_grid:
        site.env.process(plant.retire_when_grid())
