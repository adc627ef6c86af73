"""The report shows what the run computed, and refuses a run folder that was damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dcsim
from dcsim.model.layers import LAYERS
from dcsim.model.records import SiteRecord
from dcsim.output.charting import day_zero
from dcsim.output.first_screen import portfolio_stats
from dcsim.output.s_curve_chart import CURVES, s_curve_figure
from dcsim.output.timeline_chart import timeline_figure
from tests.support import HOURS, SITE_A, SITES, assert_refused, run_cli, scenario_file

ASHBURN = SITES / "ashburn.toml"


def _shaded_area(figure: object, layer: str | None = None) -> float:
    """Area of the filled polygons of the timeline (MW x days), by the shoelace formula:
    all of them, or those of the idle time one ``layer`` holds."""
    area = 0.0
    for collection in figure.axes[0].collections:  # type: ignore[attr-defined]
        if layer is not None and collection.get_label() != f"idle: {layer} binds":
            continue
        for path in collection.get_paths():
            x, y = path.vertices[:, 0], path.vertices[:, 1]
            area += 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    return area


def test_shaded_idle_area_is_the_idle_gpu_hours(tmp_path: Path) -> None:
    # Site A: one 1 kW model, so 1 MW idle for a year is 1000 GPUs x 8766 hours.
    # Idle from day 150 to 220 (70 days x 20,000 GPUs), the last stretch included.
    result = dcsim.run(dcsim.load(scenario_file(tmp_path, SITE_A)), replications=1, workers=1)
    figure = timeline_figure(result.timeseries, result.events, "a",
                             pd.Timestamp("2025-01-01"), result.scenario.horizon_days)  # fmt: skip
    gpu_hours = _shaded_area(figure) * 1000 * HOURS
    assert gpu_hours == pytest.approx(70 * 20000 * HOURS, rel=1e-9)
    assert gpu_hours == pytest.approx(result.summary["idle_gpu_hours"].iloc[0], rel=1e-9)
    for layer in LAYERS:  # and each layer's shade is the idle time the summary gives it
        held = result.summary[layer.idle_column].iloc[0]
        assert _shaded_area(figure, layer.name) * 1000 * HOURS == pytest.approx(held, rel=1e-6)


def test_shaded_area_on_a_bundled_site_matches_the_timeseries(tmp_path: Path) -> None:
    result = dcsim.run(dcsim.load(ASHBURN), replications=1, workers=1)
    ts = result.timeseries.sort_values("time_days")
    figure = timeline_figure(ts, result.events, "ashburn", pd.Timestamp("2025-01-01"),
                             result.scenario.horizon_days)  # fmt: skip
    ends = [*ts["time_days"].iloc[1:], result.scenario.horizon_days]
    idle_mw_days = sum((on - run) * (end - t) for on, run, t, end in
                       zip(ts["on_site_it_mw"], ts["running_it_mw"], ts["time_days"], ends,
                           strict=True))  # fmt: skip
    assert _shaded_area(figure) == pytest.approx(idle_mw_days, rel=1e-9)
    assert idle_mw_days > 0
    binding = ts["binding_layer"].fillna("")
    for layer in LAYERS:
        held = sum((on - run) * (end - t) for on, run, t, end, b in
                   zip(ts["on_site_it_mw"], ts["running_it_mw"], ts["time_days"], ends, binding,
                       strict=True) if b == layer.name)  # fmt: skip
        assert _shaded_area(figure, layer.name) == pytest.approx(held, rel=1e-9, abs=1e-9)


def test_each_s_curve_marks_the_percentiles_of_stats_csv() -> None:
    result = dcsim.run(dcsim.load(ASHBURN), replications=7, workers=1)
    start = pd.Timestamp(result.scenario.start_date)
    figure = s_curve_figure(result.scurves, result.stats, "ashburn", start)
    origin = day_zero(start)
    marked = 0
    for ax, (_, metric, _) in zip(figure.axes, CURVES, strict=True):
        curve = [
            line for line in ax.get_lines() if line.get_gid() is None and len(line.get_xdata())
        ]
        assert len(curve) == 1
        x, share = (np.asarray(v, dtype=float) for v in curve[0].get_data())
        stat = result.stats[
            (result.stats["site"] == "ashburn") & (result.stats["metric"] == metric)
        ]
        n = len(result.summary)
        for q in (50, 80, 90):
            lines = [line for line in ax.get_lines() if line.get_gid() == f"P{q}"]
            value = float(stat[f"p{q}"].iloc[0])
            if np.isnan(value):  # not reached in enough replications: not drawn
                assert lines == []
                continue
            marked += 1
            (line,) = lines
            assert line.get_xdata()[0] - origin == pytest.approx(value, rel=1e-9)
            # The curve crosses q there, within one replication (numpy interpolates).
            below = share[np.searchsorted(x, line.get_xdata()[0], side="left") - 1]
            at = share[np.searchsorted(x, line.get_xdata()[0], side="right") - 1]
            assert below <= q / 100 + 1 / n and at >= q / 100 - 1 / n
        assert x[-1] - origin == pytest.approx(result.summary[metric].max(), rel=1e-9)
    assert marked >= 3, "the check looked at drawn percentiles"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    done = run_cli("run", ASHBURN, "--reps", "2", "--workers", "1", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out


def _damaged(run_folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy)
    return copy


def test_report_refuses_a_table_cut_short(run_folder: Path, tmp_path: Path) -> None:
    folder = _damaged(run_folder, tmp_path)
    path = folder / "timeseries.csv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # cut mid-row, as a full disk or a kill would
    assert_refused(run_cli("report", folder), "timeseries.csv", "cut short or changed")


def test_report_refuses_missing_columns_and_empty_tables(run_folder: Path, tmp_path: Path) -> None:
    for name, edit, message in (
        ("summary.csv", lambda f: f.drop(columns=["idle_gpu_hours"]), "lacks the column"),
        ("timeseries.csv", lambda f: f.iloc[0:0], "holds no rows"),
        ("events.csv", lambda f: f.iloc[0:0], "holds no rows"),
    ):
        folder = _damaged(run_folder, tmp_path / name)
        (folder / "run.json").unlink()  # as an older run, or one written by hand
        frame = pd.read_csv(folder / name)
        edit(frame).to_csv(folder / name, index=False)
        assert_refused(run_cli("report", folder), name, message)


def test_report_of_an_intact_folder_still_works(run_folder: Path, tmp_path: Path) -> None:
    folder = _damaged(run_folder, tmp_path)
    done = run_cli("report", folder)
    assert done.returncode == 0, done.stderr
    assert "<th>replications</th><td><code>2</code>" in (folder / "report.html").read_text()


def test_the_portfolio_row_adds_what_adds_and_dates_the_first_and_last_site() -> None:
    # Two sites, three replications, by hand: site b never runs all its GPUs in rep 2.
    metrics = list(SiteRecord.metrics())
    rows = []
    for rep, (a_idle, b_idle, a_first, b_first, a_all, b_all) in enumerate([
        (10.0, 30.0, 100.0, 400.0, 500.0, 900.0),
        (20.0, 40.0, 300.0, 200.0, 600.0, 700.0),
        (30.0, 50.0, 250.0, 350.0, 800.0, float("nan")),
    ]):  # fmt: skip
        for site, idle, first, every in (("a", a_idle, a_first, a_all), ("b", b_idle, b_first,
                                                                         b_all)):  # fmt: skip
            row = dict.fromkeys(metrics, 1.0)
            row.update(replication=rep, site=site, idle_gpu_hours=idle, first_power_days=first,
                       all_running_days=every, queue_wait_days=7.0)  # fmt: skip
            rows.append(row)
    stats = portfolio_stats(pd.DataFrame(rows)).set_index("metric")
    assert set(stats["site"]) == {"(all sites)"}
    assert stats.loc["idle_gpu_hours", "mean"] == pytest.approx((40 + 60 + 80) / 3)
    assert stats.loc["gpus_delivered", "mean"] == 2.0  # each site's 1.0, summed
    # First power: the first site's (100, 200, 250); all running: the last site's, and
    # not reached in the replication where one site never got there.
    assert stats.loc["first_power_days", "p50"] == 200.0
    assert stats.loc["first_power_days", "mean"] == pytest.approx(550 / 3)
    assert stats.loc["all_running_days", "n"] == 2
    assert stats.loc["all_running_days", "mean"] == pytest.approx((900 + 700) / 2)
    assert np.isnan(stats.loc["queue_wait_days", "mean"]), "waits do not add up across sites"


def test_a_portfolio_report_has_the_all_sites_row() -> None:
    result = dcsim.run(dcsim.load(SITES / "portfolio.toml"), replications=2, workers=1,
                       years=4)  # fmt: skip
    stats = portfolio_stats(result.summary).set_index("metric")
    per_site = result.stats[result.stats["metric"] == "idle_gpu_hours"]["mean"].sum()
    assert stats.loc["idle_gpu_hours", "mean"] == pytest.approx(per_site, rel=1e-9)
    firsts = result.summary.groupby("replication")["first_power_days"].min()
    assert stats.loc["first_power_days", "min"] == pytest.approx(firsts.min())


def test_the_migration_chart_leaves_out_a_last_year_of_a_few_days_only() -> None:
    from dcsim.output.report import _without_a_sliver_of_a_year

    start = pd.Timestamp("2025-01-01")
    years = pd.DataFrame({"year": list(range(2025, 2036)), "idle_gpu_hours": 1.0})
    # Ten years of 365.25 days end at noon on 1 January 2035: half a day of 2035, not drawn.
    assert _without_a_sliver_of_a_year(years, start, 3652.5)["year"].max() == 2034
    # Forty days into 2035: a month and more of it is a year worth a bar.
    assert _without_a_sliver_of_a_year(years, start, 3652.5 + 40)["year"].max() == 2035
