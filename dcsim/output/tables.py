"""The compact per-site table printed after a run."""

from __future__ import annotations

import math

import pandas as pd

from dcsim.experiments.results import RunResult
from dcsim.experiments.statistics import why


def _stat(stats: pd.DataFrame, site: str, metric: str) -> pd.Series:
    row = stats[(stats["site"] == site) & (stats["metric"] == metric)]
    return row.iloc[0]


def _date(result: RunResult, days: float) -> str:
    if math.isnan(days):
        return "-"
    return result.scenario.date_of(days).date().isoformat()


def big(value: float) -> str:
    if value != value:
        return "-"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):  # billion, million, thousand
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.0f}"


def site_table(result: RunResult) -> str:
    """Sites ordered by idle GPU-hours, most first, with why they were idle."""
    stats, reps = result.stats, result.replications
    sites = [s.name for s in result.scenario.sites]
    sites.sort(key=lambda s: -float(_stat(stats, s, "idle_gpu_hours")["mean"]))
    header = (
        f"{'site':14s} {'GPUs':>8s} {'first power':>11s} {'all running':>13s}"
        f" {'idle GPU-hours (95% CI)':>26s} {'idle cost':>10s}  binding layers"
    )
    lines = [header, "-" * len(header)]
    for site in sites:
        idle = _stat(stats, site, "idle_gpu_hours")
        first_text = _reached(result, _stat(stats, site, "first_power_days"))
        running_text = _reached(result, _stat(stats, site, "all_running_days"))
        half = (idle["ci95_high"] - idle["mean"]) if not math.isnan(idle["ci95_high"]) else 0
        idle_text = f"{big(idle['mean'])} ± {big(half)}" if reps > 1 else big(idle["mean"])
        lines.append(
            f"{site:14s} {big(_stat(stats, site, 'gpus_delivered')['mean']):>8s}"
            f" {first_text:>11s}"
            f" {running_text:>13s} {idle_text:>26s}"
            f" {'$' + big(_stat(stats, site, 'idle_cost_usd')['mean']):>10s}  {why(stats, site)}"
        )
    note = (
        f"({reps} replication(s); dates are means across replications; k = thousand,"
        " M = million, B = billion"
    )
    if any("reps" in line for line in lines[2:]):
        note += "; 'k/R reps' = reached within the horizon in k of R replications"
    lines.append(note + ")")
    return "\n".join(lines)


def _reached(result: RunResult, stat: pd.Series) -> str:
    """A mean date, or how many replications reached it when not all did."""
    if stat["n"] == result.replications:
        return _date(result, stat["mean"])
    return f"{stat['n']}/{result.replications} reps" if stat["n"] else "not reached"
