"""dcsim run end to end through the real command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import dcsim
from dcsim.errors import DcsimError
from dcsim.output import export

ROOT = Path(__file__).resolve().parent.parent
ASHBURN = ROOT / "sites" / "ashburn.toml"
TABLES = (
    "events.csv",
    "events_background.csv",
    "timeseries.csv",
    "summary.csv",
    "stats.csv",
    "scurves.csv",
    "migration.csv",
    "funnel.csv",
)


def dcsim_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dcsim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_same_seed_gives_byte_identical_csv_for_one_and_two_workers(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for out, workers in ((one, "1"), (two, "2")):
        done = dcsim_cli(
            "run",
            ASHBURN,
            "--reps",
            "4",
            "--seed",
            "7",
            "--workers",
            workers,
            "--out",
            out,
            "--quiet",
        )
        assert done.returncode == 0, done.stderr
    for name in TABLES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert (one / "run.json").exists()
    # A different seed must change the draws (the check above is not vacuous).
    three = tmp_path / "three"
    dcsim_cli("run", ASHBURN, "--reps", "4", "--seed", "8", "--out", three, "--quiet")
    assert (three / "summary.csv").read_bytes() != (one / "summary.csv").read_bytes()


def test_adding_a_site_leaves_other_sites_unchanged(tmp_path: Path) -> None:
    # The new site has its own region and owns its transformers, so it shares no
    # market with ashburn: ashburn's results must not move by a single draw.
    other = (
        ASHBURN.read_text()
        .replace('name = "ashburn"', 'name = "other"')
        .replace('region = "dominion"', 'region = "elsewhere"')
        .replace('order_policy = "at_agreement"', 'order_policy = "owned"\ndelivery = 2026-01-01')
        .replace('switchgear_supply = "north_america"', "")
    )
    (tmp_path / "other.toml").write_text(other)
    (tmp_path / "ashburn.toml").write_text(ASHBURN.read_text())
    catalog = dcsim.load(ASHBURN).region("dominion")
    assert catalog.background_rate > 0
    base = tmp_path / "base.toml"
    base.write_text(
        f'[scenario]\nname = "base"\nseed = 3\ncatalog = "{ROOT / "sites" / "catalog"}"\n'
        'sites = ["ashburn.toml"]\n'
    )
    both = tmp_path / "both.toml"
    both.write_text(
        f'[scenario]\nname = "both"\nseed = 3\ncatalog = "{ROOT / "sites" / "catalog"}"\n'
        'sites = ["ashburn.toml", "other.toml"]\n'
        '[regions.elsewhere]\ndiscipline = "serial"\nstudy_engineers = 1\n'
        'phases = [{ name = "s", duration = { dist = "exponential", mean = "200 days" } }]\n'
        'agreement_time = "30 days"\nenergization_time = "300 days"\n'
        'headroom = "100 MW"\nnetwork_upgrade_time = "400 days"\n'
        'background_rate = "5 requests/year"\nbackground_size = "50 MW"\n'
    )
    alone = dcsim.run(dcsim.load(base), replications=3, workers=1).summary
    together = dcsim.run(dcsim.load(both), replications=3, workers=1).summary
    assert set(together["site"]) == {"ashburn", "other"}
    pd.testing.assert_frame_equal(
        alone.reset_index(drop=True), together[together["site"] == "ashburn"].reset_index(drop=True)
    )


def test_stats_intervals_match_a_direct_computation() -> None:
    result = dcsim.run(dcsim.load(ASHBURN), replications=6, workers=1, seed=11)
    for metric in ("idle_gpu_hours", "transformer_lead_time_days", "first_power_days"):
        values = result.summary[metric].to_numpy(dtype=float)
        row = result.stats[(result.stats.site == "ashburn") & (result.stats.metric == metric)]
        low, high = stats.t.interval(
            0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
        )
        assert row["n"].item() == len(values)
        assert row["mean"].item() == pytest.approx(np.mean(values))
        assert row["std"].item() == pytest.approx(np.std(values, ddof=1))
        assert row["ci95_low"].item() == pytest.approx(low)
        assert row["ci95_high"].item() == pytest.approx(high)
        assert row["min"].item() == values.min() and row["max"].item() == values.max()
    assert result.stats["mean"].notna().any()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    keep = out / "mine.txt"
    keep.write_text("do not touch")
    done = dcsim_cli("run", ASHBURN, "--reps", "1", "--out", out, "--quiet")
    assert done.returncode == 2
    assert "--force" in done.stderr and str(out) in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert keep.read_text() == "do not touch"
    done = dcsim_cli("run", ASHBURN, "--reps", "1", "--out", out, "--quiet", "--force")
    assert done.returncode == 0, done.stderr
    assert {*TABLES, "run.json", "mine.txt"} == {p.name for p in out.iterdir()}


def test_interrupted_export_keeps_only_whole_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = dcsim.run(dcsim.load(ASHBURN), replications=1, workers=1)
    real = export._write_frame
    calls = []

    def interrupt_on_third(frame: pd.DataFrame, path: Path, fmt: str) -> None:
        calls.append(path.name)
        if len(calls) == 3:
            # Part of the file is written, then Ctrl-C arrives.
            with export.atomic_write(path, force=True) as handle:
                handle.write("replication,half")
                raise KeyboardInterrupt
        real(frame, path, fmt)

    monkeypatch.setattr(export, "_write_frame", interrupt_on_third)
    with pytest.raises(export.ExportInterrupted) as caught:
        result.to_csv(tmp_path / "out")
    whole = ["events.csv", "events_background.csv"]
    assert [p.name for p in caught.value.kept] == whole
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == whole
    for name in whole:
        pd.read_csv(tmp_path / "out" / name)  # whole and readable


def test_ctrl_c_during_the_run_leaves_no_table_and_says_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcsim",
            "run",
            str(ASHBURN),
            "--reps",
            "400",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The output folder is made just before the replications start.
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err and "--resume" in err
    # No table: only what --resume needs (run.json says "running") is left.
    leftovers = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert leftovers in ([], [".dcsim-partial", "run.json"])
    if leftovers:
        assert json.loads((out / "run.json").read_text())["status"] == "running"


def test_parquet_output_has_the_same_tables(tmp_path: Path) -> None:
    result = dcsim.run(dcsim.load(ASHBURN), replications=2, workers=1)
    result.to_parquet(tmp_path / "pq")
    background = result.events["background"]
    expected = {
        "events": result.events[~background].reset_index(drop=True),
        "events_background": result.events[background].reset_index(drop=True),
        **{name: getattr(result, name) for name in ("timeseries", "summary", "stats")},
    }
    for name, table in expected.items():
        back = pd.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, table, check_categorical=False)
    events = pd.read_parquet(tmp_path / "pq" / "events.parquet")
    assert pd.api.types.is_datetime64_any_dtype(events["timestamp"])


def test_bad_run_settings_are_refused_cleanly(tmp_path: Path) -> None:
    for args, named in (
        (["--reps", "0"], "--reps"),
        (["--years", "-1"], "--years"),
        (["--workers", "0"], "--workers"),
        (["--set", "sites.ashburn.onsite.blcks=4"], "blcks"),
        (["--set", "sites.ashburn.interconnection.request=300 weeks"], "request"),
        (["--set", "sites.ashburn.substation.transformers='4'"], "without quotes: 4"),
    ):
        done = dcsim_cli("run", ASHBURN, "--out", tmp_path / "x", "--quiet", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and named in done.stderr, (args, done.stderr)
    with pytest.raises(DcsimError):
        dcsim.run(dcsim.load(ASHBURN), replications=0)


def test_a_short_horizon_censors_instead_of_dropping(tmp_path: Path) -> None:
    # Four years: ashburn's GPUs are on site but its grid is not energized yet.
    result = dcsim.run(dcsim.load(ASHBURN), years=4, replications=2, workers=1)
    horizon = 4 * 365.25
    assert result.scenario.horizon_days == pytest.approx(horizon)
    assert (result.events["time_days"] <= horizon).all()
    summary = result.summary
    assert (summary["gpus_idle_at_horizon"] > 0).all(), "still waiting, reported as such"
    assert summary["all_running_days"].isna().all()
    assert summary["all_running_date"].isna().all()
    # Idle hours run up to the horizon, not beyond: integrate the timeseries by hand.
    for _, row in summary.iterrows():
        ts = result.timeseries[
            (result.timeseries.replication == row["replication"])
            & (result.timeseries.site == row["site"])
        ]
        ends = [*ts["time_days"].iloc[1:], horizon]
        integral = sum(
            idle * (end - t) * 24
            for idle, t, end in zip(ts["gpus_idle"], ts["time_days"], ends, strict=True)
        )
        assert row["idle_gpu_hours"] == pytest.approx(integral)
    done = dcsim_cli(
        "run", ASHBURN, "--years", "1", "--reps", "1", "--out", tmp_path / "o", "--quiet"
    )
    assert done.returncode == 0, done.stderr


def test_dates_are_written_to_the_second_and_missing_ones_empty(tmp_path: Path) -> None:
    # Dates are ISO text to the second they fall in (before 1970 too: 23:59:59.75 is in
    # 23:59:59), a missing one an empty field.
    when = pd.to_datetime(["2025-01-01 06:30:00", None, "1969-12-31 23:59:59.75",
                           "2031-07-04 00:00:00.999"], format="ISO8601")  # fmt: skip
    frame = pd.DataFrame({"n": [1, 2, 3, 4], "when": when, "day": [0.5, np.nan, 1.0, 2.0]})
    export.write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == (
        '"n","when","day"\n1,"2025-01-01T06:30:00",0.5\n2,,\n3,"1969-12-31T23:59:59",1\n'
        '4,"2031-07-04T00:00:00",2\n'
    )


def test_the_closing_line_counts_the_report_charts(tmp_path: Path) -> None:
    # The "wrote ..." line names every table and report.html, and says how many charts the
    # report wrote beside them (a newcomer thought fewer files were written than were).
    from tests.support import SITES, run_cli

    out = tmp_path / "run"
    done = run_cli("run", SITES / "columbus.toml", "--years", "3", "--reps", "1", "--out", out,
                   "--report", "--workers", "1", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    charts = len(list(out.glob("*.png")))
    assert charts > 0
    line = next(line for line in done.stdout.splitlines() if line.startswith("wrote "))
    assert f"report.html and {charts} charts (PNG) to {out}/" in line, line
