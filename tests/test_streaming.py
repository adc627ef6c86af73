"""dcsim run streams its rows to disk, and --resume goes on after a kill: the same bytes.

Every table a run writes must not depend on how the replications were spread over
workers, on whether the run was killed and resumed, or on how many replications
followed: replication *i*'s rows are replication *i*'s. And the streamed files are
the ones the Python API writes from the same run held in memory.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.errors import DcsimError
from dcsim.experiments.results import SummaryParts
from dcsim.experiments.tasks import execute
from dcsim.output.checkpoint import Checkpoint
from dcsim.output.streamed_run import CHECKPOINT_FORMAT, _Done
from tests.support import ASHBURN, REPO, assert_refused, run_cli

TABLES = (
    "events",
    "events_background",
    "timeseries",
    "summary",
    "stats",
    "scurves",
    "migration",
    "funnel",
)
YEARS = "4"


def _run(out: Path, *args: str | Path, reps: int = 4) -> subprocess.CompletedProcess[str]:
    done = run_cli("run", ASHBURN, "--years", YEARS, "--reps", str(reps), "--out", out,
                   "--quiet", *args, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def _bytes(out: Path, fmt: str = "csv") -> dict[str, bytes]:
    tables = {name: (out / f"{name}.{fmt}").read_bytes() for name in TABLES}
    if (out / "ocel.json").exists():
        tables["ocel"] = (out / "ocel.json").read_bytes()
    return tables


def test_every_table_is_the_same_bytes_on_one_two_or_three_workers(tmp_path: Path) -> None:
    outputs = []
    for workers in ("1", "2", "3"):
        _run(tmp_path / workers, "--workers", workers, reps=5)
        outputs.append(_bytes(tmp_path / workers))
    assert outputs[0] == outputs[1] == outputs[2]
    for workers in ("1", "2", "3"):  # the working folder (the pool's spool files too) goes
        assert not (tmp_path / workers / ".dcsim-partial").exists()
    info = json.loads((tmp_path / "1" / "run.json").read_text())
    assert info["status"] == "complete" and info["replications"] == 5


def test_the_streamed_files_are_what_the_python_api_writes(tmp_path: Path) -> None:
    _run(tmp_path / "cli", "--workers", "2", reps=3)
    result = dcsim.run(dcsim.load(ASHBURN), years=float(YEARS), replications=3, workers=1)
    result.to_csv(tmp_path / "api")
    assert _bytes(tmp_path / "cli") == _bytes(tmp_path / "api")
    _run(tmp_path / "cli-pm", "--workers", "2", "--ocel", "--events-format", "pm4py", reps=3)
    result.to_csv(tmp_path / "api-pm", ocel=True, events_format="pm4py")
    assert _bytes(tmp_path / "cli-pm") == _bytes(tmp_path / "api-pm")
    assert not (tmp_path / "api-pm" / ".dcsim-ocel").exists()


def test_four_replications_are_the_first_four_of_eight(tmp_path: Path) -> None:
    _run(tmp_path / "four", "--workers", "2", reps=4)
    _run(tmp_path / "eight", "--workers", "2", reps=8)
    for name in ("events", "timeseries", "summary"):
        four = (tmp_path / "four" / f"{name}.csv").read_text().splitlines()
        eight = (tmp_path / "eight" / f"{name}.csv").read_text().splitlines()
        column = four[0].split(",").index('"replication"')
        first = [line for line in eight if line == eight[0] or int(line.split(",")[column]) < 4]
        assert first == four, name
        assert len(eight) > len(four)


def _killed_midway(out: Path, args: list[str], finished: int) -> None:
    """Start a run and SIGKILL it once run.json says ``finished`` tasks are kept."""
    proc = subprocess.Popen([sys.executable, "-m", "dcsim", *args, "--out", str(out), "--quiet"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                info = json.loads((out / "run.json").read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                info = {}
            if info.get("tasks_finished", 0) >= finished:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        assert proc.stderr is not None
        proc.stderr.close()
    assert json.loads((out / "run.json").read_text())["status"] == "running"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_run_killed_midway_and_resumed_writes_the_same_bytes(tmp_path: Path, fmt: str) -> None:
    args = ["run", str(ASHBURN), "--years", YEARS, "--reps", "10", "--workers", "2",
            "--format", fmt]  # fmt: skip
    if fmt == "csv":  # the process-mining logs stream, and resume, as the tables do
        args += ["--ocel", "--events-format", "pm4py"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    done = run_cli(*args, "--out", whole, "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    _killed_midway(resumed, args, finished=3)
    # A plain rerun is refused and says how to go on; --resume goes on.
    refused = run_cli(*args, "--out", resumed)
    assert_refused(refused, "did not finish", "--resume")
    again = run_cli(*args, "--out", resumed, "--resume", timeout=300)
    assert again.returncode == 0, again.stderr
    if fmt == "csv":  # it says what it takes up: the replications kept, from the first on
        said = next(line for line in again.stdout.splitlines() if line.startswith("resuming"))
        kept = int(said.split(": ")[1].split(" of ")[0])
        assert 3 <= kept < 10 and said.endswith(f"of 10 replications kept, {10 - kept} to run")
    assert _bytes(resumed, fmt) == _bytes(whole, fmt)
    assert not (resumed / ".dcsim-partial").exists()
    # run.json records each file's size and SHA-256 (taken as the rows were written, the
    # rows before the kill read back on resuming): those of the files as they are.
    for folder in (whole, resumed):
        files = json.loads((folder / "run.json").read_text())["files"]
        for name, record in files.items():
            data = (folder / name).read_bytes()
            assert record == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    # Resuming a finished run does nothing, and says so.
    twice = run_cli(*args, "--out", resumed, "--resume")
    assert twice.returncode == 0 and "already finished" in twice.stdout
    assert _bytes(resumed, fmt) == _bytes(whole, fmt)


def test_resume_with_other_settings_is_refused_and_names_them(tmp_path: Path) -> None:
    args = ["run", str(ASHBURN), "--years", YEARS, "--reps", "10", "--workers", "1"]
    out = tmp_path / "out"
    _killed_midway(out, args, finished=1)
    other = run_cli(*args[:-4], "--reps", "12", "--workers", "1", "--out", out, "--resume")
    assert_refused(other, "other settings", "--reps: 10 there, 12 here")
    changed = run_cli(*args, "--out", out, "--resume", "--seed", "5")
    assert_refused(changed, "other settings", "scenario.seed: ", " there, 5 here")
    # --force (without --resume) starts again.
    fresh = run_cli(*args, "--out", out, "--force", "--quiet", timeout=300)
    assert fresh.returncode == 0, fresh.stderr


def _kept(out: Path) -> list[tuple[Path, bytes]]:
    """Every file of a run folder and its bytes, but the lock a killed run leaves (the next
    command in the folder takes it away)."""
    files = (p for p in out.rglob("*") if p.is_file() and p.name != ".dcsim.lock")
    return sorted((p.relative_to(out), p.read_bytes()) for p in files)


def test_resume_of_a_run_kept_by_another_version_is_refused(tmp_path: Path) -> None:
    # A run interrupted under a dcsim whose kept tasks had another form (run.json with no
    # checkpoint_format, or another one) is refused with a word, and its folder left as is.
    args = ["run", str(ASHBURN), "--years", YEARS, "--reps", "10", "--workers", "1"]
    out = tmp_path / "out"
    _killed_midway(out, args, finished=1)
    info = json.loads((out / "run.json").read_text())
    assert info["checkpoint_format"] == CHECKPOINT_FORMAT >= 2
    for recorded in (None, info["checkpoint_format"] - 1):
        older = {k: v for k, v in info.items() if k != "checkpoint_format"}
        if recorded is not None:
            older["checkpoint_format"] = recorded
        (out / "run.json").write_text(json.dumps(older))
        before = _kept(out)
        refused = run_cli(*args, "--out", out, "--resume")
        assert_refused(refused, "another version of dcsim", "--force")
        assert _kept(out) == before
    fresh = run_cli(*args, "--out", out, "--force", "--quiet", timeout=300)
    assert fresh.returncode == 0, fresh.stderr


def test_what_a_run_keeps_has_the_shape_its_checkpoint_format_names() -> None:
    # A change of what a run's checkpoint keeps must raise CHECKPOINT_FORMAT (and then this
    # test's names), or a --resume across it would read old objects into a traceback.
    assert CHECKPOINT_FORMAT == 2
    assert [f.name for f in dataclasses.fields(_Done)] == ["small", "offsets"]
    assert [f.name for f in dataclasses.fields(SummaryParts)] == [
        "replication", "summary", "migration", "funnel"
    ]  # fmt: skip


def test_a_what_if_interrupted_before_formats_were_recorded_still_resumes(tmp_path: Path) -> None:
    # compare, sweep, cascade and attribute keep what they kept before (form 1): a run.json
    # with no checkpoint_format is theirs, and goes on.
    identity = {"command": "compare", "spec": {"scenario": {"name": "x"}}, "replications": 3}
    first = Checkpoint(tmp_path / "out", identity, resume=False, force=False, total=3)
    first.save("r0", {"rows": "r0"})
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert info["checkpoint_format"] == 1
    del info["checkpoint_format"]
    (tmp_path / "out" / "run.json").write_text(json.dumps(info))
    again = Checkpoint(tmp_path / "out", identity, resume=True, force=False, total=3)
    assert again.known == {"r0": {"rows": "r0"}}
    # A run's checkpoint (form 2) is not read as theirs, nor theirs as a run's.
    with pytest.raises(DcsimError, match="another version of dcsim"):
        Checkpoint(tmp_path / "out", identity, resume=True, force=False, total=3, form=2)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_resume_draws_the_report_of_a_run_stopped_while_drawing_it(
    tmp_path: Path, command: str
) -> None:
    # Stopped once its tables were whole (run.json complete) but before report.html: the
    # interrupted message says --resume, and --resume draws what is missing, once.
    args = [command, str(ASHBURN), "--years", "2", "--reps", "2", "--out", str(tmp_path),
            "--quiet"]  # fmt: skip
    if command == "compare":
        args += ["--variant", "later", "--set", "scenario.seed=3"]
    first = run_cli(*args, "--force", timeout=300)
    assert first.returncode == 0, first.stderr
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "complete"
    assert not (tmp_path / "report.html").exists()
    tables = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    resumed = run_cli(*args, "--report", "--resume", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "its report had not; wrote" in resumed.stdout, resumed.stdout
    assert (tmp_path / "report.html").stat().st_size > 0
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == tables
    again = run_cli(*args, "--report", "--resume", timeout=300)
    assert again.returncode == 0 and "already finished; nothing to resume" in again.stdout
    # A Ctrl-C while drawing it says what was being drawn and that the tables are whole.
    (tmp_path / "report.html").unlink()
    code = (
        "import sys\n"
        "import dcsim.output.report as report\n"
        "def interrupted(*args, **kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "report.build_report = interrupted\n"
        f"sys.argv = ['dcsim', *{[*args, '--report', '--resume']!r}]\n"
        "from dcsim.cli import program\n"
        "program()\n"
    )
    stopped = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                             text=True, timeout=300, check=False)  # fmt: skip
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.startswith("dcsim: interrupted while drawing its report;")
    assert "tables in" in stopped.stderr and "are whole" in stopped.stderr
    assert "Traceback" not in stopped.stderr


def test_resume_draws_the_charts_of_a_what_if_stopped_while_drawing_them(tmp_path: Path) -> None:
    args = ["compare", str(ASHBURN), "--years", "2", "--reps", "2", "--out", str(tmp_path),
            "--quiet", "--variant", "later", "--set", "scenario.seed=3"]  # fmt: skip
    assert run_cli(*args, timeout=300).returncode == 0
    for chart in tmp_path.glob("*.png"):
        chart.unlink()  # as a run stopped after its run.json, before its charts, leaves it
    resumed = run_cli(*args, "--resume", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "its charts had not; wrote" in resumed.stdout, resumed.stdout
    assert (tmp_path / "compare.png").stat().st_size > 0
    assert not (tmp_path / "report.html").exists()  # not asked for


def test_resume_with_nothing_to_resume_just_runs(tmp_path: Path) -> None:
    _run(tmp_path / "a", "--workers", "1", reps=2)
    _run(tmp_path / "b", "--workers", "1", "--resume", reps=2)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")


def test_no_background_leaves_only_background_rows_out(tmp_path: Path) -> None:
    _run(tmp_path / "all", "--workers", "2", reps=2)
    _run(tmp_path / "own", "--workers", "2", "--no-background", reps=2)
    read = {(run, log): pd.read_csv(tmp_path / run / f"{log}.csv", keep_default_na=False)
            for run in ("all", "own") for log in ("events", "events_background")}  # fmt: skip
    # The sites' rows are in events.csv, the queue traffic in events_background.csv.
    assert not read["all", "events"]["background"].any()
    assert read["all", "events_background"]["background"].all()
    assert len(read["all", "events_background"]) > 0 and len(read["own", "events_background"]) == 0
    assert list(read["own", "events_background"]) == list(read["all", "events"])
    assert (tmp_path / "all" / "events.csv").read_bytes() == (
        tmp_path / "own" / "events.csv"
    ).read_bytes()
    # The funnel counts background requests all the same.
    for name in ("funnel", "summary", "stats", "timeseries"):
        assert (tmp_path / "all" / f"{name}.csv").read_bytes() == (
            tmp_path / "own" / f"{name}.csv"
        ).read_bytes(), name


def test_parquet_holds_the_csv_tables(tmp_path: Path) -> None:
    _run(tmp_path / "csv", "--workers", "2", reps=3)
    _run(tmp_path / "pq", "--workers", "2", "--format", "parquet", reps=3)
    for name in ("events", "timeseries", "summary"):
        from_csv = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        from_parquet = pd.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        assert len(from_csv) == len(from_parquet) and list(from_csv) == list(from_parquet)
        assert from_csv["replication"].tolist() == from_parquet["replication"].tolist()
        # As the README says: a text with no value is "" in both; read_csv makes it NaN.
        for column in {"events": ["unit", "detail"], "timeseries": ["binding_layer"]}.get(name, []):
            assert from_csv[column].isna().any() and (from_parquet[column] == "").any()
            assert from_csv[column].fillna("").tolist() == from_parquet[column].tolist()


def test_a_sweep_killed_midway_and_resumed_writes_the_same_table(tmp_path: Path) -> None:
    args = ["sweep", str(ASHBURN), "--grid", "sites.ashburn.substation.order_policy="
            "at_request,at_agreement", "--years", YEARS, "--reps", "6", "--workers", "2"]  # fmt: skip
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    done = run_cli(*args, "--out", whole, "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    _killed_midway(resumed, args, finished=4)
    again = run_cli(*args, "--out", resumed, "--quiet", "--resume", timeout=300)
    assert again.returncode == 0, again.stderr
    assert (resumed / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()


def _square(value: int) -> int:
    return value * value


@settings(max_examples=8, deadline=None)
@given(
    count=st.integers(0, 12),
    known=st.sets(st.integers(0, 11)),
    workers=st.sampled_from([1, 2, 3]),
)
def test_the_task_runner_hands_back_every_result_in_task_order(
    count: int, known: set[int], workers: int
) -> None:
    tasks = [(f"t{i}", i) for i in range(count)]
    already = {f"t{i}": -i for i in known if i < count}  # known results are not recomputed
    seen: list[int] = []
    results = list(execute(_square, tasks, workers=workers, known=already, progress=seen.append))
    assert [key for key, _ in results] == [key for key, _ in tasks]
    assert [value for _, value in results] == [
        -i if f"t{i}" in already else i * i for i in range(count)
    ]
    assert seen == sorted(seen) and (not tasks or seen[-1] == count)


def _started(argument: tuple[str, int]) -> int:
    """A task that leaves a file behind when it starts."""
    folder, value = argument
    Path(folder, f"started-{value}").touch()
    return value


@pytest.mark.parametrize("workers", [1, 2])
def test_meanwhile_runs_once_while_the_workers_have_tasks(tmp_path: Path, workers: int) -> None:
    """``meanwhile`` (a run imports SciPy's t quantile there) is called once; on a pool,
    when a task has started in a worker, so its time is not spent before the first
    task can start."""
    calls: list[bool] = []

    def meanwhile() -> None:
        deadline = time.monotonic() + 30
        while workers > 1 and not list(tmp_path.glob("started-*")):
            assert time.monotonic() < deadline, "no task started before meanwhile"
            time.sleep(0.01)
        calls.append(True)

    tasks = [(f"t{i}", (str(tmp_path), i)) for i in range(6)]
    results = list(execute(_started, tasks, workers=workers, meanwhile=meanwhile))
    assert [value for _, value in results] == list(range(6))
    assert calls == [True]


def test_a_run_imports_scipy_only_once_its_tasks_are_out() -> None:
    """The modules a run imports before its first task leave SciPy (and the f2py it pulls
    in, ~0.1 s in all) to statistics.prepare."""
    code = (
        "import sys\n"
        "import dcsim.cli.commands, dcsim.output.streamed_run, dcsim.experiments.runner\n"
        "print('scipy' in sys.modules)\n"
        "from dcsim.experiments.statistics import describe\n"
        "import numpy as np\n"
        "n, mean, std, low, high, *_ = describe(np.array([1.0, 2.0, 3.0, 4.0]))\n"
        "print('scipy' in sys.modules, round(high - mean, 6))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    # t(0.975, 3 df) = 3.182446305...; the sample's std is sqrt(5/3), over sqrt(4).
    assert done.stdout.split() == ["False", "True", "2.05426"]


class _Cycle:
    """An object in a reference cycle: only the cyclic collector can free it."""

    made = 0  # in this process
    freed = 0

    def __init__(self) -> None:
        self.me = self
        _Cycle.made += 1

    def __del__(self) -> None:
        _Cycle.freed += 1


def _collector_seen(value: int) -> tuple[bool, int, _Cycle]:
    """In a task: whether the collector is on, and how many cycles of earlier tasks in this
    process are still unfreed; then leave a cycle behind, and return another (a result
    the caller drops)."""
    unfreed = _Cycle.made - _Cycle.freed
    _Cycle()
    return gc.isenabled(), unfreed, _Cycle()


@pytest.mark.parametrize("workers", [1, 2])
def test_tasks_run_with_the_collector_off_and_what_they_leave_is_collected(workers: int) -> None:
    """The runner turns the collector off for each task (its full passes walked the store of
    evaluated states again and again), and collects what a task left in cycles before the
    next one starts, so memory does not grow with the tasks; the caller's collector is
    as it was afterwards, its objects no longer frozen."""
    assert gc.isenabled()
    gc.collect()  # no cycle of an earlier test for a worker to inherit
    frozen = gc.get_freeze_count()
    tasks = [(f"t{i}", i) for i in range(6)]
    seen = []
    for _, (enabled, unfreed, result) in execute(_collector_seen, tasks, workers=workers):
        seen.append((enabled, unfreed))
        del result  # as a streamed run drops each result once it is on disk
    assert all(not enabled for enabled, _ in seen)
    # The last task's garbage and the result dropped since: collected, not frozen alive.
    assert all(unfreed == 0 for _, unfreed in seen)
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_the_runner_leaves_what_the_caller_froze_frozen() -> None:
    kept = [object() for _ in range(3)]
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        tasks = [(f"t{i}", i) for i in range(3)]
        assert [v for _, v in execute(_square, tasks, workers=1)] == [0, 1, 4]
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
    del kept


def test_a_replication_leaves_its_bulk_to_reference_counting() -> None:
    """A run's objects hold one another in cycles, which only the collector frees (a
    worker collects after each task). simulate lets go of what they hold in bulk (event
    rows, background draws; the timeseries and tapes, to the result alone): with the
    collector off, every row and draw is freed by the time simulate returns, and the
    timeseries and tapes are the result's alone."""
    from dcsim.input.overrides import with_run_settings
    from dcsim.model.background import BackgroundDraws
    from dcsim.model.events import EventRow
    from dcsim.model.simulation import simulate

    scenario = with_run_settings(dcsim.load(REPO / "sites" / "portfolio.toml"), years=3, seed=None)
    bulk = (EventRow, BackgroundDraws)

    def alive() -> int:
        return sum(isinstance(o, bulk) for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        before = alive()
        result = simulate(scenario, 0)
        assert all(result.snapshots.values()) and all(result.tapes.values())
        every = [*result.snapshots.values(), *result.tapes.values()]
        for rows in every:
            owners = [o for o in gc.get_referrers(rows) if o is not every]
            assert owners in ([result.snapshots], [result.tapes]), owners  # not their site
        assert result.log.background.sum() > 100  # rows the background draws made
        assert alive() == before  # rows and draws freed already, by reference counting
    finally:
        gc.enable()


def _die_on_three(value: int) -> int:
    if value == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    time.sleep(0.05)
    return value


def test_a_worker_killed_from_outside_ends_the_run_with_a_message_not_a_hang() -> None:
    tasks = [(f"t{i}", i) for i in range(8)]
    handed: list[int] = []
    started = time.monotonic()
    with pytest.raises(DcsimError, match="worker process died"):
        for _, value in execute(_die_on_three, tasks, workers=2):
            handed.append(value)
    assert time.monotonic() - started < 30
    assert handed == list(range(len(handed))) and len(handed) <= 3  # only what finished, in order


def test_an_error_in_a_task_reaches_the_caller_as_itself() -> None:
    with pytest.raises(ZeroDivisionError):
        list(execute(_reciprocal, [(f"t{i}", i) for i in (3, 2, 0, 1)], workers=2))


def _reciprocal(value: int) -> float:
    return 1 / value


def test_a_task_file_cut_short_by_a_kill_runs_that_task_again(tmp_path: Path) -> None:
    # A finished task's file is written in place (no rename): a kill in the middle of it
    # leaves a file that does not load, and --resume runs that task again.
    identity = {"command": "run", "replications": 3}
    checkpoint = Checkpoint(tmp_path / "out", identity, resume=False, force=False, total=3)
    for key in ("r0", "r1"):
        checkpoint.save(key, {"rows": key * 1000})
    files = sorted(checkpoint.store.glob("task-*.pickle"))
    assert len(files) == 2
    whole = {f: f.read_bytes() for f in files}
    cut = max(files, key=lambda f: pickle.loads(whole[f])[0])  # r1's
    for size in (0, 1, len(whole[cut]) // 2, len(whole[cut]) - 1):
        cut.write_bytes(whole[cut][:size])
        resumed = Checkpoint(tmp_path / "out", identity, resume=True, force=False, total=3)
        assert resumed.known == {"r0": {"rows": "r0" * 1000}}, size


@pytest.mark.parametrize("name", ["portfolio", "<tasks finished>"])
def test_run_json_while_running_counts_the_finished_tasks(tmp_path: Path, name: str) -> None:
    # run.json's text is made once and the count put in at each task; a setting that
    # holds the marker's own text is written the long way, with the same result.
    identity = {"command": "run", "spec": {"scenario": {"name": name}}, "replications": 3}
    checkpoint = Checkpoint(tmp_path / "out", identity, resume=False, force=False, total=3)
    for finished, key in enumerate(["r0", "r1"], start=1):
        checkpoint.save(key, {"rows": key})
        info = json.loads((tmp_path / "out" / "run.json").read_text())
        assert info["status"] == "running" and info["tasks"] == 3
        assert info["tasks_finished"] == finished and info["resume"] == identity


def test_a_pool_workers_rows_come_through_its_spool_file_as_they_were(tmp_path: Path) -> None:
    from dcsim.input.load import load
    from dcsim.input.overrides import with_run_settings
    from dcsim.output.export import Layout
    from dcsim.output.streamed_run import Spooled, replication_task

    scenario = with_run_settings(load(ASHBURN), years=float(YEARS), seed=None)
    _, sent = replication_task((scenario, 1, Layout(), None))
    _, spooled = replication_task((scenario, 1, Layout(), str(tmp_path)))
    assert sent.keys() == spooled.keys() and spooled["headers"] == sent["headers"]
    for name, rows in sent.items():
        if name == "headers" or not rows:
            assert spooled[name] == rows  # nothing to write: nothing spooled
            continue
        assert isinstance(spooled[name], Spooled)
        assert spooled[name].take() == rows
    assert list(tmp_path.iterdir()) == []  # each taken file is gone

    # A spool file that cannot be written ends the run with a message, not a traceback.
    with pytest.raises(DcsimError, match=r"could not be written.*--resume"):
        replication_task((scenario, 1, Layout(), str(tmp_path / "gone")))


def test_a_pool_run_takes_each_replications_rows_from_its_spool_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dcsim.input.load import load
    from dcsim.input.overrides import with_run_settings
    from dcsim.output import streamed_run
    from dcsim.output.export import Layout

    scenario = with_run_settings(load(ASHBURN), years=float(YEARS), seed=None)
    folder = tmp_path / "run"
    checkpoint = Checkpoint(folder, {"command": "run"}, resume=False, force=False, total=3)
    left_over = checkpoint.store / streamed_run.SPOOL_FOLDER / "r7.events"
    left_over.parent.mkdir()
    left_over.write_bytes(b"rows an interrupted run never appended\n")
    taken: list[str] = []
    take = streamed_run.Spooled.take

    def counted(self: streamed_run.Spooled) -> bytes:
        taken.append(Path(self.path).name)
        return take(self)

    monkeypatch.setattr(streamed_run.Spooled, "take", counted)
    streamed_run.run_into(
        scenario, folder, replications=3, layout=Layout(), checkpoint=checkpoint, workers=2,
        scheduler=None, progress=None, run_info=dict,
    )  # fmt: skip
    # Each replication's non-empty streamed tables came through a file, in replication order.
    assert sorted(taken) == taken and {name.split(".")[0] for name in taken} == {"r0", "r1", "r2"}
    assert {name.split(".")[1] for name in taken} >= {"events", "events_background"}
    assert list(left_over.parent.iterdir()) == []  # taken files removed, the old one too
    assert b"rows an interrupted run never appended" not in (folder / "events.csv").read_bytes()
