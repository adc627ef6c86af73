"""Every script in scripts/ runs as documented."""

from __future__ import annotations

import importlib.util
import re
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
    out = done.stdout
    ratio = re.search(r"ratio dcsim / bare SimPy = ([0-9.]+)", out)
    assert ratio is not None and 0 < float(ratio.group(1)) < 100, out
    for site in ROOT.glob("sites/*.toml"):
        row = re.search(rf"{re.escape(site.name)}\s+[0-9.]+ s\s+([0-9]+) events", out)
        assert row is not None and int(row.group(1)) > 0, (site.name, out)
    # Section 3: events grow with the horizon and with the background rate.
    horizon = [int(m) for m in re.findall(r"^\s+\d+ yr\s+[0-9.]+\s+(\d+)", out, flags=re.M)]
    rates = [int(m) for m in re.findall(r"^\s+\d+\s+[0-9.]+\s+(\d+)\s+[0-9.]+$", out, re.M)]
    assert len(horizon) == 4 and horizon == sorted(horizon) and horizon[0] < horizon[-1], out
    assert len(rates) == 3 and rates == sorted(rates) and rates[0] < rates[-1], out
    # Section 4: a real run's efficiency and memory ratio, both positive figures.
    efficiency = re.search(r"parallel efficiency on 2 workers = ([0-9.]+)", out)
    memory = re.search(r"peak memory --reps \d+ / --reps \d+ = ([0-9.]+)", out)
    assert efficiency is not None and 0 < float(efficiency.group(1)) < 2, out
    assert memory is not None and 0 < float(memory.group(1)) < 10, out
    # Section 5: the two shares of a replication add up, and it takes SimPy events.
    shares = [int(m) for m in re.findall(r"^\s+(?:simulation|tables and CSV text)\s+(-?\d+)%$",
                                         out, flags=re.M)]  # fmt: skip
    steps = re.search(r"SimPy events a replication: ([0-9,]+)", out)
    assert len(shares) == 2 and 99 <= sum(shares) <= 101 and min(shares) > 0, out
    assert steps is not None and int(steps.group(1).replace(",", "")) > 0, out


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
        summary = pd.read_csv(out / schedule / "summary.csv")
        assert len(summary) == 2 * 4  # replications x sites
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


def test_queue_check_prints_each_sites_wait_and_its_answer_to_more_demand() -> None:
    done = run_script("scripts/queue_check.py", "--reps", "4", "--sites", "memphis")
    assert done.returncode == 0, done.stderr
    first = re.search(r"^memphis\s+tva\s+request->energized ([0-9.]+) / ([0-9.]+) / ([0-9.]+) yr",
                      done.stdout, flags=re.M)  # fmt: skip
    assert first is not None, done.stdout
    p5, p50, p95 = map(float, first.groups())
    assert 0 < p5 <= p50 <= p95, done.stdout
    assert re.search(r"\+20% demand: median [0-9.]+ yr", done.stdout), done.stdout
    assert "funnel: withdrawn" in done.stdout


def test_chip_check_prints_a_lead_time_per_order_date_that_falls_as_output_grows() -> None:
    done = run_script("scripts/chip_check.py", "--reps", "3")
    assert done.returncode == 0, done.stderr
    weeks = {
        m[0]: float(m[1])
        for m in re.findall(r"^(\d{4}-\d\d-\d\d):\s+([0-9.]+) wk", done.stdout, flags=re.M)
    }
    assert len(weeks) == 7, done.stdout
    # Packaging triples 2024 -> 2027 (U7) while demand grows less: the 2029 wait is shorter.
    assert weeks["2029-01-01"] < weeks["2025-07-01"], weeks


def test_bench_reports_the_median_of_its_rounds_and_their_range() -> None:
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench._median_and_range([6.7, 6.1, 6.2])  # mean 6.33
    assert text == "6.20 (median of 3 back-to-back runs, range 6.10-6.70)"
    assert bench._median_and_range([0.87]) == "0.87"
