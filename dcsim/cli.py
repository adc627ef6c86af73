"""The ``dcsim`` command: a thin layer over the Python API, no model logic here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dcsim.atomic import atomic_write
from dcsim.describe import describe
from dcsim.dump import to_toml
from dcsim.errors import DcsimError
from dcsim.export import ExportInterrupted, prepare_folder
from dcsim.loader import load


def _overrides(values: tuple[str, ...]) -> list[tuple[str, object]]:
    """--set KEY=VALUE pairs; values are TOML values, or plain strings if they are not."""
    import tomllib

    pairs: list[tuple[str, object]] = []
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise DcsimError(f"--set {item!r}: expected KEY=VALUE, for example"
                             " sites.ashburn.onsite.blocks=4 or"
                             " regions.dominion.headroom='3000 MW'.")
        try:
            value: object = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        pairs.append((key.strip(), value))
    return pairs


class _Group(click.Group):
    """Turns every DcsimError into one paragraph on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DcsimError as exc:
            click.echo(f"dcsim: error: {exc}", err=True)
            sys.exit(2)
        except ExportInterrupted as exc:
            kept = ", ".join(p.name for p in exc.kept) or "nothing"
            click.echo(f"dcsim: interrupted while writing; kept whole files: {kept};"
                       " no partial file was left behind.", err=True)
            sys.exit(130)
        except KeyboardInterrupt:
            click.echo("dcsim: interrupted; no output was written.", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dcsim")
def main() -> None:
    """Discrete-event simulation of AI data-center build-outs."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dump", is_flag=True,
              help="Print the fully resolved spec (defaults, catalog and overrides applied)"
                   " as TOML that dcsim check accepts again.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="With --dump, write to this file instead of standard output.")
@click.option("--force", is_flag=True, help="With --output, replace an existing file.")
def check(files: tuple[Path, ...], dump: bool, output: Path | None, force: bool) -> None:
    """Validate site and scenario FILES and say what each describes, in canonical units."""
    if dump and len(files) != 1:
        raise DcsimError("--dump takes exactly one file (it writes one scenario).")
    if output is not None and not dump:
        raise DcsimError("--output goes with --dump.")
    for path in files:
        scenario = load(path)
        if dump:
            text = to_toml(scenario)
            if output is None:
                click.echo(text, nl=False)
            else:
                with atomic_write(output, force=force) as handle:
                    handle.write(text)
                click.echo(f"wrote {output}", err=True)
        else:
            click.echo(f"{path}: ok")
            click.echo(describe(scenario))


@main.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--years", type=float, help="Horizon in years from the start date"
              " (default: the file's horizon).")
@click.option("--reps", type=int, default=10, show_default=True, help="Replications.")
@click.option("--seed", type=int, help="Root seed (default: the file's seed).")
@click.option("--workers", type=int, help="Worker processes (default: every core).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("dcsim-out"),
              show_default=True, help="Folder for the results.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)
@click.option("--no-background", is_flag=True,
              help="Leave background queue traffic out of the event export.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override one dotted key, e.g. sites.ashburn.onsite.blocks=4 (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar and no table.")
@click.option("--force", is_flag=True, help="Write into a folder that already holds files.")
@click.option("--report", is_flag=True, help="Also write report.html and PNG charts.")
def run_command(file: Path, years: float | None, reps: int, seed: int | None,
                workers: int | None, out: Path, fmt: str, no_background: bool,
                sets: tuple[str, ...], quiet: bool, force: bool, report: bool) -> None:
    """Run replications of a site or scenario FILE and write its tables to --out."""
    import time

    from dcsim.export import write_tables
    from dcsim.runner import default_workers, run
    from dcsim.table import site_table

    started = time.perf_counter()
    scenario = load(file, _overrides(sets))
    # Refuse before spending time on the run.
    prepare_folder(out, force)
    if fmt == "parquet":
        from dcsim.export import require_parquet

        require_parquet()
    with _progress(reps, quiet) as tick:
        result = run(scenario, years=years, replications=reps, seed=seed, workers=workers,
                     progress=tick)
    simulated = time.perf_counter() - started
    written = write_tables(result, out, fmt, force=True, include_background=not no_background,
                           run_info={"command_line": sys.argv,
                                     "simulation_time_s": round(simulated, 3),
                                     "workers": workers or default_workers(),
                                     "overrides": list(sets)})
    wall = time.perf_counter() - started
    if report:
        from dcsim.report import build_report

        written.append(build_report(out, force=True))
    if not quiet:
        click.echo(site_table(result))
        click.echo(f"wrote {', '.join(p.name for p in written)} to {out}/ in {wall:.1f} s"
                   f" ({simulated:.1f} s simulating: {reps / simulated:.1f} replications/s;"
                   f" the rest writing)")


class _progress:
    """A tqdm bar on stderr when it is a terminal, and a Ctrl-C that is never lost.

    Python ignores a KeyboardInterrupt raised while the garbage collector closes
    a suspended SimPy process; the handler below also records the signal, and
    every finished replication checks it, so the run stops all the same.
    """

    def __init__(self, total: int, quiet: bool) -> None:
        self.bar: Any = None
        self.interrupted = False
        self._previous: Any = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="rep", file=sys.stderr, leave=False)

    def _on_sigint(self, signum: int, frame: object) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def __enter__(self) -> Any:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        self._hook = sys.unraisablehook

        def quiet_interrupts(info: Any) -> None:
            # The swallowed interrupt is handled by tick(); don't print it as a traceback.
            if not isinstance(info.exc_value, KeyboardInterrupt):
                self._hook(info)

        sys.unraisablehook = quiet_interrupts

        def tick(done: int) -> None:
            if self.interrupted:
                raise KeyboardInterrupt
            if self.bar is not None:
                self.bar.update(done - self.bar.n)
        return tick

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        sys.unraisablehook = self._hook
        if self.bar is not None:
            self.bar.close()


def _common_run_options(func: Any) -> Any:
    for option in reversed([
        click.option("--years", type=float, help="Horizon in years (default: the file's)."),
        click.option("--reps", type=int, default=10, show_default=True,
                     help="Replications (the same draws for every run: common random numbers)."),
        click.option("--seed", type=int, help="Root seed (default: the file's)."),
        click.option("--workers", type=int, help="Worker processes (default: every core)."),
        click.option("--quiet", is_flag=True, help="Print nothing but errors."),
        click.option("--force", is_flag=True, help="Write into a folder that holds files."),
    ]):
        func = option(func)
    return func


_Variant = tuple[str, list[str], Path | None]


def _parse_variants(tokens: tuple[str, ...]) -> tuple[Path, list[_Variant]]:
    """FILE --variant NAME [--set K=V ...] | --variant NAME=FILE ... into (file, variants)."""
    items = list(tokens)
    if not items or items[0].startswith("-"):
        raise DcsimError("dcsim compare: give the base FILE first, then --variant NAME"
                         " --set KEY=VALUE ... (or --variant NAME=OTHER_FILE).")
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


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("tokens", nargs=-1, type=click.UNPROCESSED, metavar="FILE --variant NAME"
                " [--set KEY=VALUE ...] ...")
@_common_run_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("dcsim-compare"),
              show_default=True, help="Folder for compare.csv (and report.html with --report).")
@click.option("--report", is_flag=True, help="Also write report.html (the chart is always"
              " written).")
def compare(tokens: tuple[str, ...], years: float | None, reps: int, seed: int | None,
            workers: int | None, quiet: bool, force: bool, out: Path, report: bool) -> None:
    """Compare variants of FILE against it with common random numbers.

    \b
    dcsim compare sites/ashburn.toml \\
        --variant early --set sites.ashburn.substation.order_policy=at_request \\
        --variant turbines --set "sites.ashburn.onsite.block=50 MW" ...
    A variant may also be a whole file: --variant abilene=sites/abilene.toml.
    """
    from dcsim.compare import compare as run_compare
    from dcsim.variants import override

    base_file, parsed = _parse_variants(tokens)
    base = load(base_file)
    variants = {}
    for name, sets, path in parsed:
        spec = load(path) if path is not None else base
        variants[name] = override(spec, _overrides(tuple(sets)), source=f"--variant {name}")
    prepare_folder(out, force)
    result = run_compare(base, variants, years=years, replications=reps, seed=seed,
                         workers=workers,
                         on_run=None if quiet else lambda n: click.echo(f"running {n} ...",
                                                                        err=True))
    _write_csv(result.table, out / "compare.csv")
    from dcsim.report import build_report

    build_report(out, force=True, page=report)
    if not quiet:
        click.echo(_compare_text(result.table))
        click.echo(f"wrote {out / 'compare.csv'}")


def _write_csv(frame: Any, path: Path) -> None:
    with atomic_write(path, force=True) as handle:
        frame.to_csv(handle, index=False, lineterminator="\n")


def _compare_text(table: Any) -> str:
    from dcsim.table import big

    lines = [f"{'variant':12s} {'site':12s} {'metric':22s} {'n':>4s} {'base':>10s}"
             f" {'variant':>10s} {'difference (95% CI)':>30s}"]
    shown = table[table["metric"].isin(["idle_gpu_hours", "idle_cost_usd", "first_power_days",
                                        "all_running_days"])]
    for _, row in shown.iterrows():
        mark = "*" if row["distinguishable"] else " "
        lines.append(f"{row['variant']:12s} {row['site']:12s} {row['metric']:22s}"
                     f" {row['n']:>4d} {big(row['base_mean']):>10s} {big(row['variant_mean']):>10s}"
                     f" {big(row['diff_mean']):>9s} [{big(row['diff_ci95_low'])},"
                     f" {big(row['diff_ci95_high'])}] {mark}")
    lines.append("* = distinguishable from zero (the 95% interval excludes it); n = replication"
                 " pairs where both runs reached the value (dates never reached are left out)")
    return "\n".join(lines)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--grid", "grids", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A key and the values to sweep (repeatable: the full factorial is run).")
@_common_run_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("dcsim-sweep"),
              show_default=True)
@click.option("--report", is_flag=True, help="Also write report.html (the charts are"
              " always written).")
def sweep(file: Path, grids: tuple[str, ...], years: float | None, reps: int,
          seed: int | None, workers: int | None, quiet: bool, force: bool, out: Path,
          report: bool) -> None:
    """Run FILE at every combination of the --grid values; write sweep.csv and charts."""
    from dcsim.report import build_report
    from dcsim.sweep import sweep as run_sweep

    grid: dict[str, list[object]] = {}
    for item in grids:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise DcsimError(f"--grid {item!r}: expected KEY=V1,V2,..., for example"
                             " sites.abilene.onsite.blocks=2,4,6.")
        grid[key.strip()] = [value for _, value in _overrides(
            tuple(f"{key}={v.strip()}" for v in values.split(",")))]
    spec = load(file)
    prepare_folder(out, force)
    table = run_sweep(spec, grid, years=years, replications=reps, seed=seed,
                      workers=workers,
                      on_point=None if quiet else lambda i, n: click.echo(
                          f"point {i + 1} of {n} ...", err=True))
    _write_csv(table, out / "sweep.csv")
    build_report(out, force=True, page=report)
    if not quiet:
        keys = list(grid)
        means = table.groupby([*keys, "site"], sort=False)["idle_gpu_hours"].mean() / 1e6
        click.echo("mean idle GPU-hours (millions)")
        click.echo(means.round(2).to_string())
        click.echo(f"wrote {out / 'sweep.csv'}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--site", "sites", multiple=True, help="Only count these sites (repeatable).")
@_common_run_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("dcsim-cascade"),
              show_default=True)
@click.option("--report", is_flag=True, help="Also write report.html (the chart is always"
              " written).")
def cascade(file: Path, sites: tuple[str, ...], years: float | None, reps: int,
            seed: int | None, workers: int | None, quiet: bool, force: bool, out: Path,
            report: bool) -> None:
    """Remove the binding layer, see what binds next, repeat: the bottleneck cascade."""
    from dcsim.cascade import cascade as run_cascade
    from dcsim.report import build_report
    from dcsim.table import big

    spec = load(file)
    prepare_folder(out, force)
    result = run_cascade(spec, sites=list(sites) or None, years=years,
                         replications=reps, seed=seed, workers=workers,
                         on_step=None if quiet else lambda step, relaxed: click.echo(
                             f"step {step}: removed {', '.join(sorted(relaxed)) or 'nothing'}"
                             " ...", err=True))
    _write_csv(result.table, out / "cascade.csv")
    build_report(out, force=True, page=report)
    if not quiet:
        click.echo(f"{'step':>4s}  {'layer removed':14s} {'idle GPU-hours (95% CI)':>30s}"
                   "  binds next")
        for _, row in result.table.iterrows():
            click.echo(f"{row['step']:>4d}  {row['layer_removed']:14s}"
                       f" {big(row['idle_gpu_hours_mean']):>10s}"
                       f" [{big(row['idle_gpu_hours_ci95_low'])},"
                       f" {big(row['idle_gpu_hours_ci95_high'])}]"
                       f"{'':>6s}  {row['binds_next']} ({row['binds_next_share']:.0%})")
        click.echo(f"wrote {out / 'cascade.csv'}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing report.html.")
def report(folder: Path, force: bool) -> None:
    """Write report.html and PNG charts for the results in FOLDER."""
    from dcsim.report import build_report

    click.echo(f"wrote {build_report(folder, force=force)}")
