"""Ctrl-C, SIGTERM and SIGKILL at any point: no worker outlives the run, no file is half
written, and the next --force run leaves no trace of the interrupted one."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dcsim.output.run_folder import read_run_info, read_table
from tests.support import REPO, SITES, interrupt_group, live_group, wait_gone

PORTFOLIO = SITES / "portfolio.toml"


def _start(out: Path, tmp_path: Path, reps: int = 12) -> subprocess.Popen[bytes]:
    with (tmp_path / "stderr.txt").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "dcsim", "run", str(PORTFOLIO), "--reps", str(reps),
             "--workers", "2", "--out", str(out), "--quiet", "--force"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )  # fmt: skip


def _files_whole(out: Path) -> None:
    """Every file under its final name is complete; no partial file is left."""
    if not out.exists():
        return
    assert not list(out.glob(".*.partial")), sorted(p.name for p in out.iterdir())
    info = read_run_info(out)
    for name in info.get("files", {}):
        read_table(out, name)  # size and SHA-256 as recorded, columns, rows
    for csv in out.glob("*.csv"):
        assert csv.stat().st_size > 0


def _interrupt(tmp_path: Path, how: str, at: float) -> None:
    out = tmp_path / "out"
    proc = _start(out, tmp_path)
    try:
        _signal_and_check(proc, out, tmp_path, how, at)
    finally:  # a failed check must not leave the run (or its workers) behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _signal_and_check(
    proc: subprocess.Popen[bytes], out: Path, tmp_path: Path, how: str, at: float
) -> None:
    # Count from the moment the workers exist: the run is simulating (a signal while
    # Python is still importing is outside what dcsim can handle).
    deadline = time.monotonic() + 60
    while len(live_group(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(at)
    if how == "group-sigint":
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    else:
        proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
    code = proc.wait(timeout=15)
    wait_gone(proc.pid, 5)
    err = (tmp_path / "stderr.txt").read_text()
    if how == "sigkill":
        assert code in (-signal.SIGKILL, 0)  # 0: the run had finished already
    elif code != 0:  # the signal may land after the run finished
        assert code == 130, (code, err)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert err.strip().startswith("dcsim: interrupted"), err
        assert len(err.strip().splitlines()) == 1, err
    if how != "sigkill":
        _files_whole(out)
    # The next --force run into the same folder leaves nothing of the interrupted one.
    again = subprocess.run(
        [sys.executable, "-m", "dcsim", "run", str(SITES / "ashburn.toml"), "--reps", "1",
         "--out", str(out), "--force", "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    _files_whole(out)


@pytest.mark.parametrize("how", ["group-sigint", "sigterm", "sigkill"])
def test_a_signal_during_simulation(tmp_path: Path, how: str) -> None:
    _interrupt(tmp_path, how, at=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["group-sigint", "sigterm", "sigkill"])
@pytest.mark.parametrize("seed", range(6))
def test_signals_at_random_points_of_simulating_and_writing(
    tmp_path: Path, how: str, seed: int
) -> None:
    _interrupt(tmp_path, how, at=random.Random(seed).uniform(0.0, 8.0))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12))
def test_a_ctrl_c_while_dcsim_starts_ends_with_its_one_message(tmp_path: Path, seed: int) -> None:
    """Ctrl-C from 0.2 s to 0.9 s after the command starts, before the workers exist or as
    they start: while it loads the run's modules and the file, forks its workers or runs.
    The interrupt is never lost (a run that went on to the end, exit 0, was seen once by
    hand, not since) and always ends with the one message. (Earlier, while the commands
    themselves load: tests/test_startup.py raises it there deterministically.)"""
    out = tmp_path / "out"
    proc = _start(out, tmp_path, reps=60)
    time.sleep(random.Random(seed).uniform(0.2, 0.9))
    code = interrupt_group(proc, signal.SIGINT)
    err = (tmp_path / "stderr.txt").read_text()
    assert code == 130, (code, err)  # never lost: 60 portfolio replications take seconds
    assert "Traceback" not in err and err.startswith("dcsim: interrupted"), err
    assert len(err.strip().splitlines()) == 1, err
    _files_whole(out)
