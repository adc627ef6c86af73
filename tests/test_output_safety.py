"""Nothing a user did not ask for is replaced, lost or left half-written."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support import REPO, SITES, assert_refused, run_cli, run_in_process

ASHBURN = SITES / "ashburn.toml"


def _device(path: Path) -> bool:
    """A character device like /dev/full at ``path`` (needs root); False if not allowed."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        return False
    return True


def test_dump_never_replaces_a_device_fifo_or_link(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.toml"
    target.write_text("keep me\n")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    victims = [fifo, link]
    device = tmp_path / "full"
    if _device(device):
        victims.append(device)
    for victim in victims:
        before = os.lstat(victim)
        result = run_cli("check", ASHBURN, "--dump", "-o", victim, "--force")
        assert_refused(result, str(victim), "regular files")
        after = os.lstat(victim)
        assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert target.read_text() == "keep me\n"


def test_force_never_writes_through_a_link_in_the_out_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("precious\n")
    (out / "events.csv").symlink_to(elsewhere)
    result = run_cli("run", ASHBURN, "--reps", "1", "--out", out, "--force")
    assert_refused(result, "events.csv", "--force replaces only regular files")
    assert elsewhere.read_text() == "precious\n"
    assert (out / "events.csv").is_symlink()


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dcsim.output.export as export

    real = export._write_frame
    # The OSError is raised inside atomic_write's block, as a real full disk would be.
    import dcsim.output.atomic as atomic

    def failing(frame: pd.DataFrame, path: Path, fmt: str) -> None:
        if path.name.startswith("stats"):
            with atomic.atomic_write(path, force=True) as handle:
                handle.write("half a row,")
                raise OSError(errno.ENOSPC, "No space left on device")
        real(frame, path, fmt)

    monkeypatch.setattr(export, "_write_frame", failing)
    out = tmp_path / "out"
    result = run_in_process("run", ASHBURN, "--reps", "1", "--workers", "1", "--out", out)
    whole = "kept whole: events.csv, events_background.csv, timeseries.csv, summary.csv"
    assert_refused(result, "stats.csv", "No space left on device", whole)
    tables = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert tables == ["events.csv", "events_background.csv", "run.json", "summary.csv",
                      "timeseries.csv"]  # fmt: skip
    assert not list(out.glob(".*.partial"))
    # run.json still says "running": --resume finishes the run once there is room.
    monkeypatch.setattr(export, "_write_frame", real)
    again = run_in_process("run", ASHBURN, "--reps", "1", "--workers", "1", "--out", out,
                           "--resume")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (out / "stats.csv").exists() and not (out / ".dcsim-partial").exists()


def test_a_full_disk_while_rows_stream_keeps_what_finished_for_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dcsim.output.streamed_run as streamed

    real = streamed._CsvStream.append

    def failing(self: Any, replication: int, header: pd.DataFrame, rows: bytes) -> int:
        if self.path.name == "timeseries.csv" and replication == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, replication, header, rows)

    monkeypatch.setattr(streamed._CsvStream, "append", failing)
    out = tmp_path / "out"
    result = run_in_process("run", ASHBURN, "--reps", "3", "--workers", "1", "--out", out)
    assert_refused(result, "timeseries.csv", "No space left on device", "1 replication(s) finished",
                   "--resume")  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == [".dcsim-partial", "run.json"]


def test_force_cleans_what_a_killed_run_left(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".events.csv.x1y2.partial").write_text("half")
    done = run_cli("run", ASHBURN, "--reps", "1", "--out", out, "--force", "--quiet")
    assert done.returncode == 0, done.stderr
    assert not list(out.glob(".*.partial"))
    assert not (out / ".dcsim.lock").exists()


def test_a_second_run_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, "-m", "dcsim", "run", str(SITES / "portfolio.toml"), "--reps", "30",
         "--workers", "1", "--out", str(out), "--quiet"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (out / ".dcsim.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_cli("run", ASHBURN, "--reps", "1", "--out", out, "--force")
        assert_refused(second, "another dcsim run is writing into this folder")
    finally:
        first.terminate()
        first.communicate(timeout=30)
    # SIGTERM stops the first run even mid-replication (it was once swallowed there).
    assert first.returncode == 130


def test_what_if_outputs_say_how_they_were_made(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    done = run_cli("compare", ASHBURN, "--reps", "2", "--seed", "11", "--workers", "1",
                   "--out", out, "--report", "--variant", "more",
                   "--set", "regions.dominion.headroom=3000 MW", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = json.loads((out / "run.json").read_text())
    assert (info["replications"], info["seed"], info["scenario"]) == (2, 11, "ashburn")
    assert info["variants"] == {"more": ["regions.dominion.headroom=3000 MW"]}
    page = (out / "report.html").read_text()
    context = page.split("<table class='context'>")[1].split("</table>")[0]
    for key, value in (("replications", "2"), ("seed", "11"), ("scenario", "ashburn")):
        assert f"<th>{key}</th><td><code>{value}</code></td>" in context
    assert "dcsim version" in context and "<code>?</code>" not in context
    assert "regions.dominion.headroom=" in context  # the variant's --set, to make it again


def test_force_removes_the_last_runs_outputs_and_keeps_the_users(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli("run", ASHBURN, "--reps", "1", "--out", out, "--report", "--quiet")
    assert first.returncode == 0, first.stderr
    (out / "notes.txt").write_text("mine\n")
    again = run_cli("run", ASHBURN, "--reps", "1", "--out", out, "--force", "--quiet",
                    "--format", "parquet")  # fmt: skip
    assert again.returncode == 0, again.stderr
    names = {p.name for p in out.iterdir()}
    assert "report.html" not in names and not any(n.endswith(".png") for n in names)
    assert "events.csv" not in names and "events.parquet" in names
    assert (out / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize(
    "command, bad, fragment",
    [
        ("cascade", ("--site", "nope"), "--site 'nope'"),
        ("attribute", ("--site", "nope"), "--site 'nope'"),
        ("sweep", ("--grid", "sites.ashburn.construction.crews=1,-2"), "--grid"),
    ],
)
def test_a_refused_what_if_leaves_the_folder_as_it_was(
    tmp_path: Path, command: str, bad: tuple[str, ...], fragment: str
) -> None:
    # The corrected command must then run as typed: no "a run that did not finish".
    new, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for out in (new, empty):
        refused = run_in_process(command, ASHBURN, *bad, "--reps", "1", "--out", out, "--quiet")
        assert_refused(refused, fragment)
    assert not new.exists() and list(empty.iterdir()) == []
    good = ("--grid", "sites.ashburn.construction.crews=1,2") if command == "sweep" else ()
    done = run_in_process(command, ASHBURN, *good, "--reps", "1", "--years", "3", "--out",
                          empty, "--quiet", "--workers", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_same_report_again_replaces_nothing_and_an_edited_one_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "run"
    made = run_in_process("run", ASHBURN, "--reps", "1", "--years", "3", "--out", out,
                          "--report", "--quiet", "--workers", "1")  # fmt: skip
    assert made.returncode == 0, made.stderr
    page = out / "report.html"
    stamp = page.stat().st_mtime_ns
    again = run_in_process("report", out)  # as `dcsim report DIR --screenshot` starts
    assert again.returncode == 0 and "up to date" in again.stdout, again.stderr
    assert page.stat().st_mtime_ns == stamp
    page.write_text(page.read_text() + "<!-- my notes -->")
    edited = page.read_text()
    assert_refused(run_in_process("report", out), "report.html", "--force")
    assert page.read_text() == edited
