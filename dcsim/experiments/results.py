"""Tables of a run: events and timeseries from each replication's frames, and the summary,
stats, S-curves, migration and funnel built once from all replications' plain rows.

``events``, ``timeseries``, ``summary`` and ``stats`` are pandas DataFrames
with typed columns (datetimes as datetimes). ``stats`` gives, per site and
metric, the mean across replications with a 95% confidence interval from
Student's t distribution.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcsim.experiments.funnel import FunnelPart, funnel_table, log_funnel_parts
from dcsim.experiments.statistics import scurves, summary_stats
from dcsim.input.spec import Scenario
from dcsim.model.day_times import day_times
from dcsim.model.event_log import EVENTS, PROCESS_OF, PROCESSES, EventLog
from dcsim.model.events import EVENT_COLUMNS
from dcsim.model.layers import LAYERS, Layer
from dcsim.model.records import SiteRecord
from dcsim.model.simulation import TIMESERIES_COLUMNS, TIMESERIES_TYPES, ReplicationResult

DATE_METRICS = SiteRecord.date_columns()
# The export's categories come from the event vocabulary.
EVENT_CATEGORIES = pd.CategoricalDtype([e.value for e in EVENTS])
PROCESS_CATEGORIES = pd.CategoricalDtype([p.value for p in PROCESSES])


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
        self,
        folder: str | Path,
        *,
        force: bool = False,
        include_background: bool = True,
        events_format: str = "dcsim",
        ocel: bool = False,
    ) -> list[Path]:
        """The tables as ``dcsim run --format csv`` writes them (``events_format="pm4py"``
        and ``ocel=True`` as ``--events-format pm4py`` and ``--ocel``)."""
        from dcsim.output.export import write_tables

        return write_tables(self, Path(folder), "csv", force=force,
                            include_background=include_background,
                            events_format=events_format, ocel=ocel)  # fmt: skip

    def to_parquet(
        self,
        folder: str | Path,
        *,
        force: bool = False,
        include_background: bool = True,
        events_format: str = "dcsim",
        ocel: bool = False,
    ) -> list[Path]:
        """The tables as ``dcsim run --format parquet`` writes them (``events_format="pm4py"``
        and ``ocel=True`` as ``--events-format pm4py`` and ``--ocel``)."""
        from dcsim.output.export import write_tables

        return write_tables(self, Path(folder), "parquet", force=force,
                            include_background=include_background,
                            events_format=events_format, ocel=ocel)  # fmt: skip


@dataclass
class SummaryParts:
    """What a run keeps of a replication once its events and timeseries are written:
    plain rows, made into tables once for all replications (:func:`derive`), not a few
    small frames a replication (each worth more time than its rows: pandas' fixed costs,
    and pickling it to the parent and into the checkpoint)."""

    replication: int
    summary: list[tuple[object, ...]]  # (replication, *SiteRecord.row()) per site
    migration: list[tuple[object, ...]]
    funnel: list[FunnelPart]  # this replication's funnel sums (see funnel.funnel_parts)


@dataclass
class PackedReplication:
    """One replication's rows as typed columns: what a worker sends back to the parent.

    Built in the worker, so the conversion runs in parallel and what crosses processes
    is a few arrays per table instead of ~25,000 Python tuples (portfolio).
    """

    events: pd.DataFrame
    timeseries: pd.DataFrame
    parts: SummaryParts


def pack(
    result: ReplicationResult, scenario: Scenario, *, include_background: bool = True
) -> PackedReplication:
    """The replication's tables. Without ``include_background`` the background traffic's
    event rows are never turned into a table (the funnel takes what it needs of them)."""
    start = pd.Timestamp(scenario.start_date)
    log = result.log
    rows = log if include_background else log.take(~log.background)
    return PackedReplication(
        _event_frame(result.replication, rows, start),
        _timeseries_frame(result, start),
        summary_parts(result, scenario),
    )


def summary_parts(result: ReplicationResult, scenario: Scenario) -> SummaryParts:
    """What a run keeps of a replication once its events and timeseries are written."""
    return SummaryParts(
        result.replication,
        _summary_rows(result),
        result.migration,
        log_funnel_parts(result.log, scenario),
    )


def empty_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events and timeseries tables with no rows (their columns and types), frames of
    their own: no caller can change another's."""
    events, timeseries = _empty_tables()
    return events.copy(), timeseries.copy()


@functools.cache
def _empty_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    start = pd.Timestamp("2000-01-01")
    none = ReplicationResult(0, EventLog.empty(), [], [], [], {}, {})
    return _event_frame(0, EventLog.empty(), start), _timeseries_frame(none, start)


