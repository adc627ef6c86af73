"""Construction: halls built by the site's limited crews, then commissioned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.spec import Hall

if TYPE_CHECKING:
    from dcsim.model.site import Proc, SiteModel


def build_hall(site: SiteModel, index: int, hall: Hall) -> Proc:
    rng = site.stream(f"hall:{hall.name}")
    duration, commissioning = hall.construction_time.sample(rng), \
        hall.commissioning_time.sample(rng)
    yield site.at(hall.construction_start)
    yield site.crews.get(hall.crews)
    site.log("construction", "construction_started", hall.name, hall.it_mw, "MW",
             f"{hall.crews} crew(s)")
    yield site.env.timeout(duration)
    yield site.crews.put(hall.crews)
    if commissioning > 0:
        yield site.env.timeout(commissioning)
    site.halls[index].commissioned = True
    site.log("construction", "hall_commissioned", hall.name, hall.it_mw, "MW")
    site.changed()

