"""One site's build-out over calendar time: each layer's capacity against the GPUs.

The upper panel draws the GPUs on site and running, the idle area between them
shaded by the layer that binds, and every layer's capacity on top (a layer at
zero that binds must stay visible above the GPU lines, not hide under them). The
lower panel is a strip with one row per kind of milestone, so every milestone is
marked and labelled however many fall close together.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dcsim.model.layers import LAYERS, Kind
from dcsim.output.charting import calendar_axis, day_zero

# The milestones drawn on the strip, top to bottom, by their names in events.csv.
MILESTONES = {
    "request_submitted": "grid request",
    "agreement_signed": "agreement signed",
    "network_upgrade_completed": "network upgrade",
    "tranche_energized": "tranche energized",
    "transformer_in_service": "transformer",
    "switchgear_in_service": "switchgear",
    "onsite_block_online": "on-site block",
    "hall_commissioned": "hall commissioned",
    "retrofit_started": "retrofit started",
    "retrofit_completed": "retrofit done",
    "lot_delivered": "GPU lot delivered",
    "first_power": "first power",
    "all_gpus_running": "all GPUs running",
}


def idle_staircase(
    rows: pd.DataFrame, origin: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each interval between rows as two points: (x, running, on site, binding layer).

    x is ``origin`` plus the row's day. Rows hold their state until the next one, so
    interval k runs from row k to row k + 1 at row k's values. Drawn with plain (not
    stepped) fill_between, this staircase shades every interval exactly, the last
    one included.
    """
    days = origin + rows["time_days"].to_numpy(dtype=float)
    x = np.repeat(days, 2)[1:-1]  # t0 t1 t1 t2 t2 ... t_last
    low = np.repeat(rows["running_it_mw"].to_numpy()[:-1], 2)
    high = np.repeat(rows["on_site_it_mw"].to_numpy()[:-1], 2)
    binding = np.repeat(rows["binding_layer"].fillna("").to_numpy(dtype=str)[:-1], 2)
    return x, low, high, binding


def _capacity(rows: pd.DataFrame, column: str) -> pd.Series:
    """A layer's capacity where it exists: cooling is a property of halls, so it is
    drawn once a hall is commissioned, not while the halls are still being built;
    an unlimited capacity (a layer the site does not constrain) is not drawn."""
    values = rows[column].astype(float).where(np.isfinite(rows[column]))
    if column == "cap_cooling_mw" and "cap_building_mw" in rows:
        values = values.where(rows["cap_building_mw"] > 0)
    return values


def timeline_figure(
    ts: pd.DataFrame, events: pd.DataFrame, site: str, start: pd.Timestamp, horizon_days: float
) -> Figure:
    """The figure: x in matplotlib date numbers (days), so an area is MW x days."""
    rows = ts[ts["site"] == site].sort_values("time_days")
    # The state holds until the horizon: repeat the last row there so the steps reach it.
    last = rows.iloc[[-1]].copy()
    last["time_days"] = max(horizon_days, float(last["time_days"].iloc[0]))
    rows = pd.concat([rows, last], ignore_index=True)
    origin = day_zero(start)
    x = origin + rows["time_days"].to_numpy(dtype=float)
    marks = events[(events["site"] == site) & events["event"].isin(list(MILESTONES))]
    kinds = [kind for kind in MILESTONES if kind in set(marks["event"])]
    fig, (ax, strip) = plt.subplots(
        2, 1, sharex=True, figsize=(11, 5.2 + 0.18 * len(kinds)),
        gridspec_kw={"height_ratios": [4, 0.6 + 0.22 * max(len(kinds), 1)], "hspace": 0.08},
    )  # fmt: skip
    shade_x, low, high, binding = idle_staircase(rows, origin)
    for layer in LAYERS:
        mask = binding == layer.name
        if mask.any():
            ax.fill_between(
                shade_x, low, high, where=mask, color=layer.color, alpha=0.25, lw=0,
                label=f"idle: {layer.name} binds", zorder=1,
            )  # fmt: skip
    on_site, running = rows["on_site_it_mw"], rows["running_it_mw"]
    ax.step(x, on_site, where="post", color="black", lw=2.2, label="GPUs on site", zorder=2)
    ax.step(x, running, where="post", color="#2ca02c", lw=2.2, label="GPUs running", zorder=2)
    top = max(float(on_site.max()), 1.0)
    for layer in LAYERS:
        if layer.kind is Kind.CREWS:  # installed GPUs: the "GPUs on site" line tells it
            continue
        values = _capacity(rows, layer.column)
        if values.notna().any():
            top = max(top, float(values.max()))
            ax.step(x, values, where="post", color=layer.color, lw=1.4, ls=(0, (4, 1.5)),
                    label=f"{layer.name} capacity", zorder=3)  # fmt: skip
    ax.set_ylim(0, top * 1.08)  # every layer in view, however far above the GPUs
    pad = (x[-1] - x[0]) * 0.01  # a milestone on the first or last day stays in view
    ax.set_xlim(x[0] - pad, x[-1] + pad)
    ax.set_ylabel("IT MW")
    ax.set_title(f"{site}: when GPUs run, and which layer holds the rest (replication 0)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    for row, kind in enumerate(kinds):
        when = origin + marks.loc[marks["event"] == kind, "time_days"].to_numpy(dtype=float)
        strip.plot(when, np.full(len(when), row), "|", ms=9, mew=1.6, color="dimgrey")
    strip.set_yticks(range(len(kinds)),
                     [f"{MILESTONES[k]} ({(marks['event'] == k).sum()})" for k in kinds],
                     fontsize=7)  # fmt: skip
    strip.set_ylim(len(kinds) - 0.5, -0.5)
    strip.grid(axis="x", color="#ddd", lw=0.5)
    strip.set_xlabel("date")
    if not kinds:
        strip.set_yticks([])
        strip.text(0.5, 0.5, "no milestone within the horizon", transform=strip.transAxes,
                   ha="center", va="center", fontsize=8)  # fmt: skip
    calendar_axis(strip.xaxis)
    return fig
