"""Monte Carlo replications of a scenario, on one process or a pool of them.

Replication *i* always uses the streams of replication *i*, whichever worker
runs it, and results are put back in replication order, so the outputs do not
depend on the number of workers.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from dcsim.errors import DcsimError
from dcsim.experiments.results import PackedReplication, RunResult, collect, pack
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import Layer, layers_of
from dcsim.model.simulation import simulate

_T = TypeVar("_T")
_R = TypeVar("_R")
_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies


def _one(
    scenario: Scenario, replication: int, relaxed: frozenset[Layer] = frozenset()
) -> PackedReplication:
    # Typed columns, built here in the worker: the parent only concatenates them.
    return pack(simulate(scenario, replication, relaxed), scenario.start_date)


def _one_task(task: tuple[Scenario, int, frozenset[Layer]]) -> PackedReplication:
    return _one(*task)


def _worker_started() -> None:
    """In each worker: leave Ctrl-C to the parent, and die with it.

    A terminal sends Ctrl-C to the whole process group; the parent stops the
    pool, so a worker must not print a traceback of its own. If the parent is
    killed outright (SIGKILL), Linux ends the workers too.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above ran
            os._exit(1)


def map_tasks(func: Callable[[_T], _R], tasks: Sequence[_T], workers: int | None) -> Iterator[_R]:
    """``func`` over ``tasks``, on ``workers`` processes; results as they finish.

    With one worker (or one task) everything runs here, in order. Ctrl-C,
    SIGTERM or an error ends every worker at once.
    """
    workers = default_workers() if workers is None else workers
    if workers == 1 or len(tasks) <= 1:
        yield from map(func, tasks)
        return
    pool = multiprocessing.get_context("fork").Pool(
        min(workers, len(tasks)), initializer=_worker_started
    )
    try:
        yield from pool.imap_unordered(func, tasks)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def default_workers() -> int:
    return os.cpu_count() or 1


def run(
    scenario: Scenario,
    *,
    years: float | None = None,
    replications: int = 1,
    seed: int | None = None,
    workers: int | None = None,
    first_replication: int = 0,
    progress: Callable[[int], None] | None = None,
    relaxed: Iterable[str | Layer] = frozenset(),
) -> RunResult:
    """Run ``replications`` replications and return their tables.

    ``years`` sets the horizon from the scenario's start date and ``seed`` the
    root seed (both default to the scenario's own). ``workers`` processes share
    the replications (default: every core). ``progress`` is called with the
    number of replications finished so far. ``relaxed`` names layers made
    non-binding (instantly available, unlimited), as the cascade does.
    """
    if replications < 1:
        raise DcsimError(f"replications must be at least 1 (got {replications}).")
    if years is not None and not years > 0:
        raise DcsimError(f"years must be greater than zero (got {years}).")
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise DcsimError(f"workers must be at least 1 (got {workers}).")
    layers = layers_of(relaxed)
    scenario = with_run_settings(scenario, years=years, seed=seed)
    indices = range(first_replication, first_replication + replications)
    results: dict[int, PackedReplication] = {}
    tasks = [(scenario, index, layers) for index in indices]
    for result in map_tasks(_one_task, tasks, workers):
        results[result.replication] = result
        if progress is not None:
            progress(len(results))
    ordered = [results[index] for index in indices]
    return collect(scenario, ordered, layers)