@dataclass
class Derived:
    """The tables computed from the replications' summaries, never from their events."""

    summary: pd.DataFrame
    stats: pd.DataFrame
    scurves: pd.DataFrame
    migration: pd.DataFrame
    funnel: pd.DataFrame


def derive(scenario: Scenario, parts: Sequence[SummaryParts]) -> Derived:
    """Summary, stats, S-curves, migration and funnel of replications given in order."""
    start = pd.Timestamp(scenario.start_date)
    summary = _summary_table([row for part in parts for row in part.summary], start)
    return Derived(
        summary,
        summary_stats(summary),
        scurves(summary, start),
        migration(parts),
        funnel_table([row for part in parts for row in part.funnel], scenario, len(parts)),
    )


def collect(
    scenario: Scenario,
    results: Sequence[ReplicationResult | PackedReplication],
    relaxed: frozenset[Layer] = frozenset(),
) -> RunResult:
    """The run's tables from its replications, in the order given."""
    packed = [r if isinstance(r, PackedReplication) else pack(r, scenario) for r in results]
    tables = derive(scenario, [p.parts for p in packed])
    return RunResult(
        scenario, len(packed), concat([p.events for p in packed]),
        concat([p.timeseries for p in packed]), tables.summary, tables.stats, relaxed,
        tables.scurves, tables.migration, tables.funnel,
    )  # fmt: skip


def concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Frames one after the other (a single frame as it is: no copy)."""
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _timestamps(days: pd.Series, start: pd.Timestamp) -> pd.Series:
    return pd.Series(day_times(days.to_numpy(dtype=float), start.date()), index=days.index)


def event_frame(replication: int, log: EventLog, scenario: Scenario) -> pd.DataFrame:
    """The rows of ``log`` as the events table of replication ``replication``."""
    return _event_frame(replication, log, pd.Timestamp(scenario.start_date))


def _event_frame(replication: int, log: EventLog, start: pd.Timestamp) -> pd.DataFrame:
    days = log.time
    # Each text column taken by its codes from the log's strings made a string array once
    # (not tens of thousands of Python strings converted column by column).
    names = pd.array(log.names, dtype="str")

    def text(codes: np.ndarray) -> pd.Series:
        return pd.Series(names.take(codes) if len(codes) else pd.array([], dtype="str"))

    frame = pd.DataFrame(
        {
            "replication": np.full(len(days), replication, dtype="int64"),
            "time_days": days,
            "timestamp": day_times(days, start.date()),
            "site": text(log.site),
            "process": pd.Categorical.from_codes(PROCESS_OF[log.event], dtype=PROCESS_CATEGORIES),
            "event": pd.Categorical.from_codes(log.event, dtype=EVENT_CATEGORIES),
            "object": text(log.obj),
            "quantity": log.quantity,
            "unit": text(log.unit),
            "detail": text(log.detail),
            "background": log.background,
        }
    )
    return frame[list(EVENT_COLUMNS)]


def _timeseries_frame(result: ReplicationResult, start: pd.Timestamp) -> pd.DataFrame:
    rows = result.timeseries
    # Column by column from the rows, each made with its type (so a table with no rows has
    # the same types), not a frame of Python objects converted afterwards.
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(TIMESERIES_COLUMNS)
    data: dict[str, Any] = {"replication": np.full(len(rows), result.replication, dtype="int64")}
    for name, values in zip(TIMESERIES_COLUMNS, columns, strict=True):
        kind = TIMESERIES_TYPES.get(name, "float64")
        data[name] = pd.array(values, dtype="str") if kind == "str" else np.array(values, kind)
    frame = pd.DataFrame(data)
    frame.insert(2, "timestamp", _timestamps(frame["time_days"], start))
    return frame


def summary_frame(result: ReplicationResult, scenario: Scenario) -> pd.DataFrame:
    """One replication's summary rows (a what-if needs nothing else of it)."""
    return _summary_table(_summary_rows(result), pd.Timestamp(scenario.start_date))


def _summary_rows(result: ReplicationResult) -> list[tuple[object, ...]]:
    return [(result.replication, *record.row()) for record in result.summary]


def _summary_table(rows: list[tuple[object, ...]], start: pd.Timestamp) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["replication", *SiteRecord.columns()])
    for days, date in DATE_METRICS.items():
        position = frame.columns.get_loc(days)
        assert isinstance(position, int)
        frame.insert(position + 1, date, _timestamps(frame[days], start))
    return frame


MIGRATION_COLUMNS = ("site", "year", "idle_gpu_hours", *(f"share_{layer.name}" for layer in LAYERS),
                     "stranded_power_mwh", "stranded_power_mwh_no_gpus")  # fmt: skip


def migration(results: Sequence[ReplicationResult | SummaryParts]) -> pd.DataFrame:
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
