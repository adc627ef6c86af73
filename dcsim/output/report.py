"""Pictures of a run folder: PNG charts and one self-contained HTML page.

``dcsim report DIR`` reads the tables a run wrote (and compare.csv,
sweep.csv or cascade.csv when present) and writes PNGs plus report.html, whose
images are embedded so it opens anywhere without a network.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed, and the same pictures everywhere

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dcsim.errors import DcsimError
from dcsim.experiments.compare import ranking
from dcsim.model.layers import LAYERS, Kind
from dcsim.output.atomic import atomic_write
from dcsim.output.first_screen import headline, next_step_box
from dcsim.output.run_folder import read_run_info, read_table
from dcsim.output.whatif_page import (
    attribution_table,
    cascade_table,
    compare_table,
    context_html,
    table_html,
)

COLORS = {layer.name: layer.color for layer in LAYERS}
MILESTONES = {
    "request_submitted": "request",
    "agreement_signed": "agreement",
    "tranche_energized": "energized",
    "transformer_in_service": "transformer",
    "hall_commissioned": "hall",
    "retrofit_started": "retrofit",
    "retrofit_completed": "retrofit done",
    "lot_delivered": "lot",
    "onsite_block_online": "on-site block",
}
DAYS_PER_YEAR = 365.25


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def idle_staircase(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each interval between rows as two points: (years, running, on site, binding layer).

    Rows hold their state until the next one, so interval k runs from row k to
    row k + 1 at row k's values. Drawn with plain (not stepped) fill_between, this
    staircase shades every interval exactly, the last one included.
    """
    years = (rows["time_days"] / DAYS_PER_YEAR).to_numpy()
    x = np.repeat(years, 2)[1:-1]  # t0 t1 t1 t2 t2 ... t_last
    low = np.repeat(rows["running_it_mw"].to_numpy()[:-1], 2)
    high = np.repeat(rows["on_site_it_mw"].to_numpy()[:-1], 2)
    binding = np.repeat(rows["binding_layer"].fillna("").to_numpy(dtype=str)[:-1], 2)
    return x, low, high, binding


def timeline(
    ts: pd.DataFrame, events: pd.DataFrame, site: str, start: pd.Timestamp, horizon_days: float
) -> bytes:
    return _png(timeline_figure(ts, events, site, start, horizon_days))


