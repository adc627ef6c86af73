"""The what-ifs as plain functions that return DataFrames (``dcsim.compare`` and friends).

Each runs like its command and writes nothing unless ``out`` is given; then it
writes the same table (and run.json) the command does into that folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dcsim.input.overrides import override
from dcsim.input.spec import Scenario

if TYPE_CHECKING:
    from dcsim.experiments.runner import Plan


def _plan(workers: int | None, scheduler: str | None) -> Plan:
    """Where the tasks run: ``workers`` processes here, or the Dask cluster at ``scheduler``
    (``"local"``: one on this machine), as ``dcsim.run`` takes them. Unlike the command
    line, $DCSIM_SCHEDULER is not read: a script says where its work goes."""
    from dcsim.experiments.dask_runner import check_scheduler
    from dcsim.experiments.runner import Plan

    check_scheduler(scheduler)
    return Plan(workers=workers, scheduler=scheduler)


def _save(tables: Mapping[str, pd.DataFrame], out: str | Path | None, force: bool,
          spec: Scenario, replications: int) -> None:  # fmt: skip
    """Write ``tables`` ({file name: table}) and run.json into ``out``, as the command does."""
    if out is None:
        return
    from dcsim.output.export import write_csv, write_run_json
    from dcsim.output.folders import folder_lock, prepare_folder

    folder = Path(out)
    with folder_lock(folder):
        prepare_folder(folder, force)
        for name, table in tables.items():
            write_csv(table, folder / name)
        write_run_json(folder, {"scenario": spec.name, "replications": replications,
                                "seed": spec.seed, "horizon_days": spec.horizon_days})  # fmt: skip


def compare(base: Scenario, variants: Mapping[str, Scenario | Mapping[str, object]], *,
            years: float | None = None, replications: int = 10, seed: int | None = None,
            workers: int | None = None, scheduler: str | None = None,
            out: str | Path | None = None, force: bool = False) -> pd.DataFrame:  # fmt: skip
    """Variants against ``base`` with common random numbers; a variant is a Scenario or a
    mapping of dotted-key overrides of ``base``. Rows are ranked by saving (see compare.csv)."""
    from dcsim.experiments.compare import compare as run

    specs = {name: v if isinstance(v, Scenario) else override(base, v, source=f"variant {name}")
             for name, v in variants.items()}  # fmt: skip
    table = run(base, specs, years=years, replications=replications, seed=seed,
                workers=workers, plan=_plan(workers, scheduler)).table  # fmt: skip
    _save({"compare.csv": table}, out, force, base, replications)
    return table


def cascade(scenario: Scenario, *, sites: Sequence[str] | None = None,
            years: float | None = None, replications: int = 10, seed: int | None = None,
            workers: int | None = None, scheduler: str | None = None,
            out: str | Path | None = None, force: bool = False) -> pd.DataFrame:  # fmt: skip
    """The bottleneck cascade: one row per step (see cascade.csv)."""
    from dcsim.experiments.cascade import cascade as run

    table = run(scenario, sites=list(sites) if sites else None, years=years,
                replications=replications, seed=seed, workers=workers,
                plan=_plan(workers, scheduler)).table  # fmt: skip
    _save({"cascade.csv": table}, out, force, scenario, replications)
    return table


def sweep(scenario: Scenario, grid: Mapping[str, Sequence[object]], *,
          years: float | None = None, replications: int = 10, seed: int | None = None,
          workers: int | None = None, scheduler: str | None = None,
          out: str | Path | None = None, force: bool = False) -> pd.DataFrame:  # fmt: skip
    """Every combination of the grid's values: summary rows per point (see sweep.csv)."""
    from dcsim.experiments.sweep import sweep as run

    table = run(scenario, {k: list(v) for k, v in grid.items()}, years=years,
                replications=replications, seed=seed, workers=workers,
                plan=_plan(workers, scheduler))  # fmt: skip
    _save({"sweep.csv": table}, out, force, scenario, replications)
    return table


def attribute(scenario: Scenario, *, sites: Sequence[str] | None = None,
              years: float | None = None, replications: int = 10, seed: int | None = None,
              workers: int | None = None, scheduler: str | None = None,
              out: str | Path | None = None, force: bool = False) -> pd.DataFrame:  # fmt: skip
    """Binding share, saving alone, Shapley value and criticality per site and layer
    (see attribution.csv; the pairwise interactions are in the ``interactions`` attribute
    of :func:`dcsim.experiments.attribute.attribute`'s result)."""
    from dcsim.experiments.attribute import attribute as run

    result = run(scenario, sites=sites, years=years, replications=replications, seed=seed,
                 workers=workers, plan=_plan(workers, scheduler))  # fmt: skip
    tables = {"attribution.csv": result.table, "interactions.csv": result.interactions}
    _save(tables, out, force, scenario, replications)
    return result.table
