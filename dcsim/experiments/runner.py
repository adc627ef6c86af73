"""Monte Carlo replications of a scenario, handed to the one task runner (:mod:`.tasks`).

Replication *i* always uses the streams of replication *i*, whichever worker
runs it, and results are put back in replication order, so the outputs do not
depend on the number of workers or on where they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.results import (
    PackedReplication,
    RunResult,
    collect,
    concat,
    pack,
    summary_frame,
)
from dcsim.experiments.statistics import prepare
from dcsim.experiments.tasks import default_workers, execute
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import Layer, layers_of
from dcsim.model.simulation import simulate

__all__ = ["Plan", "default_workers", "replicate", "run", "summaries"]


@dataclass(frozen=True)
class Plan:
    """Where an experiment's tasks run, and what is already known of them.

    ``workers`` processes (default: every core), or the Dask cluster at
    ``scheduler`` (``local`` for one on this machine). ``known`` maps a task's
    key to its result from an interrupted run (see :mod:`dcsim.output.checkpoint`);
    ``on_result(key, result)`` is told of each new result, in task order.
    """

    workers: int | None = None
    scheduler: str | None = None
    known: Mapping[str, Any] | None = None
    on_result: Callable[[str, Any], None] | None = None
    progress: Callable[[int], None] | None = None


def replicate(task: tuple[Scenario, int, frozenset[Layer], bool]) -> PackedReplication:
    """One replication's tables (``task``: scenario, index, relaxed layers, background
    events kept), built in the worker, so only a few arrays cross between processes."""
    scenario, replication, relaxed, background = task
    return pack(simulate(scenario, replication, relaxed), scenario, include_background=background)


def _summary(task: tuple[Scenario, int, frozenset[Layer]]) -> pd.DataFrame:
    scenario, replication, relaxed = task
    return summary_frame(simulate(scenario, replication, relaxed), scenario)


def check_counts(replications: int, years: float | None, workers: int | None) -> None:
    if replications < 1:
        raise DcsimError(
            f"replications (--reps) must be at least 1 (got {replications}); for example --reps 30."
        )
    if years is not None and not years > 0:
        raise DcsimError(
            f"years (--years) must be greater than zero (got {years}): the horizon from the"
            " start date, for example --years 10."
        )
    if workers is not None and workers < 1:
        raise DcsimError(
            f"workers (--workers) must be at least 1 (got {workers}); leave it out to use"
            " every core."
        )


def run_plan(func: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], plan: Plan) -> list[Any]:
    """``func`` over ``tasks`` as ``plan`` says; the results in task order."""
    results = []
    for key, result in execute(func, tasks, workers=plan.workers, scheduler=plan.scheduler,
                               known=plan.known, progress=plan.progress,
                               meanwhile=prepare):  # fmt: skip
        if plan.on_result is not None and not (plan.known and key in plan.known):
            plan.on_result(key, result)
        results.append(result)
    return results


def summaries(
    runs: Mapping[str, tuple[Scenario, frozenset[Layer]]], replications: int, plan: Plan
) -> dict[str, pd.DataFrame]:
    """The summary table of each named (scenario, relaxed layers), ``replications`` each,
    all in one batch of tasks so that every worker is busy until the last one ends."""
    tasks = [
        (f"{name}/{r}", (scenario, r, relaxed))
        for name, (scenario, relaxed) in runs.items()
        for r in range(replications)
    ]
    frames = run_plan(_summary, tasks, plan)
    out = {}
    for index, name in enumerate(runs):
        out[name] = concat(frames[index * replications : (index + 1) * replications])
    return out


def run(
    scenario: Scenario,
    *,
    years: float | None = None,
    replications: int = 1,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    first_replication: int = 0,
    progress: Callable[[int], None] | None = None,
    relaxed: Iterable[str | Layer] = frozenset(),
) -> RunResult:
    """Run ``replications`` replications and return their tables.

    ``years`` sets the horizon from the scenario's start date and ``seed`` the
    root seed (both default to the scenario's own). ``workers`` processes share
    the replications (default: every core), or ``scheduler`` names a Dask
    cluster to run them on (``"local"``: one on this machine). ``progress`` is
    called with the number of replications finished so far. ``relaxed`` names
    layers made non-binding (instantly available, unlimited), as the cascade does.
    """
    check_counts(replications, years, workers)
    layers = layers_of(relaxed)
    scenario = with_run_settings(scenario, years=years, seed=seed)
    indices = range(first_replication, first_replication + replications)
    tasks = [(f"r{index}", (scenario, index, layers, True)) for index in indices]
    plan = Plan(workers=workers, scheduler=scheduler, progress=progress)
    return collect(scenario, run_plan(replicate, tasks, plan), layers)
