"""Pieces the dcsim commands share: --set parsing, run options, progress, CSV output."""

from __future__ import annotations

import sys
from typing import Any

import click

from dcsim.errors import DcsimError


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


def run_options(func: Any) -> Any:
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
            click.option("--force", is_flag=True, help="Write into a folder that holds files."),
        ]
    ):
        func = option(func)
    return func
