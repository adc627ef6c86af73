"""The site's transformers: ordered from the shared market (or owned), then installed."""

from __future__ import annotations

from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext

LAYER = "transformers"


class Substation:
    """Counts the units in service; spares (N+spares) carry no load."""

    def __init__(self, site: SiteContext) -> None:
        self.site = site
        self.rng = site.stream("transformers")
        self.in_service = 0

    def order_all(self) -> None:
        for unit in range(self.site.spec.substation.transformers):
            self.site.env.process(self._ordered(unit))

    def _ident(self, unit: int) -> str:
        return f"{self.site.spec.name}/transformer-{unit + 1}"

    def _ordered(self, unit: int) -> Proc:
        site, market = self.site, self.site.transformer_market
        ident = self._ident(unit)
        site.log(
            Event.TRANSFORMER_ORDERED,
            ident,
            1,
            "unit",
            f"factory backlog at order {market.backlog_days():.0f} days",
        )
        lead = yield site.env.process(market.order(self.rng))
        site.record_lead_time(lead)
        site.log(Event.TRANSFORMER_DELIVERED, ident, lead, "days", "lead time")
        yield from self._put_in_service(ident)

    def owned(self) -> Proc:
        site = self.site
        delivery = site.spec.substation.owned_delivery
        assert delivery is not None
        yield site.at(delivery)
        for unit in range(site.spec.substation.transformers):
            ident = self._ident(unit)
            site.log(Event.TRANSFORMER_DELIVERED, ident, 0.0, "days", "owned")
            site.env.process(self._put_in_service(ident))

    def _put_in_service(self, ident: str) -> Proc:
        site = self.site
        install = site.transformer_market.spec.installation_time.sample(self.rng)
        if install > 0:
            yield site.env.timeout(install)
        self.in_service += 1
        sub = site.spec.substation
        mw = max(0, self.in_service - sub.spares) * sub.unit_mw
        site.log(Event.TRANSFORMER_IN_SERVICE, ident, mw, "MW", "substation capacity")
        site.set_power(LAYER, mw)
