"""--scheduler: the same replication tasks on a Dask cluster give the same bytes.

A LocalCluster of two worker processes stands in for a cluster of machines: its
address is what `dask scheduler` prints. Dask is an optional extra; these tests
are skipped without it (the test extras install it, so CI runs them).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ASHBURN, REPO, SITES, assert_refused, interrupt_group, run_cli

distributed = pytest.importorskip("distributed")
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
ARGS = ["run", str(ASHBURN), "--years", "4", "--reps", "8"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture(scope="module")
def on_the_pool(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("pool")
    done = run_cli(*ARGS, "--workers", "1", "--out", out, "--force", "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    return _bytes(out)


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / f"{name}.csv").read_bytes() for name in TABLES}


def test_a_dask_cluster_writes_what_the_process_pool_writes(
    cluster: Any, on_the_pool: dict[str, bytes], tmp_path: Path
) -> None:
    done = run_cli(*ARGS, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "d",
                   "--quiet", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _bytes(tmp_path / "d") == on_the_pool
    # The environment variable is the default for --scheduler.
    env = {**os.environ, "DCSIM_SCHEDULER": cluster.scheduler_address}
    by_env = subprocess.run([sys.executable, "-m", "dcsim", *ARGS, "--out", str(tmp_path / "e"),
                             "--quiet"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    assert by_env.returncode == 0, by_env.stderr
    assert _bytes(tmp_path / "e") == on_the_pool


def test_a_worker_killed_midway_costs_a_retry_not_a_difference(
    cluster: Any, on_the_pool: dict[str, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcsim", *ARGS, "--scheduler", cluster.scheduler_address,
         "--out", str(out), "--quiet"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if json.loads((out / "run.json").read_text()).get("tasks_finished", 0) >= 1:
                break
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.02)
    nanny = next(iter(cluster.workers.values()))
    os.kill(nanny.process.pid, signal.SIGKILL)  # the nanny starts a new worker
    # Killed midway: tasks were still left, so both workers held one.
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _bytes(out) == on_the_pool


def test_local_starts_a_cluster_on_this_machine(
    on_the_pool: dict[str, bytes], tmp_path: Path
) -> None:
    done = run_cli(*ARGS, "--scheduler", "local", "--workers", "2", "--out", tmp_path / "l",
                   "--quiet", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _bytes(tmp_path / "l") == on_the_pool


def _finished(out: Path) -> int:
    try:
        return int(json.loads((out / "run.json").read_text()).get("tasks_finished", 0))
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_ctrl_c_stops_a_local_cluster_run_with_one_word_and_no_worker_left(
    tmp_path: Path, how: signal.Signals
) -> None:
    # Sent to the whole process group, as a terminal's Ctrl-C (or `timeout`) sends it: the
    # cluster's worker processes get it too, and must leave it to dcsim.
    out = tmp_path / "out"
    with (tmp_path / "stderr.txt").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dcsim", "run", str(SITES / "portfolio.toml"), "--years",
             "10", "--reps", "400", "--scheduler", "local", "--workers", "2", "--out", str(out),
             "--quiet"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while _finished(out) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    code = interrupt_group(proc, how, gone_within=30)
    err = (tmp_path / "stderr.txt").read_text()
    assert code == 130, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 2, err  # no traceback, no log of the cluster's closing
    assert re.fullmatch(r"dcsim: Dask dashboard at http://\S+/status( \(.*\))?", lines[0])
    assert lines[1].startswith("dcsim: interrupted; ") and "--resume" in lines[1], err


def test_a_scheduler_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli(*ARGS, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "x",
                   timeout=120)  # fmt: skip
    assert_refused(done, "--scheduler tcp://127.0.0.1:9", "dask scheduler")
    assert not (tmp_path / "x").exists()  # refused before the folder was touched
    # A what-if refuses it the same way, and an earlier run's folder is left as it was.
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "compare.csv").write_text("precious\n")
    what_if = run_cli("compare", ASHBURN, "--variant", "v", "--set", "scenario.seed=1", "--scheduler",
                      "tcp://127.0.0.1:9", "--out", tmp_path / "kept", "--force", timeout=120)  # fmt: skip
    assert_refused(what_if, "--scheduler tcp://127.0.0.1:9")
    assert (tmp_path / "kept" / "compare.csv").read_text() == "precious\n"
    # Not an address at all: refused the same way, nothing made.
    typo = run_cli(*ARGS, "--scheduler", "localhots", "--out", tmp_path / "y", timeout=120)
    assert_refused(typo, "--scheduler localhots", "not an address")
    assert not (tmp_path / "y").exists()
    assert (tmp_path / "kept" / "compare.csv").read_text() == "precious\n"


def test_the_python_what_ifs_run_on_a_cluster_and_match_the_pool(cluster: Any) -> None:
    import dcsim

    base = dcsim.load(ASHBURN)
    variants = {"crews": {"regions.dominion.upgrade_crews": 4}}
    kwargs: dict[str, Any] = {"years": 4, "replications": 4}
    on_pool = dcsim.compare(base, variants, workers=2, **kwargs)
    on_dask = dcsim.compare(base, variants, scheduler=cluster.scheduler_address, **kwargs)
    assert on_dask.equals(on_pool)
    grid = {"regions.dominion.upgrade_crews": [2, 4]}
    assert dcsim.sweep(base, grid, scheduler=cluster.scheduler_address, **kwargs).equals(
        dcsim.sweep(base, grid, workers=1, **kwargs)
    )
    with pytest.raises(dcsim.DcsimError, match=r"tcp://127\.0\.0\.1:9"):
        dcsim.cascade(base, scheduler="tcp://127.0.0.1:9", **kwargs)


def test_without_dask_the_message_names_the_variable_that_asked_for_it(tmp_path: Path) -> None:
    # $DCSIM_SCHEDULER set, Dask not importable: the user gave no --scheduler, so the
    # message must name the variable too, and how to do without.
    code = (
        "import sys\n"
        "sys.modules['distributed'] = None\n"  # as if Dask were not installed
        "from dcsim.cli import program\n"
        f"sys.argv = ['dcsim', *{[*ARGS, '--out', str(tmp_path / 'x')]!r}]\n"
        "program()\n"
    )
    env = {**os.environ, "DCSIM_SCHEDULER": "local"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert_refused(done, "$DCSIM_SCHEDULER", "pip install 'dcsim[dask]'", "unset")
    assert not (tmp_path / "x").exists()


def test_a_local_cluster_keeps_the_users_own_worker_preloads() -> None:
    # Given a preload list of its own, a cluster no longer reads Dask's configured one.
    import dask

    from dcsim.experiments.dask_runner import _preloads

    with dask.config.set({"distributed.worker.preload": ["theirs"]}):
        assert _preloads() == ["theirs", "dcsim.experiments.dask_runner"]
    with dask.config.set({"distributed.worker.preload": []}):
        assert _preloads() == ["dcsim.experiments.dask_runner"]