def timeline_figure(
    ts: pd.DataFrame, events: pd.DataFrame, site: str, start: pd.Timestamp, horizon_days: float
) -> Figure:
    """Layer capacities against GPUs on site and running; idle area shaded by binding layer."""
    rows = ts[ts["site"] == site].sort_values("time_days")
    # The state holds until the horizon: repeat the last row there so the steps reach it.
    last = rows.iloc[[-1]].copy()
    last["time_days"] = max(horizon_days, float(last["time_days"].iloc[0]))
    rows = pd.concat([rows, last], ignore_index=True)
    years = rows["time_days"] / DAYS_PER_YEAR
    fig, ax = plt.subplots(figsize=(11, 4.8))
    top = max(rows["on_site_it_mw"].max(), 1.0) * 1.35
    for layer in LAYERS:
        if layer.kind is Kind.CREWS:  # installed GPUs: the "GPUs on site" line tells it
            continue
        if not np.isfinite(rows[layer.column]).any():  # the site does not model this layer
            continue
        values = rows[layer.column].clip(upper=top * 2)
        if values.max() > 0:
            ax.step(years, values, where="post", color=layer.color, lw=1.4, label=layer.name)
    ax.step(years, rows["on_site_it_mw"], where="post", color="black", lw=2, label="GPUs on site")
    ax.step(years, rows["running_it_mw"], where="post", color="#2ca02c", lw=2, label="GPUs running")
    shade_x, low, high, binding = idle_staircase(rows)
    for layer in LAYERS:
        mask = binding == layer.name
        if mask.any():
            ax.fill_between(
                shade_x, low, high, where=mask, color=layer.color, alpha=0.25,
                label=f"idle: {layer.name}",
            )  # fmt: skip
    marks = events[(events["site"] == site) & events["event"].isin(list(MILESTONES))]
    labelled: set[str] = set()
    for _, event in marks.iterrows():
        kind = str(event["event"])
        x = float(event["time_days"]) / DAYS_PER_YEAR
        ax.axvline(x, color="grey", lw=0.5, ls=":")
        if kind not in labelled:  # one label per kind keeps the chart legible
            labelled.add(kind)
            ax.text(
                x,
                top * 0.98,
                MILESTONES[kind],
                rotation=90,
                fontsize=7,
                va="top",
                ha="right",
                color="dimgrey",
            )
    ax.set_xlim(0, max(years.max(), 0.1))
    ax.set_ylim(0, top)
    ax.set_xlabel(f"years from {start.date()}")
    ax.set_ylabel("IT MW")
    ax.set_title(f"{site}: capacity by layer vs GPUs (replication 0)")
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def distributions(summary: pd.DataFrame, site: str) -> bytes:
    rows = summary[summary["site"] == site]
    panels = [
        ("idle_gpu_hours", 1e6, "idle GPU-hours (millions)"),
        ("first_power_days", DAYS_PER_YEAR, "first power (years from start)"),
        ("request_to_energization_days", DAYS_PER_YEAR, "request → energization (years)"),
        ("transformer_lead_time_days", 7, "transformer lead time (weeks)"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 2.8))
    for ax, (column, scale, label) in zip(axes, panels, strict=True):
        values = (rows[column] / scale).dropna()
        if len(values):
            ax.hist(values, bins=min(20, max(5, len(values) // 3)), color="#4c72b0")
        else:
            ax.text(0.5, 0.5, "not reached", ha="center", transform=ax.transAxes)
        ax.set_title(label, fontsize=9)
    fig.suptitle(
        f"{site}: across {rows['replication'].nunique()} replications", fontsize=10, y=1.06
    )  # above the panel titles
    return _png(fig)


def migration_chart(migration: pd.DataFrame, site: str) -> bytes:
    """Bottlenecks migrate: idle GPU-hours by binding layer, year by year, and stranded power."""
    rows = migration[migration["site"] == site].sort_values("year")
    fig, ax = plt.subplots(figsize=(11, 3.6))
    years = rows["year"].to_numpy()
    stacks = [
        (rows[f"share_{layer.name}"] * rows["idle_gpu_hours"] / 1e6).to_numpy() for layer in LAYERS
    ]
    ax.stackplot(years, stacks, colors=[layer.color for layer in LAYERS],
                 labels=[f"idle: {layer.name}" for layer in LAYERS], alpha=0.8)  # fmt: skip
    ax.set_xlabel("calendar year")
    ax.set_ylabel("idle GPU-hours (millions)")
    twin = ax.twinx()
    twin.plot(years, rows["stranded_power_mwh"] / 1e3, color="black", ls="--", marker=".",
              label="stranded power (right)")  # fmt: skip
    if "stranded_power_mwh_no_gpus" in rows:
        twin.plot(years, rows["stranded_power_mwh_no_gpus"] / 1e3, color="black", ls=":",
                  label="of it waiting for chips (right)")  # fmt: skip
    twin.set_ylabel("stranded power (GWh)")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + twin.get_legend_handles_labels()[1]
    ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.08, 1))
    ax.set_title(f"{site}: which layer holds the idle GPUs, year by year (means across"
                 " replications)")  # fmt: skip
    return _png(fig)


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
    return _png(fig)


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
    return _png(fig)


def cascade_chart(table: pd.DataFrame) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    means = table["idle_gpu_hours_mean"] / 1e6
    err = [
        (table["idle_gpu_hours_mean"] - table["idle_gpu_hours_ci95_low"]).fillna(0) / 1e6,
        (table["idle_gpu_hours_ci95_high"] - table["idle_gpu_hours_mean"]).fillna(0) / 1e6,
    ]
    colors = [COLORS.get(str(b), "grey") for b in table["binds_next"]]
    ax.bar(range(len(table)), means, yerr=err, capsize=3, color=colors)
    labels = [
        f"{'base' if r == '-' else '− ' + r}\nbinds: {b}"
        for r, b in zip(table["layer_removed"], table["binds_next"], strict=True)
    ]
    ax.set_xticks(range(len(table)), labels, fontsize=8)
    ax.set_ylabel("idle GPU-hours (millions)")
    ax.set_title("Bottleneck cascade: remove the binding layer, see what binds next")
    return _png(fig)


def sweep_charts(table: pd.DataFrame, keys: list[str]) -> list[tuple[str, bytes]]:
    charts = []
    for kpi in ("idle_gpu_hours", "idle_cost_usd", "first_power_days"):
        for key in keys:
            fig, ax = plt.subplots(figsize=(6, 3.2))
            for site, group in table.groupby("site"):
                means = group.groupby(key, sort=False)[kpi].mean()
                ax.plot(range(len(means)), means.to_numpy(), marker="o", label=str(site))
                ax.set_xticks(range(len(means)), [str(v) for v in means.index], fontsize=8)
            ax.set_xlabel(key, fontsize=8)
            ax.set_ylabel(kpi)
            ax.legend(fontsize=7)
            charts.append((f"sweep_{kpi}_by_{key.replace('.', '_')}.png", _png(fig)))
    return charts


def build_report(folder: Path, force: bool = False, page: bool = True) -> Path:
    """Write the PNGs and (unless ``page`` is False) report.html into ``folder``.

    Returns the path of the HTML page (written or not).
    """
    if not folder.is_dir():
        raise DcsimError(f"{folder}: no such folder; give the --out folder of a dcsim run.")
    target = folder / "report.html"
    if page and target.exists() and not force:
        raise DcsimError(f"{target}: already exists; pass --force to replace it.")
    images: list[tuple[str, str, bytes]] = []  # (section, file name, png)
    summary_table = ""
    tables_after = ""  # what-if tables: below their charts
    run_info = read_run_info(folder)
    pages = {"compare.csv": ("Variants", compare_chart, compare_table),
             "cascade.csv": ("Cascade", cascade_chart, cascade_table),
             "attribution.csv": ("Attribution", attribution_chart, attribution_table)}  # fmt: skip
    for name, (heading, chart_of, words_of) in pages.items():
        table = read_table(folder, name, required=False)
        if table is not None:
            images.append((heading, name.replace(".csv", ".png"), chart_of(table)))
            words = words_of(table)
            note = (" <code>*</code>: the 95% interval of the paired difference excludes"
                    " zero; pairs: replications where both runs reached the value.")  # fmt: skip
            if name == "compare.csv":
                note = (f"Metrics that are zero in every row are left out (all of them are in"
                        f" {name}).{note}")  # fmt: skip
            elif name == "cascade.csv":
                note = f"One row per step (the columns of every metric are in {name})."
            else:
                note = ("Layers worth less than half a percent are left out. The Shapley share"
                        " is what fixing the layer saves, averaged over every order of fixing"
                        " them; the binding share is what the run's table shows.")  # fmt: skip
            tables_after += f"<h2>{heading}: the table</h2><p>{note}</p>" + table_html(words)
    sweep = read_table(folder, "sweep.csv", required=False)
    if sweep is not None:
        keys = [c for c in sweep.columns if "." in c]  # swept keys are dotted paths
        for file, png in sweep_charts(sweep, keys):
            images.append(("Sweep", file, png))
    if (
        not images
        and not (folder / "timeseries.csv").exists()
        and not (folder / "timeseries.parquet").exists()
    ):
        read_table(folder, "timeseries.csv")  # nothing to show: say what a report needs
    if (folder / "timeseries.csv").exists() or (folder / "timeseries.parquet").exists():
        ts = read_table(folder, "timeseries.csv")
        events = read_table(folder, "events.csv")
        summary = read_table(folder, "summary.csv")
        stats = read_table(folder, "stats.csv")
        assert ts is not None and events is not None and summary is not None and stats is not None
        start = pd.Timestamp(pd.to_datetime(ts["timestamp"]).min().date())
        ts0, ev0 = (
            ts[ts["replication"] == ts["replication"].min()],
            events[events["replication"] == events["replication"].min()],
        )
        order = (
            stats[stats["metric"] == "idle_gpu_hours"]
            .sort_values("mean", ascending=False)["site"]
            .tolist()
        )
        summary_table = (
            "<h2>Sites, most idle GPU-hours first (means across replications)</h2>"
            + headline(stats, order, start).to_html(index=False)
            + next_step_box(run_info, stats)
            + summary_table
        )
        migration = read_table(folder, "migration.csv", required=False)
        if migration is not None:
            for site in [*order, "(all sites)"]:
                if site in set(migration["site"]):
                    name = "all_sites" if site == "(all sites)" else site
                    images.append(("Migration", f"migration_{name}.png",
                                   migration_chart(migration, site)))  # fmt: skip
        for site in order:
            horizon = float(run_info.get("horizon_days", ts["time_days"].max()))
            images.append(
                (f"Site {site}", f"timeline_{site}.png", timeline(ts0, ev0, site, start, horizon))
            )
            images.append(
                (f"Site {site}", f"distributions_{site}.png", distributions(summary, site))
            )
    for _, file, png in images:
        with atomic_write(folder / file, force=True, binary=True) as handle:
            handle.write(png)
    if not page:
        return target
    title = html.escape(f"dcsim report: {run_info.get('scenario', folder.name)}")
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1300px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}img{max-width:100%}"
        ".next{border:2px solid #2b6cb0;background:#f0f6ff;padding:0 1em;margin:1em 0}"
        ".next pre{white-space:pre-wrap;font-size:13px}"
        ".context{margin-bottom:1em}.context th{text-align:left;background:#f4f4f4}"
        ".context td{text-align:left}</style></head><body>",
        f"<h1>{title}</h1>",
        context_html(run_info),
        summary_table,
    ]
    section: str | None = None
    for name, file, png in images:
        if name != section:
            parts.append(f"<h2>{html.escape(name)}</h2>")
            section = name
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<p><img alt='{html.escape(file)}' title='{html.escape(file)}'"
            f" src='data:image/png;base64,{data}'></p>"
        )
    parts.append(tables_after)
    parts.append("</body></html>\n")
    with atomic_write(target, force=True) as handle:
        handle.write("\n".join(parts))
    return target
