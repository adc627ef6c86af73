"""The compact per-site table printed after a run."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from dcsim.experiments.compare import ranking
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
    if value == 0:
        return "0"  # not "-0"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):  # billion, million, thousand
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.0f}"


def p_date(stat: pd.Series, start: dt.date) -> str:
    """P50 date with the P10-P90 months: '2027-03-01 [2026-11, 2027-08]'.

    A percentile beyond the horizon (not reached in enough replications) reads
    'later'.
    """

    def day(days: float, length: int) -> str:
        if days != days:
            return "later"
        return (dt.datetime.combine(start, dt.time()) + dt.timedelta(days=days)).date(
        ).isoformat()[:length]  # fmt: skip

    return f"{day(stat['p50'], 10)} [{day(stat['p10'], 7)}, {day(stat['p90'], 7)}]"


def site_table(result: RunResult) -> str:
    """Sites ordered by idle GPU-hours, most first, with why they were idle."""
    stats, reps = result.stats, result.replications
    sites = [s.name for s in result.scenario.sites]
    sites.sort(key=lambda s: -float(_stat(stats, s, "idle_gpu_hours")["mean"]))
    header = (
        f"{'site':14s} {'GPUs on site':>12s} {'first power P50 [P10, P90]':>30s}"
        f" {'all running P50 [P10, P90]':>30s}"
        f" {'idle GPU-hours (95% CI)':>24s} {'idle cost':>10s}  binding layers"
    )
    lines = [header, "-" * len(header)]
    for site in sites:
        idle = _stat(stats, site, "idle_gpu_hours")
        start = result.scenario.start_date
        first_text = p_date(_stat(stats, site, "first_power_days"), start)
        running_text = p_date(_stat(stats, site, "all_running_days"), start)
        half = (idle["ci95_high"] - idle["mean"]) if not math.isnan(idle["ci95_high"]) else 0
        idle_text = f"{big(idle['mean'])} ± {big(half)}" if reps > 1 else big(idle["mean"])
        lines.append(
            f"{site:14s} {big(_stat(stats, site, 'gpus_delivered')['mean']):>12s}"
            f" {first_text:>30s}"
            f" {running_text:>30s} {idle_text:>24s}"
            f" {'$' + big(_stat(stats, site, 'idle_cost_usd')['mean']):>10s}  {why(stats, site)}"
        )
    horizon_end = _date(result, result.scenario.horizon_days)
    for site in sites:
        if float(_stat(stats, site, "gpus_delivered")["max"]) == 0:
            spec = result.scenario.site(site)
            first = min(spec.lots, key=lambda lot: lot.delivery)
            how = (f"ordered from {first.supply} on" if first.supply
                   else "contracted for")  # fmt: skip
            if result.scenario.routes and any(lot.pooled for lot in spec.lots):
                how = f"the fleet may route its pooled lots elsewhere; the first is {how}"
            else:
                how = f"the first lot is {how}"
            lines.append(
                f"{site}: no GPUs stood on the site within the horizon (it ends {horizon_end};"
                f" {how} {_date(result, first.delivery)}): nothing to run yet."
            )
    lines.append(
        f"({reps} replication(s); dates: the median replication's, with the 10th and 90th"
        " percentiles' months; 'later' = not reached within the horizon in that share of"
        " replications; k = thousand, M = million, B = billion)"
    )
    return "\n".join(lines)


def compare_text(table: pd.DataFrame) -> str:
    """The compare table as printed: the headline metrics, paired intervals."""
    wide = max(12, *(len(str(v)) for v in table["variant"]))
    where = max(12, *(len(str(v)) for v in table["site"]))
    lines = [
        f"{'variant':{wide}s} {'site':{where}s} {'metric':22s} {'n':>4s} {'base':>10s}"
        f" {'variant':>10s} {'difference (95% CI)':>30s}"
    ]
    headline = ["idle_gpu_hours", "idle_cost_usd", "first_power_days", "all_running_days"]
    transit = table[table["metric"] == "gpu_hours_in_transit"]
    if (transit[["base_mean", "variant_mean"]].fillna(0) != 0).any(axis=None):
        # Pooled lots are routed: the GPU-hours they spend in transit, and compute delivered.
        headline[1:1] = ["gpu_hours_in_transit", "gpu_hours_running"]
    shown = table[table["metric"].isin(headline)]
    for _, row in shown.iterrows():
        mark = "*" if row["distinguishable"] else " "
        lines.append(
            f"{row['variant']:{wide}s} {row['site']:{where}s} {row['metric']:22s}"
            f" {row['n']:>4d} {big(row['base_mean']):>10s} {big(row['variant_mean']):>10s}"
            f" {big(row['diff_mean']):>9s} [{big(row['diff_ci95_low'])},"
            f" {big(row['diff_ci95_high'])}] {mark}"
        )
    lines.append(
        "* = distinguishable from zero (the 95% interval excludes it); n = replication"
        " pairs where both runs reached the value (dates never reached are left out);"
        " days are days"
    )
    ranked = ranking(table)
    where = ranked["site"].iloc[0].strip("()")
    worse = (ranked["saving_waiting_gpu_hours"] < 0).any()
    note = " (a negative saving: the variant idles more than the base)" if worse else ""
    lines.append(f"\nlevers ranked by GPU-hours saved idle or in transit, {where}{note}:")
    for _, row in ranked.iterrows():
        lines.append(
            f"  {row['rank']:>2d}. {row['variant']:20s} {big(row['saving_waiting_gpu_hours']):>9s}"
            f" [{big(row['saving_ci95_low'])}, {big(row['saving_ci95_high'])}] GPU-hours,"
            f" ${big(row['saving_lost_value_usd'])} of compute"
        )
    return "\n".join(lines)


def sweep_text(table: pd.DataFrame, keys: list[str]) -> str:
    """Mean idle GPU-hours at each grid point and site."""
    means = table.groupby([*keys, "site"], sort=False)["idle_gpu_hours"].mean() / 1e6
    return "mean idle GPU-hours (millions)\n" + means.round(2).to_string()


def cascade_text(table: pd.DataFrame) -> str:
    """The cascade as printed: one line per step, what binds after it."""
    lines = [
        f"{'step':>4s}  {'layer removed':14s} {'idle GPU-hours (95% CI)':>28s}"
        f" {'idle cost':>10s}  binds next"
    ]
    for _, row in table.iterrows():
        interval = (
            f"{big(row['idle_gpu_hours_mean'])}"
            # Idle GPU-hours are never negative: a t-interval's low end is shown from 0.
            f" [{big(_at_least_zero(row['idle_gpu_hours_ci95_low']))},"
            f" {big(row['idle_gpu_hours_ci95_high'])}]"
        )
        binds = (
            f"{row['binds_next']} ({row['binds_next_share']:.0%})"
            if row["binds_next"] != "-"
            else "- (nothing left idle)"
        )
        cost = "$" + big(row["idle_cost_usd_mean"])
        lines.append(
            f"{row['step']:>4d}  {row['layer_removed']:14s} {interval:>28s} {cost:>10s}  {binds}"
        )
    return "\n".join(lines)


def attribution_text(table: pd.DataFrame) -> str:
    """Per site, layers ranked by Shapley share, with the saving alone and criticality."""
    lines = []
    for site, group in table.groupby("site", sort=False):
        total = float(group["base_idle_gpu_hours"].iloc[0])
        lines.append(f"{site}: {big(total)} idle GPU-hours (mean)")
        lines.append(
            f"  {'layer':14s} {'Shapley share [95% CI]':>26s} {'saved alone':>12s}"
            f" {'binding share':>14s} {'criticality':>12s}  complements"
        )
        for _, row in group.sort_values("shapley", ascending=False).iterrows():
            if total > 0:
                low, high = row["shapley_ci95_low"] / total, row["shapley_ci95_high"] / total
                interval = f"{row['shapley_share']:.0%} [{_pct(low)}, {_pct(high)}]"
            else:
                interval = "-"
            partner = (f"{row['strongest_partner']} (+{big(row['interaction'])})"
                       if row["strongest_partner"] else "")  # fmt: skip
            lines.append(
                f"  {row['layer']:14s} {interval:>26s} {_pct(row['alone_share']):>12s}"
                f" {_pct(row['binding_share']):>14s} {row['criticality']:>12.0%}  {partner}"
            )
    lines.append(
        "(Shapley share: the layer's part of the idle GPU-hours, averaged over every order of"
        " fixing the layers; shares add up to 100%. saved alone: relaxing only that layer."
        " binding share: the binding-layer rule. criticality: replications in which the layer"
        " has the largest Shapley value. complements: the layer that saves most together with"
        " it, beyond the two alone.)"
    )
    return "\n".join(lines)


def _pct(value: float) -> str:
    if value != value:
        return "-"
    text = f"{value:.0%}"
    return "0%" if text == "-0%" else text  # a rounding speck below zero is still zero


def _at_least_zero(value: float) -> float:
    return value if value != value else max(0.0, value)
