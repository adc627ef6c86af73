"""The site's transformers: ordered from the shared market (or owned), then installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dcsim.model.site import Proc, SiteModel


def order_transformers(site: SiteModel) -> None:
    rng = site.stream("transformers")
    for unit in range(site.spec.substation.transformers):
        site.env.process(transformer(site, unit, rng))


def transformer(site: SiteModel, unit: int, rng: np.random.Generator) -> Proc:
    ident = f"{site.spec.name}/transformer-{unit + 1}"
    site.log("transformers", "transformer_ordered", ident, 1, "unit",
             f"factory backlog at order {site.market.backlog_days():.0f} days")
    lead = yield site.env.process(site.market.order(rng))
    site.lead_times.append(lead)
    site.log("transformers", "transformer_delivered", ident, lead, "days", "lead time")
    yield from put_in_service(site, ident, rng)


def owned_transformers(site: SiteModel) -> Proc:
    rng = site.stream("transformers")
    delivery = site.spec.substation.owned_delivery
    assert delivery is not None
    yield site.at(delivery)
    for unit in range(site.spec.substation.transformers):
        ident = f"{site.spec.name}/transformer-{unit + 1}"
        site.log("transformers", "transformer_delivered", ident, 0.0, "days", "owned")
        site.env.process(put_in_service(site, ident, rng))


def put_in_service(site: SiteModel, ident: str, rng: np.random.Generator) -> Proc:
    install = site.market.spec.installation_time.sample(rng)
    if install > 0:
        yield site.env.timeout(install)
    site.in_service += 1
    sub = site.spec.substation
    if "transformers" not in site.relaxed:
        site.power.transformer_mw = max(0, site.in_service - sub.spares) * sub.unit_mw
    site.log("transformers", "transformer_in_service", ident, site.power.transformer_mw,
             "MW", "substation capacity")
    site.changed()

