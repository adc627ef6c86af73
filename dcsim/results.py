"""Tables of a run, built once from the replications' plain rows.

``events``, ``timeseries``, ``summary`` and ``stats`` are pandas DataFrames
with typed columns (datetimes as datetimes). ``stats`` gives, per site and
metric, the mean across replications with a 95% confidence interval from
Student's t distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from dcsim.model.layers import LAYERS
from dcsim.model.recorder import EventRow
from dcsim.model.simulation import TIMESERIES_COLUMNS, ReplicationResult
from dcsim.spec import Scenario

EVENT_COLUMNS = ("replication", "time_days", "timestamp", "site", "process", "event",
                 "object", "quantity", "unit", "detail", "background")
DATE_METRICS = {"first_power_days": "first_power_date", "all_running_days": "all_running_date"}
SUMMARY_METRICS = (
    "gpus_contracted", "gpus_delivered", "idle_gpu_hours",
    *(f"idle_gpu_hours_{layer}" for layer in LAYERS),
    "idle_cost_usd", "first_power_days", "all_running_days", "gpus_idle_at_horizon",
    "queue_wait_days", "request_to_agreement_days", "request_to_energization_days",
    "transformer_lead_time_days",
)
STATS_COLUMNS = ("site", "metric", "n", "mean", "std", "ci95_low", "ci95_high", "min", "max")


@dataclass
class RunResult:
    """Everything a run produced. ``scenario`` is the effective spec (horizon and seed applied)."""

    scenario: Scenario
    replications: int
    events: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    stats: pd.DataFrame
    relaxed: frozenset[str] = frozenset()  # layers made non-binding for this run

    def to_csv(self, folder: str | Path, *, force: bool = False,
               include_background: bool = True) -> list[Path]:
        from dcsim.export import write_tables

        return write_tables(self, Path(folder), "csv", force=force,
                            include_background=include_background)

    def to_parquet(self, folder: str | Path, *, force: bool = False,
                   include_background: bool = True) -> list[Path]:
        from dcsim.export import write_tables

        return write_tables(self, Path(folder), "parquet", force=force,
                            include_background=include_background)


def collect(scenario: Scenario, results: list[ReplicationResult],
            relaxed: frozenset[str] = frozenset()) -> RunResult:
    start = pd.Timestamp(scenario.start_date)
    events = _events(results, start)
    timeseries = _timeseries(results, start)
    summary = _summary(results, start)
    return RunResult(scenario, len(results), events, timeseries, summary,
                     summary_stats(summary), relaxed)


def _timestamps(days: pd.Series, start: pd.Timestamp) -> pd.Series:
    return pd.Series(start + pd.to_timedelta(days.to_numpy(dtype=float), unit="D"),
                     index=days.index)


def _events(results: list[ReplicationResult], start: pd.Timestamp) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    for result in results:
        rows.extend((result.replication, *row) for row in result.events)
    frame = pd.DataFrame(rows, columns=["replication", *EventRow._fields])
    frame = frame.astype({"replication": "int64", "time_days": "float64",
                          "quantity": "float64", "background": "bool"})
    frame.insert(2, "timestamp", _timestamps(frame["time_days"], start))
    return frame[list(EVENT_COLUMNS)]


def _timeseries(results: list[ReplicationResult], start: pd.Timestamp) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    for result in results:
        rows.extend((result.replication, *row) for row in result.timeseries)
    frame = pd.DataFrame(rows, columns=["replication", *TIMESERIES_COLUMNS])
    frame = frame.astype({"replication": "int64", "gpus_on_site": "int64",
                          "gpus_installed": "int64", "gpus_running": "int64",
                          "gpus_idle": "int64"})
    frame.insert(2, "timestamp", _timestamps(frame["time_days"], start))
    return frame


def _summary(results: list[ReplicationResult], start: pd.Timestamp) -> pd.DataFrame:
    rows = [{"replication": r.replication, **site} for r in results for site in r.summary]
    frame = pd.DataFrame(rows)
    for days, date in DATE_METRICS.items():
        position = frame.columns.get_loc(days)
        assert isinstance(position, int)
        frame.insert(position + 1, date, _timestamps(frame[days], start))
    return frame


def summary_stats(summary: pd.DataFrame) -> pd.DataFrame:
    """Per site and metric: n, mean, std, 95% CI of the mean (Student t), min, max.

    Missing values (a date never reached within the horizon) are left out of
    that metric's statistics; ``n`` says how many replications had a value.
    """
    rows = []
    for site, group in summary.groupby("site", sort=False):
        for metric in SUMMARY_METRICS:
            values = group[metric].to_numpy(dtype=float)
            values = values[~np.isnan(values)]
            rows.append((site, metric, *describe(values)))
    return pd.DataFrame(rows, columns=list(STATS_COLUMNS)).astype({"n": "int64"})


def describe(values: np.ndarray) -> tuple[int, float, float, float, float, float, float]:
    n = len(values)
    if n == 0:
        return 0, *([math.nan] * 6)  # type: ignore[return-value]
    mean = float(values.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan, mean, mean
    std = float(values.std(ddof=1))
    half = float(scipy_stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return n, mean, std, mean - half, mean + half, float(values.min()), float(values.max())
