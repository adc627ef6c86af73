"""The site's substation: transformers and, if modelled, a switchgear bay for each.

Both are ordered from their shared markets (or the transformers are owned), then
installed. Each is a power layer of its own: the substation carries what its
transformers in service allow (``transformers``) and what its bays in service allow
(``switchgear``); the grid path takes the narrower, so the later of the two binds.
"""

from __future__ import annotations

from dcsim.model import gear
from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext

LAYER = "transformers"
SWITCHGEAR = "switchgear"


class Substation:
    """Counts the units in service; spares (N+spares) carry no load."""

    def __init__(self, site: SiteContext) -> None:
        self.site = site
        self.rng = site.stream("transformers")
        self.switchgear_rng = site.stream("switchgear")
        self.in_service = 0
        self.bays_in_service = 0

    def _carrying_mw(self, units: int) -> float:
        sub = self.site.spec.substation
        return max(0, units - sub.spares) * sub.unit_mw

    def order_all(self) -> None:
        sub, env = self.site.spec.substation, self.site.env
        for unit in range(sub.transformers):
            env.process(self._ordered(unit))
        if sub.switchgear_supply is not None:
            for bay in range(sub.transformers):  # one bay per transformer, spares too
                env.process(self._bay(bay, sub.switchgear_supply))

    def _ident(self, unit: int) -> str:
        return f"{self.site.spec.name}/transformer-{unit + 1}"

    def _ordered(self, unit: int) -> Proc:
        site = self.site
        ident = self._ident(unit)
        yield from gear.obtain(site, gear.TRANSFORMER, site.spec.transformer_supply, ident,
                               self.rng)  # fmt: skip
        self._in_service(ident)

    def _bay(self, bay: int, supply: str) -> Proc:
        site = self.site
        ident = f"{site.spec.name}/switchgear-{bay + 1}"
        yield from gear.obtain(site, gear.SWITCHGEAR, supply, ident, self.switchgear_rng)
        self.bays_in_service += 1
        mw = self._carrying_mw(self.bays_in_service)
        site.log(Event.SWITCHGEAR_IN_SERVICE, ident, mw, "MW", "substation bays")
        site.set_power(SWITCHGEAR, mw)

    def owned(self) -> Proc:
        site = self.site
        delivery = site.spec.substation.owned_delivery
        assert delivery is not None
        yield site.at(delivery)
        for unit in range(site.spec.substation.transformers):
            ident = self._ident(unit)
            site.log(Event.TRANSFORMER_DELIVERED, ident, 0.0, "days", "owned")
            site.env.process(self._installed_owned(ident))

    def _installed_owned(self, ident: str) -> Proc:
        install = self.site.transformer_market.spec.installation_time.sample(self.rng)
        if install > 0:
            yield self.site.env.timeout(install)
        self._in_service(ident)

    def _in_service(self, ident: str) -> None:
        self.in_service += 1
        mw = self._carrying_mw(self.in_service)
        self.site.log(Event.TRANSFORMER_IN_SERVICE, ident, mw, "MW", "substation capacity")
        self.site.set_power(LAYER, mw)
