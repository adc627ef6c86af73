"""On-site (bridge) generation: a permit, a lead time, then blocks of MW that fail at times.

``blocks`` blocks carry the load; ``spare_blocks`` more (N+1 and so on) stand by and carry
it only while another is out. Each block, spares too, is out a ``forced_outage_rate``
share of the time: it runs an exponential time (mean repair x (1 - rate) / rate), then is
repaired for ``repair_time``, from a random stream of its own, so adding a spare never
changes when the others fail. With ``retire_when_grid`` the plant is switched off once
grid and substation carry the whole request.

With a ``turbine_supply`` and/or a ``switchgear_supply`` each block also waits for its own
gas turbine and switchgear unit, ordered from the shared markets when the permit
application goes in: a block is online once its permit chain is done *and* its gear is
installed. Turbines and switchgear are layers of their own (see
:data:`~dcsim.model.layers.ONSITE_WITH`), so the plant publishes what it would carry with
either or both on hand at once. A block's outage clock starts when its permit chain
is done, whatever its gear, so those variants fail at the same instants as the plant.
"""

from __future__ import annotations

import math

from dcsim.model import gear
from dcsim.model.events import Event
from dcsim.model.layers import ONSITE_KEYS, PLANT_SWITCHGEAR
from dcsim.model.site_api import Proc, SiteContext
from dcsim.model.streams import DrawnAhead

LAYER = "onsite"
TURBINES = "turbines"
SWITCHGEAR = "switchgear"


