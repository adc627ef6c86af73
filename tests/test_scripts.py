"""Every script in scripts/ runs as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def test_bench_quick_reports_ratios_and_event_growth() -> None:
    done = run_script("scripts/bench.py", "--quick")
    assert done.returncode == 0, done.stderr
    assert "ratio dcsim / bare SimPy" in done.stdout
    assert "ms per event" in done.stdout
    for site in ROOT.glob("sites/*.toml"):
        assert site.name in done.stdout


def test_portfolio_study_writes_a_table_per_schedule(tmp_path: Path) -> None:
    out = tmp_path / "study"
    done = run_script(
        "scripts/portfolio_study.py",
        "--reps",
        "2",
        "--shifts",
        "0,6",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "study.csv")
    assert set(table["schedule"]) == {"shift+0m", "shift+6m"}
    assert set(table["site"]) == {"ashburn", "abilene", "columbus", "memphis"}
    for schedule in ("shift+0m", "shift+6m"):
        assert (out / schedule / "events.csv").exists()
    # Delivering later cannot add idle hours while the same draws are used: a GPU
    # that arrives later waits less for the same infrastructure.
    wide = table.pivot(index="site", columns="schedule", values="idle_gpu_hours_mean")
    assert (wide["shift+6m"] <= wide["shift+0m"] * 1.0001).all()
    again = run_script(
        "scripts/portfolio_study.py",
        "--reps",
        "2",
        "--shifts",
        "0",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert again.returncode == 2 and "--force" in again.stderr
    assert "Traceback" not in again.stderr
