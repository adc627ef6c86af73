"""Cooling retrofits: part of a hall offline for a while, then a new cooling type.

A retrofit starts on its date, or when a lot arrives whose GPUs need the
cooling it brings ('when_needed').
"""

from __future__ import annotations

from dcsim.input.spec import Retrofit
from dcsim.model.events import Event
from dcsim.model.site_api import Proc, SiteContext


def start(site: SiteContext) -> None:
    for retrofit in site.spec.retrofits:
        site.env.process(
            scheduled(site, retrofit) if retrofit.at is not None else when_needed(site, retrofit)
        )


def scheduled(site: SiteContext, retrofit: Retrofit) -> Proc:
    assert retrofit.at is not None
    yield site.at(retrofit.at)
    yield from run(site, retrofit, "scheduled")


def when_needed(site: SiteContext, retrofit: Retrofit) -> Proc:
    """Wait for a lot whose GPUs the hall cannot host now and can after the retrofit."""
    target = site.cooling_type(retrofit.to).level
    seen = 0
    while True:
        arrived = site.arrivals()
        for level, lot in arrived[seen:]:
            if site.hall_level(retrofit.hall) < level <= target:
                yield from run(site, retrofit, f"needed by {lot}")
                return
        seen = len(arrived)
        yield site.lot_arrived()


def run(site: SiteContext, retrofit: Retrofit, why: str) -> Proc:
    duration = retrofit.duration.sample(site.stream(f"retrofit:{retrofit.hall}"))
    hall = next(h for h in site.spec.halls if h.name == retrofit.hall)
    site.log(
        Event.RETROFIT_STARTED,
        hall.name,
        retrofit.offline_share * hall.it_mw,
        "MW",
        f"{_current(site, retrofit)} -> {retrofit.to}, {why}",
    )
    site.start_retrofit(hall.name, retrofit.offline_share)
    yield site.env.timeout(duration)
    site.log(Event.RETROFIT_COMPLETED, hall.name, hall.it_mw, "MW", retrofit.to)
    site.complete_retrofit(hall.name, retrofit.to)


def _current(site: SiteContext, retrofit: Retrofit) -> str:
    hall = next(h for h in site.spec.halls if h.name == retrofit.hall)
    return (
        hall.cooling
        if site.hall_level(hall.name) == site.cooling_type(hall.cooling).level
        else f"level {site.hall_level(hall.name)}"
    )
