"""Pictures of a run folder: PNG charts and one self-contained HTML page.

``dcsim report DIR`` reads the tables a run wrote (and compare.csv,
sweep.csv or cascade.csv when present) and writes PNGs plus report.html, whose
images are embedded so it opens anywhere without a network.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed, and the same pictures everywhere

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.compare import ALL_SITES, unchanged
from dcsim.model.layers import LAYERS
from dcsim.output.atomic import atomic_write
from dcsim.output.charting import png
from dcsim.output.first_screen import attribution_from, headline, next_step_box, portfolio_stats
from dcsim.output.numbers import DAYS_PER_YEAR, few_replications_note
from dcsim.output.run_folder import read_run_info, read_table
from dcsim.output.s_curve_chart import s_curve_figure
from dcsim.output.sweep_chart import sweep_chart
from dcsim.output.tables import left_out
from dcsim.output.timeline_chart import timeline_figure
from dcsim.output.whatif_charts import attribution_chart, cascade_chart, compare_chart
from dcsim.output.whatif_page import (
    attribution_table,
    cascade_table,
    compare_table,
    context_html,
    sweep_table,
    table_html,
)


def timeline(
    ts: pd.DataFrame, events: pd.DataFrame, site: str, start: pd.Timestamp, horizon_days: float
) -> bytes:
    return png(timeline_figure(ts, events, site, start, horizon_days))


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
            ax.text(0.5, 0.5, "not reached within the horizon", ha="center", fontsize=8,
                    transform=ax.transAxes)  # fmt: skip
            ax.set_xticks([])
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(label.split(" (")[-1].rstrip(")"), fontsize=8)  # the unit
    axes[0].set_ylabel("replications", fontsize=8)
    fig.suptitle(
        f"{site}: how much the results vary, across {rows['replication'].nunique()} replications",
        fontsize=10,
        y=1.06,
    )  # above the panel titles
    return png(fig)


def migration_chart(migration: pd.DataFrame, site: str) -> bytes:
    """Bottlenecks migrate: idle GPU-hours by binding layer, year by year, and stranded power.

    A bar per calendar year (the values are yearly totals, not points on a curve), stacked
    by binding layer; only layers that hold some idle time are drawn and listed.
    """
    rows = migration[migration["site"] == site].sort_values("year")
    fig, ax = plt.subplots(figsize=(11, 3.6))
    years = rows["year"].to_numpy()
    bottom = np.zeros(len(rows))
    for layer in LAYERS:
        held = (rows[f"share_{layer.name}"] * rows["idle_gpu_hours"] / 1e6).fillna(0).to_numpy()
        if not (held > 0).any():
            continue
        ax.bar(years, held, bottom=bottom, color=layer.color, width=0.7, alpha=0.85,
               label=f"idle: {layer.name} binds")  # fmt: skip
        bottom += held
    ax.set_xticks(years, [str(y) for y in years], fontsize=8)
    ax.set_xlabel("calendar year")
    ax.set_ylabel("idle GPU-hours (millions)")
    twin = ax.twinx()
    twin.plot(years, rows["stranded_power_mwh"] / 1e3, color="black", ls="--", marker=".",
              label="stranded power (right)")  # fmt: skip
    if "stranded_power_mwh_no_gpus" in rows and (rows["stranded_power_mwh_no_gpus"] > 0).any():
        twin.plot(years, rows["stranded_power_mwh_no_gpus"] / 1e3, color="black", ls=":",
                  label="of it waiting for chips (right)")  # fmt: skip
    twin.set_ylabel("stranded power (GWh)")
    twin.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + twin.get_legend_handles_labels()[1]
    ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.08, 1))
    ax.set_title(f"{site}: which layer holds the idle GPUs, year by year (means across"
                 " replications)")  # fmt: skip
    return png(fig)


SLIVER_DAYS = 31.0  # a last calendar year with less of the horizon than this is not drawn


def _without_a_sliver_of_a_year(
    migration: pd.DataFrame, start: pd.Timestamp, horizon_days: float
) -> pd.DataFrame:
    """migration.csv without its last calendar year if the horizon holds only days of it
    (ten years from 1 January end on 1 January: a bar of half a day reads as a collapse)."""
    end = start + pd.Timedelta(days=horizon_days)
    covered = (end - pd.Timestamp(year=end.year, month=1, day=1)).total_seconds() / 86400
    if covered >= SLIVER_DAYS:
        return migration
    return migration[migration["year"] < end.year]


def check_folder(folder: Path) -> None:
    """Refuse what is not a folder, before anything is read or written."""
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise DcsimError(
            f"{folder}: {what}; give the --out folder of a dcsim run, or of a what-if"
            " (compare, sweep, cascade or attribute)."
        )


def build_report(
    folder: Path, force: bool = False, page: bool = True, attribution: Path | None = None
) -> Path:
    """Write the PNGs and (unless ``page`` is False) report.html into ``folder``.

    ``attribution``: the folder of a ``dcsim attribute`` of the same scenario, whose
    Shapley shares then say on the first screen which layer holds the idle time.

    Returns the path of the HTML page (written or not).
    """
    check_folder(folder)
    target = folder / "report.html"
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
                gone = left_out(table, unchanged(table)).removeprefix("; ")
                note = ("Metrics that are zero in every row, and those a variant left the same"
                        f" in every replication, are left out (all of them are in {name})"
                        f"{'; ' + html.escape(gone) if gone else ''}.{note}")  # fmt: skip
            elif name == "cascade.csv":
                note = f"One row per step (the columns of every metric are in {name})."
            else:
                note = ("Layers worth less than half a percent are left out. The Shapley share"
                        " is what fixing the layer saves, averaged over every order of fixing"
                        " them; the binding share is what the run's table shows. "
                        + few_replications_note(run_info.get("replications")))  # fmt: skip
            tables_after += f"<h2>{heading}: the table</h2><p>{note}</p>" + table_html(words)
    sweep = read_table(folder, "sweep.csv", required=False)
    if sweep is not None:
        keys = [c for c in sweep.columns if "." in c]  # swept keys are dotted paths
        images.append(("Sweep", "sweep.png", sweep_chart(sweep, keys)))
        tables_after += ("<h2>Sweep: the table</h2><p>Means across replications with their"
                         " 95% intervals (every replication's row is in sweep.csv).</p>"
                         + table_html(sweep_table(sweep, keys)))  # fmt: skip
    a_run = (folder / "timeseries.csv").exists() or (folder / "timeseries.parquet").exists()
    if not images and not a_run and sweep is None:
        raise DcsimError(
            f"{folder}: holds no dcsim results (timeseries.csv and the other tables of a dcsim"
            " run, or compare.csv, sweep.csv, cascade.csv or attribution.csv of a what-if);"
            " give the --out folder of one."
        )
    if attribution is not None and not a_run:
        raise DcsimError(
            f"--attribution {attribution}: it names which layer holds the idle time on the"
            f" first screen of a dcsim run's report, and {folder} holds a what-if's; leave"
            " --attribution out, or give the folder of a dcsim run."
        )
    if a_run:
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
        shown, rows = stats, order
        if summary["site"].nunique() > 1:  # and the portfolio, last
            shown = pd.concat([stats, portfolio_stats(summary)], ignore_index=True)
            rows = [*order, ALL_SITES]
        shapley, note = attribution_from(attribution, run_info) if attribution else (None, "")
        summary_table = (
            "<h2>Sites, most idle GPU-hours first (means across replications)</h2>"
            + headline(shown, rows, start, shapley).to_html(index=False)
            + note
            + next_step_box(run_info, stats, folder)
            + summary_table
        )
        migration = read_table(folder, "migration.csv", required=False)
        scurves = read_table(folder, "scurves.csv", required=False)
        if migration is not None:
            horizon = float(run_info.get("horizon_days", ts["time_days"].max()))
            migration = _without_a_sliver_of_a_year(migration, start, horizon)
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
            if scurves is not None:
                images.append((f"Site {site}", f"scurves_{site}.png",
                               png(s_curve_figure(scurves, stats, site, start))))  # fmt: skip
            images.append(
                (f"Site {site}", f"distributions_{site}.png", distributions(summary, site))
            )
    if not page:
        _write_charts(folder, images)
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
    for name, file, picture in images:
        if name != section:
            parts.append(f"<h2>{html.escape(name)}</h2>")
            section = name
        data = base64.b64encode(picture).decode("ascii")
        parts.append(
            f"<p><img alt='{html.escape(file)}' title='{html.escape(file)}'"
            f" src='data:image/png;base64,{data}'></p>"
        )
    parts.append(tables_after)
    parts.append("</body></html>\n")
    text = "\n".join(parts)
    if target.exists() and not force:
        # The same page again (say, `dcsim report DIR --screenshot` after --report) replaces
        # nothing; another one would replace the page there.
        if target.read_text(encoding="utf-8") != text:
            raise DcsimError(f"{target}: already exists, and the report would differ from"
                             " it; pass --force to replace it.")  # fmt: skip
        return target
    _write_charts(folder, images)
    with atomic_write(target, force=True) as handle:
        handle.write(text)
    return target


def _write_charts(folder: Path, images: list[tuple[str, str, bytes]]) -> None:
    for _, file, picture in images:
        with atomic_write(folder / file, force=True, binary=True) as handle:
            handle.write(picture)
