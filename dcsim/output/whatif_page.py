"""The what-if reports' words and tables: their context, and numbers as the terminal shows them.

A what-if report says what it compares before it shows a number: the scenario,
replications, seed, horizon, dcsim version, the variants (or grid) with their
``--set`` lines, and the command that reruns it. Its tables use the terminal's
formats (k/M/B, $, years, percentages), headers in words, and leave out the
metrics that are zero (or unreached) in every row.
"""

from __future__ import annotations

import html
import math
import shlex
from typing import Any

import pandas as pd

from dcsim.experiments.compare import no_difference
from dcsim.output.numbers import (
    DAYS_PER_YEAR,
    big,
    difference,
    metric_words,
    number,
    percent,
    share_interval,
)


def context_html(run_info: dict[str, Any]) -> str:
    """What the report is of and how to make it again, before any number."""
    rows = [
        ("scenario", run_info.get("scenario", "?")),
        ("file", run_info.get("source_file", "?")),
        ("replications", run_info.get("replications", "?")),
        ("seed", run_info.get("seed", "?")),
    ]
    horizon = run_info.get("horizon_days")
    if isinstance(horizon, (int, float)):
        rows.append(("horizon", f"{horizon / DAYS_PER_YEAR:.1f} years"))
    rows.append(("dcsim version", run_info.get("dcsim_version", "?")))
    for name, given in (run_info.get("variants") or {}).items():
        rows.append((f"variant {name}", _variant_text(given)))
    for key, values in (run_info.get("grid") or {}).items():
        rows.append((f"swept {key}", ", ".join(str(v) for v in values)))
    line = [str(part) for part in run_info.get("command_line", [])]
    if line:
        rows.append(("rerun with", shlex.join(["dcsim", *line[1:]])))
    body = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td><code>{html.escape(str(value))}</code></td></tr>"
        for key, value in rows
    )
    return f"<table class='context'>{body}</table>"


def _variant_text(given: object) -> str:
    """A variant as run.json records it: its --set lines, its file (a path), or its file
    and the --set lines on top of it ({"file": ..., "set": [...]})."""
    if isinstance(given, str):
        given = {"file": given}
    if isinstance(given, list):
        given = {"set": given}
    if not isinstance(given, dict):
        return "?"
    parts = [f"the file {given['file']}"] if "file" in given else []
    parts += [f"--set {shlex.quote(str(s))}" for s in given.get("set", [])]
    return " ".join(parts) or "?"


def compare_table(table: pd.DataFrame) -> pd.DataFrame:
    """compare.csv for the page: words, formatted numbers, no metric that is zero throughout,
    no metric a variant left the same in every replication (the page's note says so)."""
    values = table[["base_mean", "variant_mean", "diff_mean"]].fillna(0)
    shown = table[(values != 0).any(axis=1) & ~no_difference(table)]
    shown = shown[~shown["metric"].isin(_all_zero(table, "metric"))]
    rows = []
    for _, row in shown.iterrows():
        metric = str(row["metric"])
        mark = " *" if row["distinguishable"] else ""
        rows.append({
            "variant": row["variant"],
            "site": row["site"],
            "metric": metric_words(metric),
            "pairs": int(row["n"]),
            "base": number(row["base_mean"], metric),
            "with the variant": number(row["variant_mean"], metric),
            "difference (95% CI)": f"{difference(row['diff_mean'], metric)}"
            f" [{difference(row['diff_ci95_low'], metric)},"
            f" {difference(row['diff_ci95_high'], metric)}]{mark}",
        })  # fmt: skip
    return pd.DataFrame(rows)


def _all_zero(table: pd.DataFrame, by: str) -> set[str]:
    """The ``by`` values whose base and variant are zero or missing in every row."""
    values = table[["base_mean", "variant_mean"]].fillna(0).abs().sum(axis=1)
    totals = values.groupby(table[by]).sum()
    return set(totals[totals == 0].index.astype(str))


def cascade_table(table: pd.DataFrame) -> pd.DataFrame:
    """cascade.csv for the page: each step, what it removed, what is left and what binds."""
    rows = []
    for _, row in table.iterrows():
        low = max(0.0, float(row["idle_gpu_hours_ci95_low"]))  # idle time is never negative
        high = float(row["idle_gpu_hours_ci95_high"])
        interval = "" if math.isnan(high) else f" [{big(low)}, {big(high)}]"
        binds = str(row["binds_next"])
        rows.append({
            "step": int(row["step"]),
            "layer removed": "(base)" if row["layer_removed"] == "-" else row["layer_removed"],
            "removed so far": "-" if row["removed_so_far"] == "-" else str(
                row["removed_so_far"]).replace("+", " → "),  # as the terminal prints it
            "idle GPU-hours (95% CI)": f"{big(float(row['idle_gpu_hours_mean']))}{interval}",
            "idle cost": number(float(row["idle_cost_usd_mean"]), "idle_cost_usd"),
            "binds next (share)": "nothing left idle" if binds == "-"
            else f"{binds} ({float(row['binds_next_share']):.0%})",
        })  # fmt: skip
    return pd.DataFrame(rows)


def attribution_table(table: pd.DataFrame) -> pd.DataFrame:
    """attribution.csv for the page: per site, layers by Shapley share (those with none left
    out), beside what the binding rule and relaxing each alone say."""
    rows = []
    for _, row in table.sort_values(["site", "shapley_share"], ascending=[True, False],
                                    kind="stable").iterrows():  # fmt: skip
        if max(abs(float(row["shapley_share"])), float(row["binding_share"])) < 0.005:
            continue
        total = float(row["base_idle_gpu_hours"]) or math.nan
        low, high = float(row["shapley_ci95_low"]) / total, float(row["shapley_ci95_high"]) / total
        rows.append({
            "site": row["site"],
            "layer": row["layer"],
            "Shapley share (95% CI)": share_interval(float(row["shapley_share"]), low, high),
            "GPU-hours it is worth": big(float(row["shapley"])),
            "saved fixing it alone": percent(float(row["alone_share"])),
            "binding share": percent(float(row["binding_share"])),
            "holds the most in": f"{percent(float(row['criticality']))} of replications",
        })  # fmt: skip
    return pd.DataFrame(rows)


def table_html(frame: pd.DataFrame) -> str:
    return str(frame.to_html(index=False, escape=True, border=0, classes="numbers"))


def sweep_table(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """sweep.csv for the page: each grid point and site, idle GPU-hours and cost with
    their 95% intervals, as the terminal prints them."""
    from dcsim.experiments.sweep import point_summary
    from dcsim.output.tables import with_interval

    return pd.DataFrame([
        {**{key: row[key] for key in keys}, "site": row["site"], "replications": int(row["n"]),
         "idle GPU-hours (95% CI)": with_interval(row, "idle_gpu_hours"),
         "idle cost (95% CI)": with_interval(row, "idle_cost_usd")}
        for _, row in point_summary(table, keys).iterrows()
    ])  # fmt: skip
