"""The ``dcsim`` command: a thin layer over the Python API, no model logic here."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from dcsim.cli.common import (
    FORCE_HELP,
    Progress,
    checkpointed,
    engine_options,
    finish_report,
    parse_sets,
)
from dcsim.errors import DcsimError
from dcsim.input.describe import describe
from dcsim.input.dump import to_toml
from dcsim.input.feasibility import site_warnings
from dcsim.input.load import load
from dcsim.input.overrides import with_run_settings
from dcsim.output.atomic import atomic_write
from dcsim.output.checkpoint import RunInterrupted
from dcsim.output.export import ExportInterrupted


class _Group(click.Group):
    """Turns every DcsimError into one paragraph on stderr and exit status 2.

    SIGTERM is handled as Ctrl-C: the run stops, workers are ended, and only
    whole files are left (exit 130).
    """

    def invoke(self, ctx: click.Context) -> Any:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if "unexpected extra argument" in exc.format_message() and "--set" in sys.argv:
                exc.message += '. A --set value with a space must be quoted: --set "KEY=300 MW".'
            raise
        except DcsimError as exc:
            click.echo(f"dcsim: error: {exc}", err=True)
            sys.exit(2)
        except RunInterrupted as exc:
            click.echo(
                f"dcsim: interrupted; {exc.finished} of {exc.total} {exc.unit} finished and kept in"
                f" {exc.folder}/. Run the same command with --resume to go on from there.",
                err=True,
            )
            sys.exit(130)
        except ExportInterrupted as exc:
            kept = ", ".join(p.name for p in exc.kept) or "nothing"
            click.echo(
                f"dcsim: interrupted while writing; kept whole files: {kept};"
                " no partial file was left behind.",
                err=True,
            )
            sys.exit(130)
        except KeyboardInterrupt:
            click.echo("dcsim: interrupted; no output was written.", err=True)
            sys.exit(130)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dcsim")
def main() -> None:
    """Discrete-event simulation of AI data-center build-outs."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--dump",
    is_flag=True,
    help="Print the fully resolved spec (defaults, catalog and overrides applied)"
    " as TOML that dcsim check accepts again.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="With --dump, write to this file instead of standard output.",
)
@click.option("--force", is_flag=True, help="With --output, replace an existing file.")
@click.option(
    "--strict",
    is_flag=True,
    help="Treat warnings about sites that cannot work (GPUs that can never run) as errors.",
)
def check(
    files: tuple[Path, ...], dump: bool, output: Path | None, force: bool, strict: bool
) -> None:
    """Validate site and scenario FILES and say what each describes, in canonical units.

    Also warns about sites that load but cannot work as written: more GPU power than the
    halls hold, a cooling no hall gets, lots arriving after the horizon, a grid request or
    substation smaller than the site's peak demand (exit 0; with --strict, exit 2).
    """
    if dump and len(files) != 1:
        raise DcsimError("--dump takes exactly one file (it writes one scenario).")
    if output is not None and not dump:
        raise DcsimError("--output goes with --dump.")
    for path in files:
        scenario = load(path)
        warnings = site_warnings(scenario)
        if warnings and strict:
            raise DcsimError(f"{path}: " + "; ".join(warnings) + " (--strict makes these errors)")
        for warning in warnings:
            click.echo(f"dcsim: warning: {path}: {warning}", err=True)
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
@click.option(
    "--years",
    type=float,
    help="Horizon in years from the start date (default: the file's horizon).",
)
@click.option("--reps", type=int, default=10, show_default=True, help="Replications.")
@click.option("--seed", type=int, help="Root seed (default: the file's seed).")
@click.option("--workers", type=int, help="Worker processes (default: every core).")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("dcsim-out"),
    show_default=True,
    help="Folder for the results.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="The tables' file format: CSV text, or Parquet (typed columns, smaller files).",
)
@click.option(
    "--no-background",
    is_flag=True,
    help="Leave background queue traffic out (events_background.csv keeps only its header).",
)
@click.option(
    "--events-format",
    type=click.Choice(["dcsim", "pm4py"]),
    default="dcsim",
    show_default=True,
    help="pm4py: the event logs start with case:concept:name, concept:name, time:timestamp"
    " (with its time zone) and org:resource, as process-mining tools read them.",
)
@click.option(
    "--ocel",
    is_flag=True,
    help="Also write ocel.json, an object-centric event log (OCEL 2.0 JSON).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one dotted key, e.g. sites.abilene.onsite.blocks=4 (repeatable).",
)
@click.option(
    "--quiet", is_flag=True, help="No progress bar and no summary line (the table is printed)."
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--report", is_flag=True, help="Also write report.html and PNG charts.")
@engine_options
def run_command(
    file: Path,
    years: float | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    out: Path,
    fmt: str,
    no_background: bool,
    events_format: str,
    ocel: bool,
    sets: tuple[str, ...],
    quiet: bool,
    force: bool,
    report: bool,
    resume: bool,
    scheduler: str | None,
) -> None:
    """Run replications of a site or scenario FILE and write its tables to --out.

    Each replication's rows are written as it finishes, so memory does not grow with
    --reps; a run stopped midway (Ctrl-C, a kill, a crash) is taken up with --resume.
    """
    import time

    from dcsim.experiments.dask_runner import check_scheduler
    from dcsim.experiments.runner import check_counts
    from dcsim.experiments.tasks import default_workers, scheduler_from_environment
    from dcsim.input.dump import to_document
    from dcsim.output.checkpoint import resume_record
    from dcsim.output.export import Layout
    from dcsim.output.next_step import next_step_text
    from dcsim.output.streamed_run import CHECKPOINT_FORMAT, identity, run_into
    from dcsim.output.tables import site_table

    started = time.perf_counter()
    scenario = load(file, parse_sets(sets))
    # Refuse before spending time on the run, and before making any folder.
    scenario = with_run_settings(scenario, years=years, seed=seed)
    check_counts(reps, None, workers)
    scheduler = scheduler_from_environment(scheduler)
    check_scheduler(scheduler)  # before the folder is touched
    layout = Layout(fmt, not no_background, events_format, ocel)
    defined = identity(scenario, reps, layout, list(sets))

    def run_info() -> dict[str, Any]:
        return {
            "simulation_time_s": round(time.perf_counter() - started, 3),
            "workers": scheduler or workers or default_workers(),
            "overrides": list(sets),
            **resume_record(defined),
        }

    with checkpointed(out, defined, resume=resume, force=force, total=reps,
                      unit="replications", form=CHECKPOINT_FORMAT) as checkpoint:  # fmt: skip
        if checkpoint.already_complete:
            finish_report(out, report)
            return
        # Replications an interrupted run had finished, from the first on (the rest run).
        kept = next(i for i in range(reps + 1) if f"r{i}" not in checkpoint.known)
        if kept and not quiet:
            click.echo(f"resuming the run in {out}/: {kept} of {reps} replications kept,"
                       f" {reps - kept} to run")  # fmt: skip
        with Progress(reps, quiet) as tick:
            result, written = run_into(
                scenario, out, replications=reps, layout=layout, checkpoint=checkpoint,
                workers=workers, scheduler=scheduler, progress=tick, run_info=run_info,
            )  # fmt: skip
        if report:
            from dcsim.output.report import build_report

            written.append(build_report(out, force=True))
    wall = time.perf_counter() - started
    click.echo(site_table(result))
    steps = next_step_text(to_document(result.scenario), result.stats, str(file), years,
                           str(out), overridden=bool(sets))  # fmt: skip
    if steps:
        click.echo(steps)
    if not quiet:
        ran = reps - kept  # the kept ones took no time now
        charts = len(list(out.glob("*.png"))) if report else 0
        names = ", ".join(p.name for p in written)
        names += f" and {charts} charts (PNG)" if charts else ""
        click.echo(
            f"wrote {names} to {out}/ in {wall:.1f} s"
            f" ({ran / wall:.1f} replications/s, rows written as each finished)"
        )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing report.html.")
@click.option(
    "--screenshot",
    is_flag=True,
    help="Also keep report.png, the page's first screen as headless Chromium shows it.",
)
@click.option(
    "--attribution",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="The --out folder of `dcsim attribute` on the same file: the first screen then says"
    " which layer holds the idle GPU-hours by Shapley share, not binding share.",
)
def report(folder: Path, force: bool, screenshot: bool, attribution: Path | None) -> None:
    """Write report.html and PNG charts for the results in FOLDER."""
    from dcsim.output.report import build_report, check_folder

    check_folder(folder)
    before = _stamp(folder / "report.html")
    page = build_report(folder, force=force, attribution=attribution)
    same = before is not None and before == _stamp(page)
    click.echo(f"{page}: up to date (the same page)" if same else f"wrote {page}")
    if screenshot:
        from dcsim.output.browser import screenshot as take

        click.echo(f"wrote {take(page, folder / 'report.png')}")


@main.command(name="compile")
def compile_command() -> None:
    """Compile the model to C (mypyc) for runs about a third faster, same results.

    Needs the fast extra (python3 -m pip install -e '.[fast]') and a C compiler; takes
    one to two minutes. Where it cannot, dcsim says why (exit status 1) and runs in pure
    Python as before. Editing dcsim makes it run the pure-Python modules again until the
    next compile; DCSIM_PURE=1 runs them whatever is compiled.
    """
    from dcsim.native import compile_model, compiled_modules

    try:
        where = compile_model()
    except ImportError as missing:
        click.echo(
            f"dcsim: cannot compile the model ({missing.name or missing} is not installed):"
            " install the fast extra (python3 -m pip install -e '.[fast]'). dcsim keeps"
            " running in pure Python.",
            err=True,
        )
        sys.exit(1)
    except (Exception, SystemExit) as error:  # mypyc exits on a type error; no C compiler
        what = (
            f"{type(error).__name__}: {error}"
            if isinstance(error, Exception)
            else "mypyc's type errors are above"
        )
        click.echo(
            f"dcsim: the model could not be compiled ({what}); dcsim keeps running in pure Python.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"compiled {len(compiled_modules())} model modules into {where}/")


def _stamp(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of ``path``, None if it does not exist."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


# The what-if commands live in their own module; registered here, under the one group.
def _register() -> None:
    from dcsim.cli.whatif import attribute, cascade, compare, sweep

    for command in (compare, sweep, cascade, attribute):
        main.add_command(command)


_register()
