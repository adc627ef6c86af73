"""S-curves: by each date, the share of replications in which a site had first power,
and in which all its GPUs ran, with the P50, P80 and P90 dates planners quote.

The curve is scurves.csv (the share of all replications that had reached the
milestone by each date; it stops below 1 when some never did within the horizon).
The marked dates are stats.csv's p50, p80 and p90, so the chart and the tables
quote the same dates; a percentile not reached within the horizon is said so in
the legend instead of being drawn.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dcsim.output.charting import calendar_axis, day_zero

# (name in scurves.csv, metric in stats.csv, what the panel answers)
CURVES = (
    ("first_power", "first_power_days", "first power"),
    ("all_running", "all_running_days", "all GPUs running"),
)
MARKS = ((50, "#1f77b4", "-"), (80, "#ff7f0e", "--"), (90, "#d62728", ":"))


def s_curve_figure(
    scurves: pd.DataFrame, stats: pd.DataFrame, site: str, start: pd.Timestamp
) -> Figure:
    """Two panels, x in matplotlib date numbers; each P line has the gid ``P50`` etc."""
    origin = day_zero(start)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for ax, (name, metric, label) in zip(axes, CURVES, strict=True):
        rows = scurves[(scurves["site"] == site) & (scurves["metric"] == name)]
        rows = rows.sort_values("days")
        ax.set_title(f"{site}: by when {label}?", fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.grid(color="#eee", lw=0.5)
        if rows.empty:
            ax.text(0.5, 0.5, "not reached within the horizon\nin any replication",
                    transform=ax.transAxes, ha="center", va="center", fontsize=9)  # fmt: skip
            ax.set_xticks([])
            continue
        x = origin + rows["days"].to_numpy(dtype=float)
        share = rows["share_reached"].to_numpy(dtype=float)
        ax.step(np.r_[x[0], x], np.r_[0.0, share], where="post", color="black", lw=1.8,
                label="share of replications reached")  # fmt: skip
        found = stats[(stats["site"] == site) & (stats["metric"] == metric)]
        for q, color, style in MARKS:
            value = float(found[f"p{q}"].iloc[0]) if len(found) else math.nan
            if math.isnan(value):
                ax.plot([], [], color=color, ls=style, label=f"P{q}: not within the horizon")
                continue
            when = (start + pd.Timedelta(days=value)).date()
            ax.axvline(origin + value, color=color, ls=style, lw=1.3, gid=f"P{q}",
                       label=f"P{q}: {when}")  # fmt: skip
        if x[-1] - x[0] < 30:  # every replication on (nearly) the same day: show a season
            ax.set_xlim(x[0] - 45, x[-1] + 45)
        calendar_axis(ax.xaxis, most=7)
        ax.set_xlabel("date")
        # Below the panel, so it never covers the curve.
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    axes[0].set_ylabel("share of replications")
    return fig
