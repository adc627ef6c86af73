"""Construction: halls built by the site's limited crews, then commissioned."""

from __future__ import annotations

import simpy

from dcsim.input.spec import Hall
from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext


def start(site: SiteContext) -> None:
    """Every hall's construction, sharing the site's crews."""
    crews = simpy.Container(
        site.env, capacity=site.spec.construction_crews, init=site.spec.construction_crews
    )
    for index, hall in enumerate(site.spec.halls):
        site.env.process(build_hall(site, crews, index, hall))


def build_hall(site: SiteContext, crews: simpy.Container, index: int, hall: Hall) -> Proc:
    rng = site.stream(f"hall:{hall.name}")
    duration, commissioning = (
        hall.construction_time.sample(rng),
        hall.commissioning_time.sample(rng),
    )
    yield site.at(hall.construction_start)
    yield crews.get(hall.crews)
    site.log(Event.CONSTRUCTION_STARTED, hall.name, hall.it_mw, "MW", f"{hall.crews} crew(s)")
    yield site.env.timeout(duration)
    yield crews.put(hall.crews)
    if commissioning > 0:
        yield site.env.timeout(commissioning)
    site.log(Event.HALL_COMMISSIONED, hall.name, hall.it_mw, "MW")
    site.commission(index)
