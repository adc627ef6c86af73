"""Tables of a run, built once from the replications' plain rows.

``events``, ``timeseries``, ``summary`` and ``stats`` are pandas DataFrames
with typed columns (datetimes as datetimes). ``stats`` gives, per site and
metric, the mean across replications with a 95% confidence interval from
Student's t distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dcsim.experiments.funnel import funnel
from dcsim.experiments.statistics import scurves, summary_stats
from dcsim.input.spec import Scenario
from dcsim.model.events import EVENT_COLUMNS, Event, EventRow, Process
from dcsim.model.layers import LAYERS, Layer
from dcsim.model.records import SiteRecord
from dcsim.model.simulation import TIMESERIES_COLUMNS, ReplicationResult

DATE_METRICS = SiteRecord.date_columns()
# The export's categories come from the event vocabulary.
EVENT_CATEGORIES = pd.CategoricalDtype([e.value for e in Event])
PROCESS_CATEGORIES = pd.CategoricalDtype([p.value for p in Process])


@dataclass
class RunResult:
    """Everything a run produced. ``scenario`` is the effective spec (horizon and seed applied)."""

    scenario: Scenario
    replications: int
    events: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    stats: pd.DataFrame
    relaxed: frozenset[Layer] = frozenset()  # layers made non-binding for this run
    scurves: pd.DataFrame = field(default_factory=pd.DataFrame)  # see statistics.scurves
    migration: pd.DataFrame = field(default_factory=pd.DataFrame)  # see migration() below
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame)  # see experiments.funnel

    def to_csv(
        self, folder: str | Path, *, force: bool = False, include_background: bool = True
    ) -> list[Path]:
        from dcsim.output.export import write_tables

        return write_tables(
            self, Path(folder), "csv", force=force, include_background=include_background
        )

    def to_parquet(
        self, folder: str | Path, *, force: bool = False, include_background: bool = True
    ) -> list[Path]:
        from dcsim.output.export import write_tables

        return write_tables(
            self, Path(folder), "parquet", force=force, include_background=include_background
        )


def collect(
    scenario: Scenario, results: list[ReplicationResult], relaxed: frozenset[Layer] = frozenset()
) -> RunResult:
    start = pd.Timestamp(scenario.start_date)
    events = _events(results, start)
    timeseries = _timeseries(results, start)
    summary = _summary(results, start)
    return RunResult(
        scenario, len(results), events, timeseries, summary, summary_stats(summary), relaxed,
        scurves(summary, start), migration(results), funnel(events, scenario, len(results)),
    )  # fmt: skip


def _timestamps(days: pd.Series, start: pd.Timestamp) -> pd.Series:
    return pd.Series(
        start + pd.to_timedelta(days.to_numpy(dtype=float), unit="D"), index=days.index
    )


def _events(results: list[ReplicationResult], start: pd.Timestamp) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    for result in results:
        rows.extend((result.replication, *row) for row in result.events)
    frame = pd.DataFrame(rows, columns=["replication", *EventRow._fields])
    frame = frame.astype(
        {
            "replication": "int64",
            "time_days": "float64",
            "quantity": "float64",
            "background": "bool",
        }
    )
    frame["event"] = frame["event"].astype(str).astype(EVENT_CATEGORIES)
    frame["process"] = frame["process"].astype(str).astype(PROCESS_CATEGORIES)
    frame.insert(2, "timestamp", _timestamps(frame["time_days"], start))
    return frame[list(EVENT_COLUMNS)]


def _timeseries(results: list[ReplicationResult], start: pd.Timestamp) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    for result in results:
        rows.extend((result.replication, *row) for row in result.timeseries)
    frame = pd.DataFrame(rows, columns=["replication", *TIMESERIES_COLUMNS])
    frame = frame.astype(
        {
            "replication": "int64",
            "gpus_on_site": "int64",
            "gpus_installed": "int64",
            "gpus_running": "int64",
            "gpus_idle": "int64",
            "gpus_in_transit": "int64",
        }
    )
    frame.insert(2, "timestamp", _timestamps(frame["time_days"], start))
    return frame


def _summary(results: list[ReplicationResult], start: pd.Timestamp) -> pd.DataFrame:
    rows = [(r.replication, *record.row()) for r in results for record in r.summary]
    frame = pd.DataFrame(rows, columns=["replication", *SiteRecord.columns()])
    for days, date in DATE_METRICS.items():
        position = frame.columns.get_loc(days)
        assert isinstance(position, int)
        frame.insert(position + 1, date, _timestamps(frame[days], start))
    return frame


MIGRATION_COLUMNS = ("site", "year", "idle_gpu_hours", *(f"share_{layer.name}" for layer in LAYERS),
                     "stranded_power_mwh", "stranded_power_mwh_no_gpus")  # fmt: skip


def migration(results: list[ReplicationResult]) -> pd.DataFrame:
    """Per site (and all sites) and calendar year, means across replications: idle
    GPU-hours, the share each binding layer holds of them, and stranded power.

    Bottlenecks migrate: this is the table (and the report's chart) that shows it.
    """
    names = [f"idle_{layer.name}" for layer in LAYERS]
    rows = [row for result in results for row in result.migration]
    stranded = ["stranded_power_mwh", "stranded_power_mwh_no_gpus"]
    frame = pd.DataFrame(rows, columns=["site", "year", *names, *stranded])
    means = frame.groupby(["site", "year"], sort=False).mean(numeric_only=True).reset_index()
    if frame["site"].nunique() > 1:
        sums = means.groupby("year", as_index=False)[[*names, *stranded]].sum()
        sums.insert(0, "site", "(all sites)")
        means = pd.concat([means, sums], ignore_index=True)
    idle = means[names].sum(axis=1)
    out = pd.DataFrame({"site": means["site"], "year": means["year"].astype("int64"),
                        "idle_gpu_hours": idle})  # fmt: skip
    for layer, name in zip(LAYERS, names, strict=True):
        out[f"share_{layer.name}"] = (means[name] / idle).where(idle > 0, 0.0)
    out[stranded] = means[stranded]
    return out[list(MIGRATION_COLUMNS)]
