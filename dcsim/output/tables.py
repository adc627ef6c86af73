"""The tables dcsim prints: after a run, and after each what-if (laid out by rich,
see terminal.py; numbers formatted as on the report pages, see numbers.py)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from dcsim.experiments.cascade import NEAR_ZERO
from dcsim.experiments.compare import no_difference, ranking, unchanged
from dcsim.experiments.results import RunResult
from dcsim.experiments.statistics import why
from dcsim.experiments.sweep import point_summary
from dcsim.output.numbers import (
    big,
    count,
    difference,
    few_replications_note,
    metric_words,
    number,
    percent,
    share_interval,
)
from dcsim.output.terminal import paragraph, table


def _stat(stats: pd.DataFrame, site: str, metric: str) -> pd.Series:
    row = stats[(stats["site"] == site) & (stats["metric"] == metric)]
    return row.iloc[0]


def _date(result: RunResult, days: float) -> str:
    if math.isnan(days):
        return "-"
    return result.scenario.date_of(days).date().isoformat()


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
    start = result.scenario.start_date
    rows = []
    for site in sites:
        idle = _stat(stats, site, "idle_gpu_hours")
        half = (idle["ci95_high"] - idle["mean"]) if not math.isnan(idle["ci95_high"]) else 0
        rows.append((
            site,
            count(_stat(stats, site, "gpus_delivered")["mean"]),
            p_date(_stat(stats, site, "first_power_days"), start),
            p_date(_stat(stats, site, "all_running_days"), start),
            f"{big(idle['mean'])} ± {big(half)}" if reps > 1 else big(idle["mean"]),
            "$" + big(_stat(stats, site, "idle_cost_usd")["mean"]),
            why(stats, site),
        ))  # fmt: skip
    columns = ("site", "GPUs on site", "first power P50 [P10, P90]",
               "all running P50 [P10, P90]",
               "idle GPU-hours (± 95% CI)" if reps > 1 else "idle GPU-hours",
               "idle cost (USD)", "binding layers (share of idle)")  # fmt: skip
    lines = [table(columns, rows, numeric=(1, 4, 5))]
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
                paragraph(
                    f"{site}: no GPUs stood on the site within the horizon (it ends {horizon_end};"
                    f" {how} {_date(result, first.delivery)}): nothing to run yet."
                )
            )
    lines.append(
        paragraph(
            f"({reps} replication(s); dates: the median replication's, with the 10th and 90th"
            " percentiles' months; 'later' = not reached within the horizon in that share of"
            " replications; binding layers: each layer's part of the mean idle GPU-hours,"
            " which may be one layer in some replications and another in the rest (summary.csv"
            " has each replication's); k = thousand, M = million, B = billion)"
        )
    )
    return "\n".join(lines)


def compare_text(table_: pd.DataFrame) -> str:
    """The compare table as printed: the headline metrics, paired intervals."""
    headline = ["idle_gpu_hours", "idle_cost_usd", "first_power_days", "all_running_days"]
    transit = table_[table_["metric"] == "gpu_hours_in_transit"]
    if (transit[["base_mean", "variant_mean"]].fillna(0) != 0).any(axis=None):
        # Pooled lots are routed: the GPU-hours they spend in transit, and compute delivered.
        headline[1:1] = ["gpu_hours_in_transit", "gpu_hours_running"]
    rows = []
    shown = table_[table_["metric"].isin(headline)]
    same = unchanged(shown)
    for _, row in shown[~no_difference(shown)].iterrows():
        metric = str(row["metric"])
        rows.append((
            str(row["variant"]), str(row["site"]), metric_words(metric), str(row["n"]),
            number(row["base_mean"], metric), number(row["variant_mean"], metric),
            f"{difference(row['diff_mean'], metric)} [{difference(row['diff_ci95_low'], metric)},"
            f" {difference(row['diff_ci95_high'], metric)}]",
            "*" if row["distinguishable"] else "",
        ))  # fmt: skip
    columns = ("variant", "site", "metric", "pairs", "base", "variant value",
               "variant − base (95% CI)", "")  # fmt: skip
    lines = [table(columns, rows, numeric=(3, 4, 5, 6))]
    lines.append(
        paragraph(
            "* = distinguishable from zero (the 95% interval excludes it); pairs = replications"
            " where both runs reached the value (dates never reached are left out); dates in"
            " years from the start, their changes in days, money in USD; a metric the variant"
            " left the same in every replication is left out"
            # Only the metrics shown: a variant may still move others (lead times, say).
            + left_out(shown, same, _NONE_OF_THESE)
        )
    )
    ranked = ranking(table_)
    where = ranked["site"].iloc[0].strip("()")
    worse = (ranked["saving_waiting_gpu_hours"] < 0).any()
    note = " (a negative saving: the variant idles more than the base)" if worse else ""
    levers = [
        (f"{row['rank']}.", str(row["variant"]),
         f"{big(row['saving_waiting_gpu_hours'])} [{big(row['saving_ci95_low'])},"
         f" {big(row['saving_ci95_high'])}]", number(row["saving_lost_value_usd"], "_usd"))
        for _, row in ranked.iterrows()
    ]  # fmt: skip
    lines.append("")
    lines.append(table(("rank", "lever", "GPU-hours saved idle or in transit (95% CI)",
                        "compute value saved (USD)"), levers, numeric=(0, 2, 3),
                       title=f"levers ranked by GPU-hours saved, {where}{note}:"))  # fmt: skip
    return "\n".join(lines)


_NONE_OF_THESE = "sites where the variant changed none of these metrics (compare.csv has every one)"


def left_out(
    table_: pd.DataFrame, same: pd.Series, words: str = "sites the variant did not change at all"
) -> str:
    """The note naming the sites each variant left exactly as they were in ``table_``'s
    metrics ("" if none); ``words`` introduce them."""
    gone = table_[same].drop_duplicates(["variant", "site"])
    if gone.empty:
        return ""
    by_variant = gone.groupby("variant", sort=False)["site"].agg(", ".join)
    named = "; ".join(f"{variant}: {sites}" for variant, sites in by_variant.items())
    return f"; {words}: {named}"


def sweep_text(table_: pd.DataFrame, keys: list[str]) -> str:
    """Each grid point and site: mean idle GPU-hours and idle cost, with 95% intervals."""
    rows = [
        (*(str(row[k]) for k in keys), str(row["site"]), str(row["n"]),
         with_interval(row, "idle_gpu_hours"), with_interval(row, "idle_cost_usd"))
        for _, row in point_summary(table_, keys).iterrows()
    ]  # fmt: skip
    columns = (*keys, "site", "reps", "idle GPU-hours (95% CI)", "idle cost (95% CI)")
    return table(columns, rows, numeric=(len(keys) + 1, len(keys) + 2, len(keys) + 3))


def with_interval(row: pd.Series, metric: str) -> str:
    """'1.20B [1.10B, 1.30B]': a mean and its interval (the mean alone from one replication)."""
    mean, low, high = (float(row[f"{metric}_{part}"]) for part in ("mean", "ci95_low", "ci95_high"))
    if math.isnan(high):
        return number(mean, metric)
    low = max(low, 0.0)  # idle time and its cost are never negative
    return f"{number(mean, metric)} [{number(low, metric)}, {number(high, metric)}]"


def cascade_text(table_: pd.DataFrame) -> str:
    """The cascade as printed: one line per step, what binds after it."""
    rows = []
    for _, row in table_.iterrows():
        # Idle GPU-hours are never negative: a t-interval's low end is shown from 0.
        interval = (f"{big(row['idle_gpu_hours_mean'])}"
                    f" [{big(_at_least_zero(row['idle_gpu_hours_ci95_low']))},"
                    f" {big(row['idle_gpu_hours_ci95_high'])}]")  # fmt: skip
        binds = (f"{row['binds_next']} ({row['binds_next_share']:.0%})"
                 if row["binds_next"] != "-" else "- (nothing left idle)")  # fmt: skip
        so_far = str(row["removed_so_far"]).replace("+", " → ")
        rows.append((str(row["step"]), str(row["layer_removed"]), so_far, interval,
                     "$" + big(row["idle_cost_usd_mean"]), binds))  # fmt: skip
    columns = (
        "step",
        "layer removed",
        "removed so far (in order)",
        "idle GPU-hours (95% CI)",
        "idle cost (USD)",
        "binds next (share of idle)",
    )
    lines = [table(columns, rows, numeric=(0, 3, 4))]
    last, base = table_.iloc[-1], float(table_["idle_gpu_hours_mean"].iloc[0])
    if last["binds_next"] != "-" and base > 0:
        left = float(last["idle_gpu_hours_mean"]) / base
        lines.append(paragraph(
            f"stopped: {left:.1%} of the base's idle GPU-hours is left, under the"
            f" {NEAR_ZERO:.0%} the cascade stops at ({last['binds_next']} holds most of it)"
        ))  # fmt: skip
    return "\n".join(lines)


def attribution_text(table_: pd.DataFrame, replications: int | None = None) -> str:
    """Per site, layers ranked by Shapley share, with the saving alone and criticality."""
    lines = []
    for site, group in table_.groupby("site", sort=False):
        total = float(group["base_idle_gpu_hours"].iloc[0])
        rows = []
        for _, row in group.sort_values("shapley", ascending=False).iterrows():
            if max(abs(float(row["shapley_share"])), float(row["binding_share"]),
                   float(row["alone_share"])) < 0.005:  # fmt: skip
                continue  # worth nothing at this site: as on the report page
            if total > 0:
                low, high = row["shapley_ci95_low"] / total, row["shapley_ci95_high"] / total
                interval = share_interval(row["shapley_share"], low, high)
            else:
                interval = "-"
            partner = (f"{row['strongest_partner']} (+{big(row['interaction'])})"
                       if row["strongest_partner"] else "")  # fmt: skip
            rows.append(
                (
                    str(row["layer"]),
                    interval,
                    percent(row["alone_share"]),
                    percent(row["binding_share"]),
                    percent(row["criticality"]),
                    partner,
                )
            )
        lines.append(table(("layer", "Shapley share [95% CI]", "saved alone", "binding share",
                            "criticality", "complements (GPU-hours together)"), rows,
                           numeric=(1, 2, 3, 4), title=f"{site}: {big(total)} idle GPU-hours"
                           " (mean)"))  # fmt: skip
    lines.append(
        paragraph(
            "(Shapley share: the layer's part of the idle GPU-hours, averaged over every order of"
            " fixing the layers; shares add up to 100%. saved alone: relaxing only that layer."
            " binding share: the binding-layer rule. criticality: replications in which the layer"
            " has the largest Shapley value. complements: the layer that saves most together with"
            " it, beyond the two alone. Layers worth under half a percent are left out.)"
        )
    )
    warning = few_replications_note(replications)
    if warning:
        lines.append(paragraph(warning))
    return "\n".join(lines)


def _at_least_zero(value: float) -> float:
    return value if value != value else max(0.0, value)
