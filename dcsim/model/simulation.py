"""One replication of a scenario: build the model, run it to the horizon, collect rows.

Phases, in order: build (markets, then sites), run (SimPy to the horizon),
post-process (binding layers, idle integrals, one record per site). Nothing
runs past the horizon; GPUs still idle then are counted up to it and reported
as still waiting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import simpy

from dcsim.input.spec import Scenario, Site
from dcsim.model.binding import NONE, binding_layers
from dcsim.model.capacity import Snapshot
from dcsim.model.chips import chip_supply, supply_stream
from dcsim.model.equipment import EquipmentMarket, market_stream
from dcsim.model.event_log import EventLog, Recorder
from dcsim.model.events import Event, EventRow, Process
from dcsim.model.fleet import Fleet
from dcsim.model.layers import LAYERS, Layer, layers_of
from dcsim.model.queues import make_queue
from dcsim.model.records import SiteRecord
from dcsim.model.site import SiteModel
from dcsim.model.site_core import Tape
from dcsim.model.streams import Streams
from dcsim.model.totals import LotValue, Totals, by_year, integrate

TIMESERIES_COLUMNS = (
    "time_days",
    "site",
    *(layer.column for layer in LAYERS),
    "gpus_on_site",
    "gpus_installed",
    "gpus_running",
    "gpus_idle",
    "gpus_in_transit",
    "gpus_displaced",
    "on_site_it_mw",
    "running_it_mw",
    "binding_layer",
    "stranded_it_mw",
)
# Each timeseries column's type (the others are float64): a table with no rows has them too.
TIMESERIES_TYPES = {
    "site": "str",
    "binding_layer": "str",
    **{name: "int64" for name in TIMESERIES_COLUMNS if name.startswith("gpus_")},
}


@dataclass
class ReplicationResult:
    replication: int
    log: EventLog  # every event row up to the horizon, as columns in log order
    timeseries: list[tuple[object, ...]]  # rows in TIMESERIES_COLUMNS order
    summary: list[SiteRecord]  # one per site
    migration: list[tuple[object, ...]]  # (site, year, idle by layer..., stranded, for chips)
    snapshots: dict[str, list[Snapshot]]  # raw rows per site, for checks and plots
    tapes: dict[str, Tape]  # each site's changes, for replay with other layers relaxed

    @cached_property
    def events(self) -> list[EventRow]:
        """The event log as EventRow tuples (one object per row: for checks, not exports)."""
        return self.log.rows()


def simulate(
    scenario: Scenario, replication: int = 0, relaxed: Iterable[str | Layer] = frozenset()
) -> ReplicationResult:
    """Run replication ``replication`` of ``scenario`` and return its rows.

    ``relaxed`` names layers (see LAYERS) made non-binding — instantly available
    and unlimited — as the bottleneck cascade needs.
    """
    chosen = layers_of(relaxed)
    streams = Streams(scenario.seed, replication)
    recorder = Recorder()
    used_regions = [r for r in scenario.regions if r.name in {s.region for s in scenario.sites}]
    # Region queues may warm up on background traffic before the start date (day 0):
    # the clock then starts at the longest warm-up, and everything else at day 0.
    warm_up = max((r.warm_up for r in used_regions), default=0.0)
    env = simpy.Environment(initial_time=-warm_up)
    horizon = scenario.horizon_days
    queues = {r.name: make_queue(env, r, recorder, streams, horizon) for r in used_regions}
    sites: list[SiteModel] = []

    def start() -> None:
        for queue in queues.values():
            queue.start_date_reached()
        markets = {
            (kind, name): EquipmentMarket(
                env,
                scenario.supply(kind, name),
                streams(market_stream(kind, name)),
                scenario.start_date,
            )
            for kind, name in scenario.used_markets()
        }
        chips = {
            supply.name: chip_supply(
                env, supply, streams(supply_stream(supply.name)), scenario.start_date
            )
            for supply in scenario.used_gpu_supplies()
        }
        fleet = Fleet(env, scenario, recorder, streams) if scenario.routes else None
        for spec in scenario.sites:
            sites.append(SiteModel(env, scenario, spec, queues[spec.region], markets, recorder,
                                   streams, chosen, chips, fleet))  # fmt: skip
            if fleet is not None:
                fleet.join(sites[-1])

    if warm_up > 0:
        env.timeout(warm_up).callbacks.append(lambda _: start())
    else:
        start()
    env.run(until=horizon)

    recorder.collect(horizon)  # the rows logged as blocks, of what happened by the horizon
    events: list[EventRow] = []  # rows the run adds to the log
    timeseries: list[tuple[object, ...]] = []
    records = []
    migration: list[tuple[object, ...]] = []
    for site in sites:
        name = site.spec.name
        rows = site.timeseries
        binding = binding_layers(rows, horizon)
        totals = integrate(rows, binding, horizon, lot_values(scenario, site.spec))
        previous = NONE
        for row, layer in zip(rows, binding, strict=True):
            layer_name = LAYERS[layer].name if layer != NONE else ""
            timeseries.append(
                (
                    row.time_days,
                    name,
                    *row.caps,
                    row.gpus_on_site,
                    row.gpus_installed,
                    row.gpus_running,
                    row.gpus_idle,
                    row.gpus_in_transit,
                    row.gpus_displaced,
                    row.on_site_mw,
                    row.running_mw,
                    layer_name,
                    row.stranded_mw,
                )
            )
            if layer != previous:
                before = LAYERS[previous].name if previous != NONE else "none"
                events.append(
                    EventRow(
                        row.time_days,
                        name,
                        Process.SITE,
                        Event.BINDING_LAYER_CHANGED,
                        name,
                        float(row.gpus_idle),
                        "GPU",
                        f"{before} -> {layer_name or 'none'}",
                        False,
                    )
                )
                previous = layer
        records.append(_record(site, rows[-1], totals))
        for year, idle_by_layer, *stranded in by_year(rows, binding, horizon, scenario.start_date):
            migration.append((name, year, *idle_by_layer, *stranded))
    for event in events:  # logged after the run: after every row of its instant
        recorder.add(event, math.inf)
    # The queues log some rows ahead of their time: keep those up to the horizon.
    log = recorder.log(horizon)
    result = ReplicationResult(
        replication, log, timeseries, records, migration,
        {s.spec.name: s.timeseries for s in sites}, {s.spec.name: s.tape for s in sites},
    )  # fmt: skip
    # The run's objects refer to one another in cycles (processes, callbacks, the
    # environment), so only the cyclic collector frees them, walking all they hold. What
    # they hold in bulk (the rows, the background draws; the timeseries and tapes, now the
    # result's alone) is let go here, freed at once by reference counting: a worker's
    # collection after a portfolio replication takes half as long (-3 ms a replication).
    recorder.release()
    for queue in queues.values():
        queue.release()
    for site in sites:
        site.release()
    return result


def lot_values(scenario: Scenario, spec: Site) -> list[LotValue]:
    models = [scenario.gpu(home.lots[index].model) for home, index in scenario.hosted_lots(spec)]
    return [LotValue(m.value_per_hour_usd, m.value_decline) for m in models]


def _record(site: SiteModel, last: Snapshot, totals: Totals) -> SiteRecord:
    requested = site.spec.interconnection.request_date
    return SiteRecord(
        site=site.spec.name,
        gpus_contracted=site.spec.gpu_count,
        gpus_delivered=last.gpus_on_site,
        idle_gpu_hours=totals.idle_gpu_hours,
        idle_by_layer=totals.idle_by_layer,
        idle_cost_usd=totals.idle_cost_usd,
        first_power_days=_or_nan(site.first_power_at),
        all_running_days=_or_nan(site.all_running_at),
        gpus_idle_at_horizon=last.gpus_idle,
        queue_wait_days=_or_nan(site.region_wait()),
        upgrade_wait_days=_or_nan(site.upgrade_wait()),
        request_to_agreement_days=_or_nan(
            None if site.agreement_at is None else site.agreement_at - requested
        ),
        request_to_energization_days=_or_nan(
            None if site.first_energized_at is None else site.first_energized_at - requested
        ),
        request_to_firm_service_days=_or_nan(
            None if (firm := site.firm_service_at()) is None else firm - requested
        ),
        grid_curtailed_mwh=site.curtailed_mwh(),
        transformer_lead_time_days=site.mean_lead_time("transformer"),
        switchgear_lead_time_days=site.mean_lead_time("switchgear"),
        gpu_lead_time_days=site.mean_lead_time("gpu"),
        turbine_lead_time_days=site.mean_lead_time("turbine"),
        gpu_hours_running=totals.gpu_hours_running,
        gpu_hours_in_transit=totals.transit_gpu_hours,
        lost_value_usd=totals.lost_value_usd,
        stranded_power_mwh=totals.stranded_mwh,
        stranded_power_mwh_no_gpus=totals.stranded_no_gpus_mwh,
        stranded_power_mwh_not_installed=totals.stranded_not_installed_mwh,
        stranded_power_mwh_cooling=totals.stranded_cooling_mwh,
        onsite_energy_mwh=totals.onsite_mwh,
        onsite_cost_usd=totals.onsite_mwh
        * (site.spec.onsite.energy_cost_usd_per_mwh if site.spec.onsite is not None else 0.0),
    )


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value
