"""The report's first screen: the numbers a planner reads first, and the next step.

One row per site, and one for the portfolio when there are several (P50 dates with
P10-P90, idle GPU-hours, cost, value lost and stranded power with 95% intervals,
which layer holds them), and a box with the commands that price the top levers
(:mod:`dcsim.output.next_step`). Which layer holds the idle time is the Shapley
share when an ``attribute`` of the same scenario is given (``dcsim report DIR
--attribution ATTRIBUTE_DIR``), the binding share otherwise; the header says which.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.compare import ALL_SITES
from dcsim.experiments.statistics import summary_stats, why
from dcsim.model.records import SiteRecord
from dcsim.output.next_step import next_steps
from dcsim.output.numbers import big, count, energy, percent
from dcsim.output.run_folder import read_run_info, read_table
from dcsim.output.tables import p_date


def portfolio_stats(summary: pd.DataFrame) -> pd.DataFrame:
    """stats.csv's rows for the sites together, from each replication's sums.

    Figures that add up (GPU-hours, money, energy, GPUs, each layer's idle time) are
    summed; first power is the first site's, all running the last site's (not reached
    while any site has not); the other dates do not add up and are left empty.
    """
    metrics = list(SiteRecord.metrics())  # the numbers; the summary's dates are their days
    by_rep = summary.groupby("replication", sort=True)
    frame = pd.DataFrame(
        {m: np.nan for m in metrics}, index=sorted(summary["replication"].unique())
    )
    for metric in metrics:
        if not metric.endswith("_days"):
            frame[metric] = by_rep[metric].sum()
    frame["first_power_days"] = by_rep["first_power_days"].min()
    frame["all_running_days"] = (
        by_rep["all_running_days"]
        .max()
        .where(~by_rep["all_running_days"].apply(lambda v: v.isna().any()))
    )
    frame = frame.reset_index(names="replication").assign(site=ALL_SITES)
    return summary_stats(frame)


def attribution_from(folder: Path, run_info: dict[str, Any]) -> tuple[dict[str, str], str]:
    """The Shapley shares of an ``attribute`` folder, with a note saying where they are
    from; refused when that attribute is of another scenario than the run."""
    table = read_table(folder, "attribution.csv", required=False)
    if table is None:
        raise DcsimError(
            f"--attribution {folder}: holds no attribution.csv; give the --out folder of"
            " `dcsim attribute` on the run's file."
        )
    info = read_run_info(folder)
    theirs, ours = info.get("scenario"), run_info.get("scenario")
    if theirs is not None and ours is not None and theirs != ours:
        raise DcsimError(
            f"--attribution {folder}: it attributes scenario {theirs!r}, but this run is of"
            f" {ours!r}; give the --out folder of `dcsim attribute` on the run's file."
        )
    note = (f"<p>Shapley shares from <code>dcsim attribute</code> in {html.escape(str(folder))}"
            f" ({info.get('replications', '?')} replications, seed {info.get('seed', '?')}):"
            " each layer's part of the idle GPU-hours, averaged over every order of fixing"
            " the layers.</p>")  # fmt: skip
    return shapley_shares(table), note


def shapley_shares(attribution: pd.DataFrame) -> dict[str, str]:
    """Per site: 'grid 62%, transformers 25%', the layers' Shapley shares, largest first."""
    shown = {}
    for site, rows in attribution.groupby("site", sort=False):
        rows = rows.sort_values("shapley_share", ascending=False)
        shown[str(site)] = ", ".join(
            f"{layer} {percent(share)}" for layer, share in
            zip(rows["layer"], rows["shapley_share"], strict=True) if share >= 0.005
        ) or "-"  # fmt: skip
    return shown


def headline(
    stats: pd.DataFrame, order: list[str], start: pd.Timestamp,
    shapley: dict[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
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
                "GPUs delivered": count(mean[site, "gpus_delivered"]),
                "first power P50 [P10, P90]": p_date(by_key[site, "first_power_days"], day0),
                "all running P50 [P10, P90]": p_date(by_key[site, "all_running_days"], day0),
                "idle GPU-hours (95% CI)": _with_interval(mean, high, site, "idle_gpu_hours", ""),
                "idle cost (95% CI)": _with_interval(mean, high, site, "idle_cost_usd", "$"),
                "value lost (95% CI)": _with_interval(mean, high, site, "lost_value_usd", "$"),
                "stranded power (95% CI)": _with_interval(
                    mean, high, site, "stranded_power_mwh", "", shown=energy
                ),
                **(
                    {
                        "which layer holds them (Shapley share, from attribute)": shapley.get(
                            site, "-"
                        )
                    }
                    if shapley is not None
                    else {"which layer holds them (binding share)": why(stats, site)}
                ),
            }
        )
    return pd.DataFrame(rows)


def _with_interval(mean: dict[tuple[str, str], float], high: dict[tuple[str, str], float],
                   site: str, metric: str, prefix: str,
                   shown: Callable[[float], str] = big) -> str:  # fmt: skip
    """'$1.20B ± 310.00M': the mean and the half-width of its 95% interval."""
    value = mean.get((site, metric), float("nan"))
    half = high.get((site, metric), float("nan")) - value
    text = f"{prefix}{shown(value)}"
    return text if half != half else f"{text} ± {prefix}{shown(half)}"


def next_step_box(run_info: dict[str, Any], stats: pd.DataFrame, folder: Path) -> str:
    """The report's "next step": the commands that price the top levers, as the run ended
    (``folder``: the run's, if its command line does not name it)."""
    spec, file = run_info.get("spec"), run_info.get("source_file")
    if not isinstance(spec, dict) or not file:
        return ""
    steps = next_steps(spec, stats, str(file), _years_given(run_info),
                       _option_given(run_info, "--out") or str(folder))  # fmt: skip
    if not steps:
        return ""
    commands = "\n".join(html.escape(step) for step in steps)
    return (
        "<div class='next'><h2>Next step</h2><p>Price the levers of the layer that holds the"
        " most GPU-hours (<code>compare</code>: the file as written against each lever, with"
        " the same random numbers) and what each layer is worth (<code>attribute</code>: the"
        " Shapley share, what removing it saves, where the table above shows the binding"
        " share):</p>"
        f"<pre>{commands}</pre></div>"
    )


def _years_given(run_info: dict[str, Any]) -> float | None:
    """The --years the run was given (from its command line), if any."""
    value = _option_given(run_info, "--years")
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _option_given(run_info: dict[str, Any], option: str) -> str | None:
    """The value of ``option`` on the run's command line, if it was given."""
    line = [str(part) for part in run_info.get("command_line", [])]
    for index, part in enumerate(line):
        if part.startswith(f"{option}="):
            return part.partition("=")[2]
        if part == option and index + 1 < len(line):
            return line[index + 1]
    return None
