"""The report's first screen: the numbers a planner reads first, and the next step.

One row per site (P50 dates with P10-P90, idle GPU-hours, cost, value lost and
stranded power with 95% intervals, the binding share) and a box with the
commands that price the top levers (:mod:`dcsim.output.next_step`).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from dcsim.experiments.statistics import why
from dcsim.output.next_step import next_steps
from dcsim.output.numbers import big
from dcsim.output.tables import p_date


def headline(stats: pd.DataFrame, order: list[str], start: pd.Timestamp) -> pd.DataFrame:
    """One row per site: the numbers a planner reads first, dates as dates."""
    by_key: dict[tuple[str, str], pd.Series] = {
        (str(row["site"]), str(row["metric"])): row for _, row in stats.iterrows()
    }
    mean: dict[tuple[str, str], float] = {
        (str(s), str(m)): float(v)
        for s, m, v in zip(stats["site"], stats["metric"], stats["mean"], strict=True)
    }
    high: dict[tuple[str, str], float] = {
        (str(s), str(m)): float(v)
        for s, m, v in zip(stats["site"], stats["metric"], stats["ci95_high"], strict=True)
    }

    day0 = start.date()
    rows = []
    for site in order:
        rows.append(
            {
                "site": site,
                "GPUs delivered": f"{mean[site, 'gpus_delivered']:,.0f}",
                "first power P50 [P10, P90]": p_date(by_key[site, "first_power_days"], day0),
                "all running P50 [P10, P90]": p_date(by_key[site, "all_running_days"], day0),
                "idle GPU-hours (95% CI)": _with_interval(mean, high, site, "idle_gpu_hours", ""),
                "idle cost (95% CI)": _with_interval(mean, high, site, "idle_cost_usd", "$"),
                "value lost (95% CI)": _with_interval(mean, high, site, "lost_value_usd", "$"),
                "stranded power (95% CI)": _with_interval(
                    mean, high, site, "stranded_power_mwh", "", " MWh"
                ),
                "which layer holds them (binding share)": why(stats, site),
            }
        )
    return pd.DataFrame(rows)


def _with_interval(mean: dict[tuple[str, str], float], high: dict[tuple[str, str], float],
                   site: str, metric: str, prefix: str, suffix: str = "") -> str:  # fmt: skip
    """'$1.20B ± 310.00M': the mean and the half-width of its 95% interval."""
    value = mean.get((site, metric), float("nan"))
    half = high.get((site, metric), float("nan")) - value
    text = f"{prefix}{big(value)}{suffix}"
    return text if half != half else f"{text} ± {prefix}{big(half)}"


def next_step_box(run_info: dict[str, Any], stats: pd.DataFrame) -> str:
    """The report's "next step": the commands that price the top levers, as the run ended."""
    spec, file = run_info.get("spec"), run_info.get("source_file")
    if not isinstance(spec, dict) or not file:
        return ""
    steps = next_steps(spec, stats, str(file), _years_given(run_info))
    if not steps:
        return ""
    commands = "\n".join(html.escape(step) for step in steps)
    return (
        "<div class='next'><h2>Next step</h2><p>Price the levers of the layer that holds the"
        " most GPU-hours (<code>compare</code>, against this run with the same random"
        " numbers) and what each layer is worth (<code>attribute</code>: the Shapley share,"
        " what removing it saves, where the table above shows the binding share):</p>"
        f"<pre>{commands}</pre></div>"
    )


def _years_given(run_info: dict[str, Any]) -> float | None:
    """The --years the run was given (from its command line), if any."""
    line = [str(part) for part in run_info.get("command_line", [])]
    for index, part in enumerate(line):
        value = part.partition("=")[2] if part.startswith("--years=") else (
            line[index + 1] if part == "--years" and index + 1 < len(line) else None)  # fmt: skip
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None
