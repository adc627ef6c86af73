"""One unit of long-lead equipment bought from its market: ordered, delivered, installed.

The substation's transformers and switchgear bays and the on-site plant's turbines and
switchgear all go through :func:`obtain`, so every unit is logged, and its lead time
recorded, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext


@dataclass(frozen=True)
class Kind:
    """A kind of equipment: its market's catalog kind and the events of its units."""

    market: str  # "transformer", "switchgear" or "turbine"
    ordered: Event
    delivered: Event


TRANSFORMER = Kind("transformer", Event.TRANSFORMER_ORDERED, Event.TRANSFORMER_DELIVERED)
SWITCHGEAR = Kind("switchgear", Event.SWITCHGEAR_ORDERED, Event.SWITCHGEAR_DELIVERED)
TURBINE = Kind("turbine", Event.TURBINE_ORDERED, Event.TURBINE_DELIVERED)


def obtain(
    site: SiteContext, kind: Kind, supply: str, ident: str, rng: np.random.Generator
) -> Proc:
    """A process: order one unit of ``kind`` from market ``supply``, wait for it, install it.

    Ends when the unit is installed (the caller logs that, with what it now carries);
    ``rng`` draws its design, transport and installation times, in that order.
    """
    market = site.market(kind.market, supply)
    backlog = f"factory backlog at order {market.backlog_days():.0f} days"
    site.log(kind.ordered, ident, 1, "unit", backlog)
    lead = yield site.env.process(market.order(rng))
    site.record_lead_time(lead, kind.market)
    site.log(kind.delivered, ident, lead, "days", "lead time")
    install = market.spec.installation_time.sample(rng)
    if install > 0:
        yield site.env.timeout(install)
