"""Cooling retrofits: part of a hall offline for a while, then a new cooling type.

A retrofit starts on its date, or when a lot arrives whose GPUs need the
cooling it brings ('when_needed').
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.model.layers import LotState
from dcsim.spec import Retrofit

if TYPE_CHECKING:
    from dcsim.model.site import Proc, SiteModel


def scheduled_retrofit(site: SiteModel, retrofit: Retrofit) -> Proc:
    assert retrofit.at is not None
    yield site.at(retrofit.at)
    yield from run_retrofit(site, retrofit, "scheduled")


def run_retrofit(site: SiteModel, retrofit: Retrofit, why: str) -> Proc:
    index = next(i for i, h in enumerate(site.halls) if h.name == retrofit.hall)
    hall = site.halls[index]
    duration = retrofit.duration.sample(site.stream(f"retrofit:{retrofit.hall}"))
    hall.offline_share = retrofit.offline_share
    site.log("cooling", "retrofit_started", hall.name, retrofit.offline_share * hall.it_mw,
             "MW", f"{hall.cooling} -> {retrofit.to}, {why}")
    site.changed()
    yield site.env.timeout(duration)
    target = site.cooling[retrofit.to]
    hall.cooling, hall.level, hall.pue = target.name, target.level, target.pue
    hall.offline_share = 0.0
    site.log("cooling", "retrofit_completed", hall.name, hall.it_mw, "MW", target.name)
    site.changed()


def trigger_retrofits(site: SiteModel, lot: LotState) -> None:
    """Start 'when needed' retrofits that this lot's cooling requirement calls for."""
    for retrofit in list(site.retrofits_pending):
        hall = next(h for h in site.halls if h.name == retrofit.hall)
        if hall.level < lot.level <= site.cooling[retrofit.to].level:
            site.retrofits_pending.remove(retrofit)
            site.env.process(run_retrofit(site, retrofit, f"needed by {lot.name}"))

