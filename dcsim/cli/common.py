"""Pieces the dcsim commands share: --set parsing, run options, progress, CSV output."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from dcsim.errors import DcsimError
from dcsim.output.checkpoint import FIRST_FORMAT, Checkpoint, RunInterrupted
from dcsim.output.export import ExportInterrupted
from dcsim.output.folders import folder_lock


def parse_sets(values: tuple[str, ...]) -> list[tuple[str, object]]:
    """--set KEY=VALUE pairs; values are TOML values, or plain strings if they are not."""
    import tomllib

    pairs: list[tuple[str, object]] = []
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise DcsimError(
                f"--set {item!r}: expected KEY=VALUE, for example"
                " sites.abilene.onsite.blocks=4 or"
                " regions.dominion.headroom='3000 MW'."
            )
        try:
            value: object = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        pairs.append((key.strip(), value))
    return pairs


class Progress:
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
            # SIGTERM too: an interrupt raised where it is swallowed (a __del__, a
            # callback) must still stop the run at the next tick, not be lost.
            self._previous = {
                sig: signal.signal(sig, self._on_sigint) for sig in (signal.SIGINT, signal.SIGTERM)
            }
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
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
        sys.unraisablehook = self._hook
        if self.bar is not None:
            self.bar.close()


RESUME_HELP = (
    "Go on with the run that was interrupted in --out (same arguments): finished"
    " replications are kept, the rest run, and the files are the same as an"
    " uninterrupted run's. With nothing to resume, start the run."
)
SCHEDULER_HELP = (
    "Run the replications on the Dask cluster at this address (tcp://HOST:8786), or"
    " 'local' for one on this machine; default: $DCSIM_SCHEDULER, else the local process"
    " pool. Needs the dask extra: pip install 'dcsim[dask]'."
)
FORCE_HELP = (
    "Write into a folder that already holds files: what an earlier dcsim run wrote there"
    " (tables, charts, report.html, run.json) is removed first; other files are kept."
)


def engine_options(func: Any) -> Any:
    """--resume and --scheduler, which every command that runs replications takes."""
    func = click.option("--scheduler", metavar="ADDRESS", help=SCHEDULER_HELP)(func)
    return click.option("--resume", is_flag=True, help=RESUME_HELP)(func)


@contextlib.contextmanager
def checkpointed(
    out: Path, identity: dict[str, Any], *, resume: bool, force: bool, total: int,
    unit: str = "tasks", form: int = FIRST_FORMAT,
) -> Iterator[Checkpoint]:  # fmt: skip
    """Hold ``out`` for a run and keep what it finishes, so that --resume can go on.

    Ctrl-C or SIGTERM become :class:`RunInterrupted` (what was kept, counted in ``unit``,
    and how to go on);
    once the block ends normally the finished tasks are forgotten. ``form``: the form of
    what the command keeps (see :data:`~dcsim.output.checkpoint.FIRST_FORMAT`).
    """
    with folder_lock(out):
        checkpoint = Checkpoint(out, identity, resume=resume, force=force, total=total,
                                form=form)  # fmt: skip
        try:
            yield checkpoint
        except ExportInterrupted:
            raise
        except KeyboardInterrupt:
            raise RunInterrupted(out, checkpoint.finished, total, unit) from None
        except DcsimError:
            checkpoint.abandon()  # refused before any task finished: leave no claim behind
            raise
        checkpoint.close()


def finish_report(out: Path, report: bool, charts: bool = False) -> None:
    """--resume of a run that had finished: nothing to run, but what it was stopped before
    drawing (after its tables were whole) is drawn: a report asked for and missing, and
    for a what-if (``charts``: it always draws them) its charts if none are there."""
    missing_page = report and not (out / "report.html").exists()
    missing_charts = charts and not any(out.glob("*.png"))
    if not (missing_page or missing_charts):
        click.echo(f"{out}: this run already finished; nothing to resume.")
        return
    from dcsim.output.report import build_report

    what = "its report" if missing_page else "its charts"
    try:
        page = build_report(out, force=True, page=report)
    except KeyboardInterrupt:
        click.echo(f"dcsim: interrupted while drawing {what}; the run's tables in {out}/ are"
                   " whole. Run the same command again to draw it.", err=True)  # fmt: skip
        sys.exit(130)
    drawn = page if missing_page else f"{len(list(out.glob('*.png')))} charts (PNG)"
    click.echo(f"{out}: the run had finished, {what} had not; wrote {drawn}")


def run_options(func: Any) -> Any:
    func = engine_options(func)
    for option in reversed(
        [
            click.option("--years", type=float, help="Horizon in years (default: the file's)."),
            click.option(
                "--reps",
                type=int,
                default=10,
                show_default=True,
                help="Replications (the same draws for every run: common random numbers).",
            ),
            click.option("--seed", type=int, help="Root seed (default: the file's)."),
            click.option("--workers", type=int, help="Worker processes (default: every core)."),
            click.option(
                "--quiet", is_flag=True, help="No progress lines (the results are still printed)."
            ),
            click.option("--force", is_flag=True, help=FORCE_HELP),
        ]
    ):
        func = option(func)
    return func
