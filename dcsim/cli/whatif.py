"""The what-if commands: compare, sweep and cascade (thin layers over the Python API).

Each refuses bad settings before it makes a folder, holds its --out folder while
it runs, and writes its table, a run.json saying how it was made, and charts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dcsim.cli.common import Progress, checkpointed, finish_report, parse_sets, run_options
from dcsim.cli.variants import VARIANT_HELP as _VARIANT_HELP
from dcsim.cli.variants import parse_variants as _parse_variants
from dcsim.cli.variants import variant_record
from dcsim.errors import DcsimError
from dcsim.input.load import load
from dcsim.input.overrides import with_run_settings
from dcsim.output.checkpoint import Checkpoint, resume_record
from dcsim.output.export import write_csv


def _write(out: Path, name: str, table: Any, report: bool, context: dict[str, Any]) -> None:
    """The what-if's table, run.json with its context, its charts (and report.html)."""
    from dcsim.output.export import write_run_json
    from dcsim.output.report import build_report

    write_csv(table, out / name)
    write_run_json(out, {k: v for k, v in context.items() if k != "identity"}
                   | resume_record(context["identity"]))  # fmt: skip
    build_report(out, force=True, page=report)


def _plan(checkpoint: Checkpoint, workers: int | None, scheduler: str | None,
          tick: Any) -> Any:  # fmt: skip
    """Where the tasks run, with what the checkpoint kept of an interrupted run."""
    from dcsim.experiments.runner import Plan

    return Plan(workers=workers, scheduler=scheduler,
                known=checkpoint.known, on_result=checkpoint.save, progress=tick)  # fmt: skip


def _engine(scheduler: str | None) -> str | None:
    """--scheduler, or $DCSIM_SCHEDULER; refused before the folder is touched if it cannot work."""
    from dcsim.experiments.dask_runner import check_scheduler
    from dcsim.experiments.tasks import scheduler_from_environment

    scheduler = scheduler_from_environment(scheduler)
    check_scheduler(scheduler)
    return scheduler


def _run_and_write(
    out: Path,
    name: str,
    context: dict[str, Any],
    total: int,
    run: Callable[[Any], Any],
    table_of: Callable[[Any], Any],
    *,
    resume: bool,
    force: bool,
    quiet: bool,
    workers: int | None,
    scheduler: str | None,
    report: bool,
) -> Any:
    """Run a what-if's ``total`` tasks (``run(plan)``) with a progress bar, keeping each for
    --resume, and write its table; None if the run in ``out`` had already finished."""
    scheduler = _engine(scheduler)
    with checkpointed(out, context["identity"], resume=resume, force=force,
                      total=total) as checkpoint:  # fmt: skip
        if checkpoint.already_complete:
            finish_report(out, report, charts=True)
            return None
        with Progress(total, quiet) as tick:
            result = run(_plan(checkpoint, workers, scheduler, tick))
        _write(out, name, table_of(result), report, context)
    return result


def _warn_if_few(reps: int) -> None:
    from dcsim.output.numbers import few_replications_note

    if note := few_replications_note(reps):
        click.echo(note)


def _wrote(out: Path) -> str:
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    return f"wrote {', '.join(names)} to {out}/"


def _context(
    command: str,
    specs: list[Any],
    reps: int,
    years: float | None,
    seed: int | None,
    **what: object,
) -> dict[str, Any]:
    """run.json's account of a what-if; ``identity`` (what --resume must find the same)
    adds the resolved specs to it."""
    from dcsim.input.dump import to_document

    settled = with_run_settings(specs[0], years=years, seed=seed)
    context = {
        "scenario": settled.name,
        "source_file": settled.source_file,
        "replications": reps,
        "seed": settled.seed,
        "horizon_days": settled.horizon_days,
        **what,
    }
    from dcsim.output.export import version

    documents = [to_document(with_run_settings(spec, years=settled.horizon_days / 365.25,
                                               seed=settled.seed)) for spec in specs]  # fmt: skip
    identity = {"command": command, "dcsim_version": version(), **context, "specs": documents}
    return {**context, "identity": identity}


