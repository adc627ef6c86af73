"""Monte Carlo replications of a scenario, on one process or a pool of them.

Replication *i* always uses the streams of replication *i*, whichever worker
runs it, and results are put back in replication order, so the outputs do not
depend on the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

from dcsim.errors import DcsimError
from dcsim.experiments.results import RunResult, collect
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import Layer, layers_of
from dcsim.model.simulation import ReplicationResult, simulate


def _one(
    scenario: Scenario, replication: int, relaxed: frozenset[Layer] = frozenset()
) -> ReplicationResult:
    result = simulate(scenario, replication, relaxed)
    result.snapshots = {}  # not needed downstream; keeps what crosses processes small
    return result


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
    results: dict[int, ReplicationResult] = {}
    if workers == 1 or replications == 1:
        for index in indices:
            results[index] = _one(scenario, index, layers)
            if progress is not None:
                progress(len(results))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            futures = [pool.submit(_one, scenario, index, layers) for index in indices]
            try:
                for future in as_completed(futures):
                    result = future.result()
                    results[result.replication] = result
                    if progress is not None:
                        progress(len(results))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    ordered = [results[index] for index in indices]
    return collect(scenario, ordered, layers)