class Plant:
    """The state of each block, and what the plant carries with and without its gear."""

    def __init__(self, site: SiteContext) -> None:
        self.site = site
        spec = site.spec.onsite
        assert spec is not None
        self.spec = spec
        self.count = spec.blocks + spec.spare_blocks
        every = (1 << self.count) - 1
        # Each a bit mask over the blocks (bit k: block k), as a plant whose blocks fail
        # and come back counts them at every change.
        self.built = 0  # permit chain done: online as far as the plant goes
        self.turbine = 0 if spec.turbine_supply is not None else every  # turbine installed
        self.switchgear = 0 if spec.switchgear_supply is not None else every  # its switchgear
        self.out = 0  # in a forced outage
        self.announced = 0  # ONSITE_BLOCK_ONLINE logged
        self.retired = False
        self._carrying = dict.fromkeys(ONSITE_KEYS, 0.0)  # as of the last _update

    def _online(self, block: int) -> bool:
        return bool((self.built & self.turbine & self.switchgear) >> block & 1)

    def carrying_mw(self) -> float:
        """MW the plant carries now (its gear as it is)."""
        return self._carrying[LAYER]

    def _carrying_each(self) -> dict[str, float]:
        """MW the plant would carry with each set of gear on hand at once (by
        ONSITE_KEYS): up blocks, at most ``blocks`` of them."""
        if self.retired:
            return dict.fromkeys(ONSITE_KEYS, 0.0)
        up = self.built & ~self.out
        blocks, mw = self.spec.blocks, self.spec.block_mw
        # In ONSITE_KEYS' order: no gear, turbines, switchgear, both on hand at once.
        ups = ((up & self.turbine & self.switchgear).bit_count(),
               (up & self.switchgear).bit_count(), (up & self.turbine).bit_count(),
               up.bit_count())  # fmt: skip
        return dict(zip(ONSITE_KEYS, [min(n, blocks) * mw for n in ups], strict=True))

    def _update(self) -> None:
        site, spec = self.site, self.spec
        online = 0 if self.retired else self.built & self.turbine & self.switchgear
        for k in range(self.count):
            if (online & ~self.announced) >> k & 1:
                self.announced |= 1 << k
                spare = "spare" if k >= spec.blocks else ""
                site.log(Event.ONSITE_BLOCK_ONLINE, self._name(k), spec.block_mw, "MW", spare)
        self._carrying = self._carrying_each()
        for key, mw in self._carrying.items():
            site.set_power(key, mw)
        if spec.turbine_supply is not None:
            turbines = 0.0 if self.retired else min(self.turbine.bit_count(), spec.blocks)
            site.set_power(TURBINES, turbines * spec.block_mw)
        if spec.switchgear_supply is not None:
            units = 0.0 if self.retired else min(self.switchgear.bit_count(), spec.blocks)
            site.set_power(PLANT_SWITCHGEAR, units * spec.block_mw)

    @staticmethod
    def _name(block: int) -> str:
        return f"onsite/block-{block + 1}"

    def build(self) -> Proc:
        spec, site = self.spec, self.site
        rng = site.stream("onsite")
        permit, lead = spec.permit_time.sample(rng), spec.lead_time.sample(rng)
        yield site.at(spec.start)
        for block in range(self.count):
            if spec.turbine_supply is not None:
                site.env.process(self._turbine(block, spec.turbine_supply))
            if spec.switchgear_supply is not None:
                site.env.process(self._switchgear(block, spec.switchgear_supply))
        yield site.env.timeout(permit)
        if self.retired:
            return  # the grid came first: the plant is never built
        spares = f"{spec.spare_blocks} spare block(s) besides" if spec.spare_blocks else ""
        site.log(Event.ONSITE_PERMIT_GRANTED, "onsite", spec.total_mw, "MW", spares)
        yield site.env.timeout(lead)
        for block in range(self.count):
            if block > 0:
                gap = spec.block_interval.sample(rng)
                if gap > 0:
                    yield site.env.timeout(gap)
            if self.retired:
                return
            self.built |= 1 << block
            self._update()
            if spec.forced_outage_rate > 0:
                site.env.process(self._outages(block))

    def _turbine(self, block: int, supply: str) -> Proc:
        name = self._name(block)
        rng = self.site.stream(f"{name}/turbine")
        yield from gear.obtain(self.site, gear.TURBINE, supply, f"{name}/turbine", rng)
        self.turbine |= 1 << block
        self.site.log(Event.TURBINE_INSTALLED, f"{name}/turbine", self.spec.block_mw, "MW")
        if not self.retired:
            self._update()

    def _switchgear(self, block: int, supply: str) -> Proc:
        name = self._name(block)
        rng = self.site.stream(f"{name}/switchgear")
        yield from gear.obtain(self.site, gear.SWITCHGEAR, supply, f"{name}/switchgear", rng)
        self.switchgear |= 1 << block
        self.site.log(Event.SWITCHGEAR_IN_SERVICE, f"{name}/switchgear", self.spec.block_mw,
                      "MW", "on-site block")  # fmt: skip
        if not self.retired:
            self._update()

    def _outages(self, block: int) -> Proc:
        spec, site = self.spec, self.site
        name = self._name(block)
        # The block's own stream, drawn ahead in blocks: the same numbers as a draw at a
        # time (the time up, then the repair's uniform), fewer calls into NumPy.
        draws = DrawnAhead(site.stream(f"{name}/outages"))
        rate = spec.forced_outage_rate
        mean_up = spec.repair_time.mean * (1.0 - rate) / rate
        while True:
            yield site.env.timeout(-mean_up * math.log1p(-draws.next()))
            repair = spec.repair_time.quantile(draws.next())  # as sample() makes it
            if self.retired:
                return
            self.out |= 1 << block
            self._update()
            if self._online(block):
                site.log(Event.ONSITE_BLOCK_OUT, name, self.carrying_mw(), "MW",
                         f"repair {repair:.1f} days")  # fmt: skip
            yield site.env.timeout(repair)
            if self.retired:
                return
            self.out &= ~(1 << block)
            self._update()
            if self._online(block):
                site.log(Event.ONSITE_BLOCK_BACK, name, self.carrying_mw(), "MW")

    def retire_when_grid(self) -> Proc:
        yield self.site.grid_carries_request()
        self.retired = True
        self._update()
        self.site.log(Event.ONSITE_RETIRED, "onsite", 0.0, "MW",
                      "grid and substation carry the request")  # fmt: skip


def start(site: SiteContext) -> None:
    plant = Plant(site)
    site.env.process(plant.build())
    if plant.spec.retire_when_grid:
        site.env.process(plant.retire_when_grid())
