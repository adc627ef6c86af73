"""The sweep as small multiples: one panel per metric and swept key, with 95% intervals.

A column per swept key, a row per metric. In a panel, the key's values are
categories along the x axis (never joined by lines: 6 and 12 crews, or two
order policies, are not points on a curve), and each series holds the other
keys (and the site) fixed, so a factorial grid reads as an interaction plot.
Each marker is the mean over replications with its 95% t-interval.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dcsim.experiments.statistics import describe
from dcsim.output.charting import png

# (column, axis label, divisor): what a planner compares across a grid.
METRICS = (
    ("idle_gpu_hours", "idle GPU-hours (millions)", 1e6),
    ("idle_cost_usd", "idle cost (million USD)", 1e6),
    ("first_power_days", "first power (years from start)", 365.25),
    ("all_running_days", "all running (years from start)", 365.25),
)


def sweep_chart(table: pd.DataFrame, keys: list[str]) -> bytes:
    metrics = [m for m in METRICS if m[0] in table.columns]
    fig, axes = plt.subplots(len(metrics), len(keys), figsize=(4.6 * len(keys) + 0.8,
                             2.5 * len(metrics) + 1.2), squeeze=False)  # fmt: skip
    for column, key in enumerate(keys):
        labels: dict[str, Any] = {}
        others = [k for k in keys if k != key]
        values = list(dict.fromkeys(table[key].astype(str)))  # categories in grid order
        series = list(table.groupby(["site", *others], sort=False))
        for row, (metric, label, scale) in enumerate(metrics):
            ax = axes[row][column]
            for number, (held, group) in enumerate(series):
                held = held if isinstance(held, tuple) else (held,)
                fixed = [f"{k.rsplit('.', 1)[-1]} = {v}"
                         for k, v in zip(others, held[1:], strict=True)]  # fmt: skip
                name = ", ".join([str(held[0]), *fixed])
                means, halves = [], []
                for value in values:
                    reached = group[group[key].astype(str) == value][metric].dropna()
                    _, mean, _, low, _, _, _ = describe(reached.to_numpy(dtype=float))
                    means.append(mean / scale)
                    halves.append(0.0 if low != low else (mean - low) / scale)
                offset = (number - (len(series) - 1) / 2) * 0.08  # side by side, not on top
                drawn = ax.errorbar(np.arange(len(values)) + offset, means, yerr=halves,
                                    marker="o", linestyle="none", capsize=3)  # fmt: skip
                labels.setdefault(name, drawn)
            if table[metric].isna().all():  # e.g. no site powered within the horizon
                ax.text(0.5, 0.5, "not reached within the horizon\nin any replication",
                        ha="center", va="center", fontsize=8, color="0.4",
                        transform=ax.transAxes)  # fmt: skip
                ax.set_yticks([])
            ax.set_xticks(range(len(values)), values, fontsize=8)
            ax.set_xlim(-0.5, len(values) - 0.5)
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
            ax.grid(axis="y", alpha=0.3)
            if column == 0:
                ax.set_ylabel(label, fontsize=8)
            if row == len(metrics) - 1:
                ax.set_xlabel(key, fontsize=8)
                # Each column holds other keys fixed: its own legend, below it, off the data.
                ax.legend(list(labels.values()), list(labels), loc="upper center", fontsize=7,
                          bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)  # fmt: skip
    fig.suptitle("What each swept value does (mean over replications, 95% CI)",
                 fontsize=10)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)
