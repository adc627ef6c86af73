"""The bottleneck cascade: remove the binding layer, see what binds next, repeat.

Step 0 is the base run. At each step the layer holding the most idle
GPU-hours (mean across replications, summed over the chosen sites) is made
non-binding — instantly available and unlimited — and the scenario is run
again with the same replications (common random numbers), until idle
GPU-hours are near zero or no layer is left. Bottlenecks don't disappear,
they migrate: this makes the migration measurable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.runner import Plan, check_counts, summaries
from dcsim.experiments.statistics import describe
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import LAYERS, Layer, layers_of

CASCADE_COLUMNS = (
    "step",
    "layer_removed",
    "removed_so_far",
    "binds_next",
    "binds_next_share",
    "idle_gpu_hours_mean",
    "idle_gpu_hours_ci95_low",
    "idle_gpu_hours_ci95_high",
    "idle_cost_usd_mean",
)


@dataclass
class Cascade:
    table: pd.DataFrame  # one row per step, CASCADE_COLUMNS
    runs: list[pd.DataFrame]  # each step's summary table


def _per_replication(summary: pd.DataFrame, sites: list[str], column: str) -> np.ndarray:
    frame = summary[summary["site"].isin(sites)]
    return frame.groupby("replication")[column].sum().to_numpy(dtype=float)


NEAR_ZERO = 0.01  # the cascade stops once less than this share of the base's idle time is left


def cascade(
    scenario: Scenario,
    *,
    sites: list[str] | None = None,
    years: float | None = None,
    replications: int = 10,
    seed: int | None = None,
    workers: int | None = None,
    near_zero: float = NEAR_ZERO,
    on_step: Callable[[int, list[str]], None] | None = None,
    plan: Plan | None = None,
) -> Cascade:
    """Run the cascade; ``near_zero`` is the share of the base idle GPU-hours to stop at.

    ``on_step(step, removed)`` is called before each step's run with the layers removed
    so far, in the order they were removed.
    """
    names = [s.name for s in scenario.sites]
    chosen = sites or names
    unknown = [s for s in chosen if s not in names]
    if unknown:
        raise DcsimError(f"--site {unknown[0]!r} is not in the scenario; sites: {', '.join(names)}")
    check_counts(replications, years, workers)
    settled = with_run_settings(scenario, years=years, seed=seed)
    plan = plan or Plan(workers=workers)
    relaxed: frozenset[Layer] = frozenset()
    rows, runs = [], []
    base_idle = None
    removed = "-"
    order: list[str] = []  # layers removed so far, in the order they were removed
    for step in range(len(LAYERS) + 1):
        if on_step is not None:
            on_step(step, list(order))
        name = "+".join(sorted(layer.name for layer in relaxed)) or "none"
        result = summaries({f"relaxed {name}": (settled, relaxed)}, replications, plan)
        summary = next(iter(result.values()))
        runs.append(summary)
        idle = _per_replication(summary, chosen, "idle_gpu_hours")
        by_layer = {
            layer.name: float(_per_replication(summary, chosen, layer.idle_column).mean())
            for layer in LAYERS
            if layer not in relaxed
        }
        total = float(idle.mean())
        base_idle = total if base_idle is None else base_idle
        binding = max(by_layer, key=lambda layer: by_layer[layer]) if by_layer else ""
        if not by_layer or by_layer[binding] <= 0:
            binding = ""
        _, mean, _, low, high, _, _ = describe(idle)
        rows.append(
            (
                step,
                removed,
                "+".join(order) or "-",
                binding or "-",
                by_layer.get(binding, 0.0) / total if total > 0 and binding else 0.0,
                mean,
                low,
                high,
                float(_per_replication(summary, chosen, "idle_cost_usd").mean()),
            )
        )
        if not binding or total <= near_zero * base_idle:
            break
        relaxed = relaxed | layers_of([binding])
        removed = binding
        order.append(binding)
    return Cascade(pd.DataFrame(rows, columns=list(CASCADE_COLUMNS)), runs)