@click.command(context_settings={"ignore_unknown_options": True}, epilog=_VARIANT_HELP)
@click.argument(
    "tokens",
    nargs=-1,
    type=click.UNPROCESSED,
    metavar="FILE --variant NAME [--set KEY=VALUE ...] ...",
)
@run_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("dcsim-compare"),
    show_default=True,
    help="Folder for compare.csv (and report.html with --report).",
)
@click.option(
    "--report", is_flag=True, help="Also write report.html (the chart is always written)."
)
def compare(
    tokens: tuple[str, ...],
    years: float | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    quiet: bool,
    force: bool,
    resume: bool,
    scheduler: str | None,
    out: Path,
    report: bool,
) -> None:
    """Compare variants of FILE against it with common random numbers.

    \b
    dcsim compare sites/ashburn.toml \\
        --variant early --set sites.ashburn.substation.order_policy=at_request \\
        --variant headroom --set "regions.dominion.headroom=3000 MW" ...
    """
    from dcsim.experiments.compare import compare as run_compare
    from dcsim.input.overrides import override
    from dcsim.output.tables import compare_text

    base_file, parsed = _parse_variants(tokens)
    base = load(base_file)
    variants = {}
    for name, sets, path in parsed:
        spec = load(path) if path is not None else base
        variants[name] = override(spec, parse_sets(tuple(sets)), source=f"--variant {name}")
    context = _context(
        "compare",
        [base, *variants.values()],
        reps,
        years,
        seed,
        variants={name: variant_record(sets, path) for name, sets, path in parsed},
    )
    result = _run_and_write(
        out, "compare.csv", context, reps * (1 + len(variants)),
        lambda plan: run_compare(base, variants, years=years, replications=reps, seed=seed,
                                 workers=workers, plan=plan),
        lambda done: done.table, resume=resume, force=force, quiet=quiet, workers=workers,
        scheduler=scheduler, report=report,
    )  # fmt: skip
    if result is None:
        return
    click.echo(compare_text(result.table))
    _warn_if_few(reps)
    if not quiet:
        click.echo(_wrote(out))


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A dotted key and the values to sweep, quoted when they have units, e.g."
    " --grid 'regions.dominion.headroom=300 MW,600 MW' or"
    " --grid transformer_supplies.north_america.output_scale=1,1.5,2 (repeatable: every"
    " combination is run).",
)
@run_options
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("dcsim-sweep"), show_default=True
)
@click.option(
    "--report", is_flag=True, help="Also write report.html (the charts are always written)."
)
def sweep(
    file: Path,
    grids: tuple[str, ...],
    years: float | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    quiet: bool,
    force: bool,
    resume: bool,
    scheduler: str | None,
    out: Path,
    report: bool,
) -> None:
    """Run FILE at every combination of the --grid values.

    Prints each point's mean idle GPU-hours and idle cost per site with 95% intervals;
    writes sweep.csv (a row per point, site and replication), sweep.png and run.json.
    """
    from dcsim.experiments.sweep import sweep as run_sweep
    from dcsim.output.tables import sweep_text

    grid: dict[str, list[object]] = {}
    for item in grids:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise DcsimError(
                f"--grid {item!r}: expected KEY=V1,V2,..., for example"
                " transformer_supplies.north_america.output_scale=1,1.5,2."
            )
        # A key given twice adds its values to the first list.
        grid.setdefault(key.strip(), []).extend(
            value for _, value in parse_sets(tuple(f"{key}={v.strip()}" for v in values.split(",")))
        )
    spec = load(file)
    context = _context(
        "sweep", [spec], reps, years, seed,
        grid={k: [str(v) for v in vs] for k, vs in grid.items()},
    )  # fmt: skip
    table = _run_and_write(
        out, "sweep.csv", context, reps * math.prod(len(values) for values in grid.values()),
        lambda plan: run_sweep(spec, grid, years=years, replications=reps, seed=seed,
                               workers=workers, plan=plan),
        lambda done: done, resume=resume, force=force, quiet=quiet, workers=workers,
        scheduler=scheduler, report=report,
    )  # fmt: skip
    if table is None:
        return
    click.echo(sweep_text(table, list(grid)))
    _warn_if_few(reps)
    if not quiet:
        click.echo(_wrote(out))


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--site", "sites", multiple=True, help="Only count these sites (repeatable).")
@run_options
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("dcsim-cascade"), show_default=True
)
@click.option(
    "--report", is_flag=True, help="Also write report.html (the chart is always written)."
)
def cascade(
    file: Path,
    sites: tuple[str, ...],
    years: float | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    quiet: bool,
    force: bool,
    resume: bool,
    scheduler: str | None,
    out: Path,
    report: bool,
) -> None:
    """Remove the binding layer, see what binds next, repeat: the bottleneck cascade.

    Writes cascade.csv (a row per step), cascade.png and run.json.
    """
    from dcsim.experiments.cascade import cascade as run_cascade
    from dcsim.model.layers import LAYERS
    from dcsim.output.tables import cascade_text

    spec = load(file)
    context = _context("cascade", [spec], reps, years, seed, sites=list(sites))
    total = reps * (len(LAYERS) + 1)  # at most: the cascade may stop sooner
    scheduler = _engine(scheduler)
    with checkpointed(out, context["identity"], resume=resume, force=force,
                      total=total) as checkpoint:  # fmt: skip
        if checkpoint.already_complete:
            finish_report(out, report, charts=True)
            return
        result = run_cascade(
            spec,
            sites=list(sites) or None,
            years=years,
            replications=reps,
            seed=seed,
            workers=workers,
            plan=_plan(checkpoint, workers, scheduler, None),
            on_step=None
            if quiet
            else lambda step, removed: click.echo(
                f"step {step}: removed {' → '.join(removed) or 'nothing'} ...",
                err=True,
            ),
        )
        _write(out, "cascade.csv", result.table, report, context)
    click.echo(cascade_text(result.table))
    _warn_if_few(reps)
    if not quiet:
        click.echo(_wrote(out))


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--site", "sites", multiple=True, help="Only these sites (repeatable).")
@run_options
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("dcsim-attribute"), show_default=True
)
@click.option(
    "--report", is_flag=True, help="Also write report.html (the chart is always written)."
)
def attribute(
    file: Path,
    sites: tuple[str, ...],
    years: float | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    quiet: bool,
    force: bool,
    resume: bool,
    scheduler: str | None,
    out: Path,
    report: bool,
) -> None:
    """Which layer holds the GPUs: binding share, saving alone, Shapley value, criticality.

    Writes attribution.csv (a row per site and layer), interactions.csv (pairs of
    layers), attribution.png and run.json.
    """
    from dcsim.experiments.attribute import attribute as run_attribute
    from dcsim.output.export import write_run_json
    from dcsim.output.report import build_report
    from dcsim.output.tables import attribution_text

    spec = load(file)
    context = _context("attribute", [spec], reps, years, seed, sites=list(sites))
    scheduler = _engine(scheduler)
    with checkpointed(out, context["identity"], resume=resume, force=force,
                      total=reps) as checkpoint:  # fmt: skip
        if checkpoint.already_complete:
            finish_report(out, report, charts=True)
            return

        def progress(done: int, total: int) -> None:
            if not quiet:
                text = f"replication {done} of {total}: every subset of layers relaxed ..."
                click.echo(text, err=True)

        plan = _plan(checkpoint, workers, scheduler, None)
        result = run_attribute(spec, years=years, replications=reps, seed=seed,
                               workers=workers, sites=list(sites) or None, progress=progress,
                               plan=plan)  # fmt: skip
        write_csv(result.table, out / "attribution.csv")
        write_csv(result.interactions, out / "interactions.csv")
        record = {k: v for k, v in context.items() if k != "identity"}
        write_run_json(out, {**record, "site_results_computed": result.runs,
                             **resume_record(context["identity"])})  # fmt: skip
        build_report(out, force=True, page=report)
    click.echo(attribution_text(result.table, reps))
    if not quiet:
        click.echo(_wrote(out))
