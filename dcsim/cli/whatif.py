"""The what-if commands: compare, sweep and cascade (thin layers over the Python API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dcsim.cli.common import parse_sets, run_options, write_csv
from dcsim.errors import DcsimError
from dcsim.input.load import load
from dcsim.input.overrides import with_run_settings
from dcsim.output.export import prepare_folder

_Variant = tuple[str, list[str], Path | None]


def _parse_variants(tokens: tuple[str, ...]) -> tuple[Path, list[_Variant]]:
    """FILE --variant NAME [--set K=V ...] | --variant NAME=FILE ... into (file, variants)."""
    items = list(tokens)
    if not items or items[0].startswith("-"):
        raise DcsimError(
            "dcsim compare: give the base FILE first, then --variant NAME"
            " --set KEY=VALUE ... (or --variant NAME=OTHER_FILE)."
        )
    base = Path(items.pop(0))
    variants: list[_Variant] = []
    while items:
        flag = items.pop(0)
        if flag in ("--variant", "--set") and not items:
            raise DcsimError(f"dcsim compare: {flag} needs a value.")
        if flag == "--variant":
            name, _, path = items.pop(0).partition("=")
            if not name or any(name == v[0] for v in variants):
                raise DcsimError(f"dcsim compare: variant name {name!r} is empty or repeated.")
            variants.append((name, [], Path(path) if path else None))
        elif flag == "--set":
            if not variants:
                raise DcsimError("dcsim compare: --set must follow a --variant NAME.")
            variants[-1][1].append(items.pop(0))
        else:
            raise DcsimError(f"dcsim compare: unexpected {flag!r}; expected --variant or --set.")
    if not variants:
        raise DcsimError("dcsim compare: name at least one --variant.")
    return base, variants


@click.command(context_settings={"ignore_unknown_options": True})
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
    out: Path,
    report: bool,
) -> None:
    """Compare variants of FILE against it with common random numbers.

    \b
    dcsim compare sites/ashburn.toml \\
        --variant early --set sites.ashburn.substation.order_policy=at_request \\
        --variant headroom --set "regions.dominion.headroom=3000 MW" ...
    A variant may also be a whole file: --variant abilene=sites/abilene.toml.
    """
    from dcsim.experiments.compare import compare as run_compare
    from dcsim.input.overrides import override

    base_file, parsed = _parse_variants(tokens)
    base = load(base_file)
    variants = {}
    for name, sets, path in parsed:
        spec = load(path) if path is not None else base
        variants[name] = override(spec, parse_sets(tuple(sets)), source=f"--variant {name}")
    with_run_settings(base, years=years, seed=seed)  # refused now, not after the base run
    prepare_folder(out, force)
    result = run_compare(
        base,
        variants,
        years=years,
        replications=reps,
        seed=seed,
        workers=workers,
        on_run=None if quiet else lambda n: click.echo(f"running {n} ...", err=True),
    )
    write_csv(result.table, out / "compare.csv")
    from dcsim.output.report import build_report

    build_report(out, force=True, page=report)
    if not quiet:
        click.echo(_compare_text(result.table))
        click.echo(f"wrote {out / 'compare.csv'}")


def _compare_text(table: Any) -> str:
    from dcsim.output.tables import big

    lines = [
        f"{'variant':12s} {'site':12s} {'metric':22s} {'n':>4s} {'base':>10s}"
        f" {'variant':>10s} {'difference (95% CI)':>30s}"
    ]
    shown = table[
        table["metric"].isin(
            ["idle_gpu_hours", "idle_cost_usd", "first_power_days", "all_running_days"]
        )
    ]
    for _, row in shown.iterrows():
        mark = "*" if row["distinguishable"] else " "
        lines.append(
            f"{row['variant']:12s} {row['site']:12s} {row['metric']:22s}"
            f" {row['n']:>4d} {big(row['base_mean']):>10s} {big(row['variant_mean']):>10s}"
            f" {big(row['diff_mean']):>9s} [{big(row['diff_ci95_low'])},"
            f" {big(row['diff_ci95_high'])}] {mark}"
        )
    lines.append(
        "* = distinguishable from zero (the 95% interval excludes it); n = replication"
        " pairs where both runs reached the value (dates never reached are left out)"
    )
    return "\n".join(lines)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A key and the values to sweep (repeatable: the full factorial is run).",
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
    out: Path,
    report: bool,
) -> None:
    """Run FILE at every combination of the --grid values; write sweep.csv and charts."""
    from dcsim.experiments.sweep import sweep as run_sweep
    from dcsim.output.report import build_report

    grid: dict[str, list[object]] = {}
    for item in grids:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise DcsimError(
                f"--grid {item!r}: expected KEY=V1,V2,..., for example"
                " sites.abilene.onsite.blocks=2,4,6."
            )
        # A key given twice adds its values to the first list.
        grid.setdefault(key.strip(), []).extend(
            value for _, value in parse_sets(tuple(f"{key}={v.strip()}" for v in values.split(",")))
        )
    spec = load(file)
    with_run_settings(spec, years=years, seed=seed)
    prepare_folder(out, force)
    table = run_sweep(
        spec,
        grid,
        years=years,
        replications=reps,
        seed=seed,
        workers=workers,
        on_point=None if quiet else lambda i, n: click.echo(f"point {i + 1} of {n} ...", err=True),
    )
    write_csv(table, out / "sweep.csv")
    build_report(out, force=True, page=report)
    if not quiet:
        keys = list(grid)
        means = table.groupby([*keys, "site"], sort=False)["idle_gpu_hours"].mean() / 1e6
        click.echo("mean idle GPU-hours (millions)")
        click.echo(means.round(2).to_string())
        click.echo(f"wrote {out / 'sweep.csv'}")


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
    out: Path,
    report: bool,
) -> None:
    """Remove the binding layer, see what binds next, repeat: the bottleneck cascade."""
    from dcsim.experiments.cascade import cascade as run_cascade
    from dcsim.output.report import build_report
    from dcsim.output.tables import big

    spec = load(file)
    with_run_settings(spec, years=years, seed=seed)
    prepare_folder(out, force)
    result = run_cascade(
        spec,
        sites=list(sites) or None,
        years=years,
        replications=reps,
        seed=seed,
        workers=workers,
        on_step=None
        if quiet
        else lambda step, relaxed: click.echo(
            f"step {step}: removed {', '.join(sorted(map(str, relaxed))) or 'nothing'} ...",
            err=True,
        ),
    )
    write_csv(result.table, out / "cascade.csv")
    build_report(out, force=True, page=report)
    if not quiet:
        click.echo(
            f"{'step':>4s}  {'layer removed':14s} {'idle GPU-hours (95% CI)':>28s}"
            f" {'idle cost':>10s}  binds most now"
        )
        for _, row in result.table.iterrows():
            interval = (
                f"{big(row['idle_gpu_hours_mean'])}"
                f" [{big(row['idle_gpu_hours_ci95_low'])},"
                f" {big(row['idle_gpu_hours_ci95_high'])}]"
            )
            binds = (
                f"{row['binds_next']} ({row['binds_next_share']:.0%})"
                if row["binds_next"] != "-"
                else "- (nothing left idle)"
            )
            cost = "$" + big(row["idle_cost_usd_mean"])
            click.echo(
                f"{row['step']:>4d}  {row['layer_removed']:14s} {interval:>28s}"
                f" {cost:>10s}  {binds}"
            )
        click.echo(f"wrote {out / 'cascade.csv'}")
