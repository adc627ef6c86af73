"""What a site is made of at one instant: power by source, halls, lots.

The site's processes change this state through :class:`~dcsim.model.site.SiteModel`'s
methods and nothing else; :mod:`dcsim.model.capacity` reads it. All power in
``power`` is facility MW, as delivered; the conversion to IT MW happens when
the state is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class HallState:
    name: str
    it_mw: float
    cooling: str
    level: int
    pue: float  # peak PUE of its cooling: facility MW the grid carries per IT MW
    commissioned: bool = False
    offline_share: float = 0.0  # share of the hall a retrofit holds offline
    annual_pue: float = 0.0  # of its cooling, for energy over time (0: the peak one)

    @property
    def usable_mw(self) -> float:
        return self.it_mw * (1.0 - self.offline_share)


@dataclass
class LotState:
    name: str
    model: str
    count: int
    kw: float  # IT kW per GPU
    level: int  # least cooling level that can host it
    price_usd: float
    on_site: int = 0
    installed: int = 0
    in_transit: int = 0  # GPUs on their way here, or held by the fleet for this site
    bound: bool = True  # contracted to or routed to this site (a pooled lot may go elsewhere)


@dataclass
class SiteState:
    """Power by power layer (facility MW), the halls and the lots of one site."""

    power: dict[str, float]  # by power layer name: what it delivers now
    planned: dict[str, float]  # by power layer name: what it will deliver when complete
    existing_mw: float  # service in place at the start, with its own substation
    halls: list[HallState] = field(default_factory=list)
    lots: list[LotState] = field(default_factory=list)
    top_level: int = 0  # the most capable cooling level in the catalog
    max_level: int = 0  # the most demanding cooling level among the site's lots
    priority: tuple[int, ...] = ()  # lots in the order power goes to them
    # Counts changes to the halls (commissioning, retrofits): what is worked out from the
    # halls alone (the site's PUE, its spaces) is kept in ``known`` until the next change,
    # and what also reads the GPUs on site under their counts (dcsim.model.instant).
    halls_changed: int = 0
    known: dict[tuple[object, ...], Any] = field(default_factory=dict, compare=False,
                                                   repr=False)  # fmt: skip
