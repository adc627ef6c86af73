"""Which layer holds the GPUs: four measures side by side, per site and for all sites.

For each replication the scenario is run with every subset of layers relaxed
(2^L runs, the same random numbers in each: common random numbers). From the
idle GPU-hours of those runs:

* ``binding`` — the base run's idle GPU-hours attributed to the layer by the
  binding-layer rule (the one whose shortfall ends last);
* ``alone_saving`` — what relaxing that layer alone saves;
* ``shapley`` — the layer's exact Shapley value in the game "idle GPU-hours
  removed by relaxing a set of layers": its saving averaged over every order
  in which the layers could be fixed. Per replication the values add up to the
  base idle GPU-hours (relaxing everything leaves nothing idle), and two layers
  that only help together (grid and transformers) share that saving;
* ``criticality`` — the share of replications in which the layer has the
  largest Shapley value (Primavera's criticality index, for layers).

Each replication is simulated once, with nothing relaxed. Relaxing a layer
changes what a site's evaluation and crews read, never a process, so every
other subset is the base run's tape of each site's changes replayed with those
layers relaxed (:func:`~dcsim.model.site_core.replay`): the same code the
simulation settles each instant with, fed the same changes, so the same
result, without rerunning the queues and markets.

A power layer (grid, transformers, on-site) that is never tight at a site while
GPUs are idle there cannot change that site's idle GPU-hours if relaxed as
well: more power where power is not what holds GPUs back runs no more of them,
and power does not change where crews install. Such a (site, subset) is not
replayed: its idle GPU-hours are copied from the subset without that layer.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.runner import Plan, check_counts, run_plan
from dcsim.experiments.statistics import describe
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.capacity import Snapshot
from dcsim.model.layers import LAYERS, POWER_LAYERS, Layer
from dcsim.model.simulation import simulate
from dcsim.model.site_core import SiteCore, replay

ALL_SITES = "(all sites)"
ATTRIBUTION_COLUMNS = (
    "site", "layer", "base_idle_gpu_hours", "binding", "binding_share", "alone_saving",
    "alone_share", "shapley", "shapley_share", "shapley_ci95_low", "shapley_ci95_high",
    "criticality", "strongest_partner", "interaction",
)  # fmt: skip
INTERACTION_COLUMNS = ("site", "layer_a", "layer_b", "interaction", "interaction_ci95_low",
                       "interaction_ci95_high")  # fmt: skip
_POWER = frozenset(POWER_LAYERS)


@dataclass
class Attribution:
    table: pd.DataFrame  # ATTRIBUTION_COLUMNS, one row per site (and all sites) and layer
    interactions: pd.DataFrame  # INTERACTION_COLUMNS, one row per site and pair of layers
    runs: int  # (replication, subset, site) results computed (the rest were provably the same)
    per_replication: pd.DataFrame  # site, replication, layer, base idle, alone saving, shapley


@dataclass(frozen=True)
class _Outcome:
    """One replication: each site's idle GPU-hours under every subset (by mask)."""

    replication: int
    idle: dict[int, dict[str, float]]  # mask -> site -> idle GPU-hours
    by_layer: dict[str, tuple[float, ...]]  # site -> binding split of the base run
    computed: int  # (site, subset) results replayed or simulated rather than copied


def _run_replication(task: tuple[Scenario, int, tuple[str, ...], bool]) -> _Outcome:
    scenario, replication, chosen, reuse = task
    base = simulate(scenario, replication)
    horizon = scenario.horizon_days
    idle: dict[int, dict[str, float]] = {0: {}}
    tight: dict[tuple[int, str], int] = {}
    specs = {spec.name: spec for spec in scenario.sites}
    for record in base.summary:
        if record.site in chosen:
            idle[0][record.site] = record.idle_gpu_hours
            tight[0, record.site] = _tight_while_idle(base.snapshots[record.site])
    computed = len(chosen)
    for size in range(1, len(LAYERS) + 1):
        for combo in itertools.combinations(LAYERS, size):
            mask = sum(layer.bit for layer in combo)
            idle[mask] = {}
            for site in chosen:
                known = _same_as(idle, tight, site, mask, combo) if reuse else None
                if known is not None:
                    idle[mask][site] = known
                    continue
                core = SiteCore(scenario, specs[site], combo, rows=False)
                replay(core, base.tapes[site], horizon)
                idle[mask][site] = core.idle_gpu_hours(horizon)
                tight[mask, site] = core.power_tight
                computed += 1
    by_layer = {r.site: r.idle_by_layer for r in base.summary}
    return _Outcome(replication, idle, by_layer, computed)


def _tight_while_idle(rows: Sequence[Snapshot]) -> int:
    mask = 0
    for row in rows:
        if row.gpus_idle:
            mask |= row.tight
    return mask


def _same_as(idle: dict[int, dict[str, float]], tight: dict[tuple[int, str], int], site: str,
             mask: int, combo: tuple[Layer, ...]) -> float | None:  # fmt: skip
    """The site's idle GPU-hours for this subset, if a subset without one of its power
    layers was computed (not copied) and that layer was never tight there; else None."""
    for layer in combo:
        if layer in _POWER:
            without = tight.get((mask & ~layer.bit, site))
            if without is not None and not without & layer.bit:
                return idle[mask & ~layer.bit][site]
    return None


