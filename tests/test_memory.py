"""Memory does not grow with the number of replications (slow: scripts/test --slow).

dcsim run keeps only each replication's summary rows; its events and timeseries go to
disk as they arrive. So the peak memory of the whole process tree (dcsim and its workers,
as proportional set size: a page shared by forked processes counts once) for 200
replications is within 1.2x of that for 20, and under 400 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import REPO, SITES

pytestmark = pytest.mark.slow


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
    except OSError:
        return 0


def _tree_rss_kb(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        total += _pss_kb(current)
    return total


def _peak_mb(reps: int, out: Path) -> float:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcsim", "run", str(SITES / "portfolio.toml"), "--years", "10",
         "--reps", str(reps), "--workers", "2", "--out", str(out), "--quiet"],
        cwd=REPO, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    assert proc.returncode == 0
    return peak / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_peak_of_200_replications_is_that_of_20(tmp_path: Path) -> None:
    few = _peak_mb(20, tmp_path / "few")
    many = _peak_mb(200, tmp_path / "many")
    assert many <= 1.2 * few, (few, many)
    assert many < 400, many  # MB: dcsim and two workers, shared pages counted once (PSS)
