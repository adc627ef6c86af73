"""The what-if charts: a tornado for compare, a waterfall for cascade, Shapley bars
for attribute. Each answers one question in its title and carries 95% intervals."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from dcsim.experiments.compare import ranking
from dcsim.output.charting import COLORS, png
from dcsim.output.numbers import big


def attribution_chart(table: pd.DataFrame) -> bytes:
    """Per site, each layer's Shapley share of the idle GPU-hours with its 95% interval,
    beside its binding share (what the run's table shows)."""
    sites = list(dict.fromkeys(table["site"]))
    fig, axes = plt.subplots(1, len(sites), figsize=(5.5 * len(sites), 3.8), squeeze=False)
    for ax, site in zip(axes[0], sites, strict=True):
        rows = table[table["site"] == site].sort_values("shapley_share").reset_index(drop=True)
        rows = rows[(rows["shapley_share"].abs() > 0.005) | (rows["binding_share"] > 0.005)]
        total = rows["base_idle_gpu_hours"].iloc[0] if len(rows) else 0.0
        share = rows["shapley_share"] * 100
        err = [
            (rows["shapley"] - rows["shapley_ci95_low"]).clip(lower=0) / total * 100,
            (rows["shapley_ci95_high"] - rows["shapley"]).clip(lower=0) / total * 100,
        ]
        where = range(len(rows))
        ax.barh(
            where,
            share,
            xerr=err if total else None,
            capsize=3,
            label="Shapley share",
            color=[COLORS.get(str(layer), "grey") for layer in rows["layer"]],
        )
        ax.scatter(rows["binding_share"] * 100, where, marker="|", s=300, color="black",
                   label="binding share", zorder=3)  # fmt: skip
        ax.set_yticks(list(where), list(rows["layer"]), fontsize=8)
        ax.set_xlabel("share of idle GPU-hours (%)")
        ax.set_title(f"{site}: what fixing each layer is worth", fontsize=10)
        swatch = Patch(color="grey", label="Shapley share (95% CI)")
        handles = [swatch, *ax.get_legend_handles_labels()[0][1:]]  # the bars' colour is a layer's
        ax.legend(handles=handles, fontsize=7, loc="lower right")
    fig.suptitle("Which layer holds the GPUs (Shapley share, 95% CI; | binding share)",
                 fontsize=10)  # fmt: skip
    return png(fig)


def compare_chart(table: pd.DataFrame) -> bytes:
    """A tornado of the levers: saving against the base, most first, with paired 95% CIs."""
    ranked = ranking(table).iloc[::-1]  # barh draws bottom-up: the best lever on top
    fig, axes = plt.subplots(1, 2, figsize=(11, max(2.5, 0.5 * len(ranked) + 1.5)), sharey=True)
    panels = (
        ("saving_waiting_gpu_hours", "saving_ci95_low", "saving_ci95_high", 1e6,
         "GPU-hours saved idle or in transit (millions)"),
        ("saving_lost_value_usd", "saving_value_ci95_low", "saving_value_ci95_high", 1e6,
         "value of compute saved (million USD)"),
    )  # fmt: skip
    for ax, (mean, low, high, scale, label) in zip(axes, panels, strict=True):
        values = ranked[mean] / scale
        err = [(ranked[mean] - ranked[low]).fillna(0) / scale,
               (ranked[high] - ranked[mean]).fillna(0) / scale]  # fmt: skip
        ax.barh(range(len(ranked)), values, xerr=err, capsize=3,
                color=["#2ca02c" if v >= 0 else "#d62728" for v in values])  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(label)
    axes[0].set_yticks(range(len(ranked)), list(ranked["variant"]), fontsize=8)
    site = str(ranked["site"].iloc[0]) if len(ranked) else ""
    fig.suptitle(
        f"Which lever buys the most back ({site.strip('()')}; paired, 95% CI)", fontsize=10
    )
    return png(fig)


def cascade_chart(table: pd.DataFrame) -> bytes:
    """The cascade as a waterfall: the base's idle GPU-hours, then what removing each
    binding layer in turn takes off (a bar from the level before to the level after, in
    the removed layer's colour), then what is left; each level with its 95% interval."""
    scale, unit = (1e9, "billions") if table["idle_gpu_hours_mean"].max() >= 1e9 else (
        1e6, "millions")  # fmt: skip
    level = (table["idle_gpu_hours_mean"] / scale).to_numpy(dtype=float)
    low = (table["idle_gpu_hours_ci95_low"] / scale).clip(lower=0).to_numpy(dtype=float)
    high = (table["idle_gpu_hours_ci95_high"] / scale).to_numpy(dtype=float)
    removed = [str(r) for r in table["layer_removed"]]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.5 * (len(table) + 1)), 4.0))
    ax.bar(0, level[0], color="#888", width=0.6)
    for step in range(1, len(table)):
        drop = level[step] - level[step - 1]
        ax.bar(step, drop, bottom=level[step - 1], width=0.6, color=COLORS.get(removed[step],
               "grey"), hatch="//" if drop > 0 else None)  # fmt: skip
        ax.plot([step - 1.3, step + 0.3], [level[step - 1]] * 2, color="black", lw=0.6)
        ax.annotate(("+" if drop > 0 else "−") + big(abs(drop) * scale),
                    (step, max(level[step - 1], level[step])), textcoords="offset points",
                    xytext=(0, 3), ha="center", fontsize=7)  # fmt: skip
    ends = len(table)
    ax.bar(ends, level[-1], color="#444", width=0.6)
    ax.plot([ends - 1.3, ends + 0.3], [level[-1]] * 2, color="black", lw=0.6)
    where = [0, *range(1, len(table)), ends]
    shown = [0, *range(1, len(table)), len(table) - 1]
    ax.errorbar(where, level[shown], fmt="none", ecolor="black", capsize=3, lw=0.8,
                yerr=[np.nan_to_num(level[shown] - low[shown]),
                      np.nan_to_num(high[shown] - level[shown])])  # fmt: skip
    binds = ["nothing" if str(b) == "-" else str(b) for b in table["binds_next"]]
    labels = [f"base\nbinds:\n{binds[0]}"]
    labels += [f"− {removed[i]}\nthen binds:\n{binds[i]}" for i in range(1, len(table))]
    labels.append("left after\nall removed")
    ax.set_xticks(where, labels, fontsize=8)
    ax.set_ylabel(f"idle GPU-hours ({unit})")
    ax.set_title("Bottleneck cascade: what removing each binding layer in turn takes off"
                 " (95% CI)", fontsize=10)  # fmt: skip
    return png(fig)