def shapley(values: dict[int, float], count: int) -> list[float]:
    """Exact Shapley values for a game over ``count`` players given as {mask: v(mask)}."""
    weights = [math.factorial(s) * math.factorial(count - s - 1) / math.factorial(count)
               for s in range(count)]  # fmt: skip
    result = []
    for i in range(count):
        bit = 1 << i
        total = 0.0
        for mask, value in values.items():
            if not mask & bit:
                total += weights[mask.bit_count()] * (values[mask | bit] - value)
        result.append(total)
    return result


def attribute(scenario: Scenario, *, years: float | None = None, replications: int = 10,
              seed: int | None = None, workers: int | None = None,
              sites: Sequence[str] | None = None,
              progress: Callable[[int, int], None] | None = None,
              reuse: bool = True, plan: Plan | None = None) -> Attribution:  # fmt: skip
    """Measure, per site, how much of the idle GPU-hours each layer holds (see module doc).

    ``reuse=False`` runs every subset, even those whose result is provably known.
    """
    check_counts(replications, years, workers)
    scenario = with_run_settings(scenario, years=years, seed=seed)
    names = [s.name for s in scenario.sites]
    chosen = list(sites or names)
    unknown = [s for s in chosen if s not in names]
    if unknown:
        raise DcsimError(f"--site {unknown[0]!r} is not in the scenario; sites: {', '.join(names)}")
    tasks = [(f"r{r}", (scenario, r, tuple(chosen), reuse)) for r in range(replications)]
    plan = plan or Plan(workers=workers)
    if progress is not None:
        plan = dataclasses.replace(plan, progress=lambda done: progress(done, replications))
    outcomes = {o.replication: o for o in run_plan(_run_replication, tasks, plan)}
    return _tables(outcomes, chosen, replications, sum(o.computed for o in outcomes.values()))


def _tables(outcomes: dict[int, _Outcome], sites: list[str], replications: int,
            ran: int) -> Attribution:  # fmt: skip
    count, full = len(LAYERS), (1 << len(LAYERS)) - 1
    rows, pairs, each = [], [], []
    groups = [(site, [site]) for site in sites] + ([(ALL_SITES, sites)] if len(sites) > 1 else [])
    for label, members in groups:
        idle = np.array([[sum(outcomes[r].idle[m][s] for s in members) for m in range(full + 1)]
                         for r in range(replications)])  # fmt: skip
        base = idle[:, 0]
        phi = np.array([shapley(dict(enumerate(-row)), count) for row in idle])  # saving game
        alone = np.array([[base[r] - idle[r, layer.bit] for layer in LAYERS]
                          for r in range(replications)])  # fmt: skip
        binding = np.array([[sum(outcomes[r].by_layer[s][i] for s in members)
                             for i in range(count)] for r in range(replications)])  # fmt: skip
        inter = {}
        for a, b in itertools.combinations(range(count), 2):
            both = (1 << a) | (1 << b)
            values = (base - idle[:, both]) - alone[:, a] - alone[:, b]
            inter[a, b] = values
            _, mean, _, low, high, _, _ = describe(values)
            pairs.append((label, LAYERS[a].name, LAYERS[b].name, mean, low, high))
        for r in range(replications):
            for i, layer in enumerate(LAYERS):
                each.append((label, r, layer.name, base[r], alone[r, i], phi[r, i]))
        winners = np.where(base > 0, phi.argmax(axis=1), -1)
        total = float(base.mean())
        for i, layer in enumerate(LAYERS):
            _, mean, _, low, high, _, _ = describe(phi[:, i])
            partner, strongest = _partner(inter, i, count, total)
            rows.append((
                label, layer.name, total, float(binding[:, i].mean()),
                _share(binding[:, i].mean(), total), float(alone[:, i].mean()),
                _share(alone[:, i].mean(), total), mean, _share(mean, total), low, high,
                float((winners == i).mean()), partner, strongest,
            ))  # fmt: skip
    table = pd.DataFrame(rows, columns=list(ATTRIBUTION_COLUMNS))
    per_replication = pd.DataFrame(each, columns=["site", "replication", "layer",
                                                  "base_idle_gpu_hours", "alone_saving",
                                                  "shapley"])  # fmt: skip
    return Attribution(table, pd.DataFrame(pairs, columns=list(INTERACTION_COLUMNS)), ran,
                       per_replication)  # fmt: skip


def _partner(inter: dict[tuple[int, int], np.ndarray], i: int, count: int,
             total: float) -> tuple[str, float]:  # fmt: skip
    """The layer whose relaxation together with ``i`` saves most beyond the two alone
    (none when no pair saves more than rounding: a billionth of the idle GPU-hours)."""
    best, value = "", 1e-9 * max(1.0, total)
    for j in range(count):
        if j != i:
            mean = float(inter[min(i, j), max(i, j)].mean())
            if mean > value:
                best, value = LAYERS[j].name, mean
    return best, value if best else 0.0


def _share(part: float, total: float) -> float:
    return float(part / total) if total > 0 else math.nan
