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
from dcsim.loader import load


class _Group(click.Group):
    """Turns every DcsimError into one paragraph on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DcsimError as exc:
            click.echo(f"dcsim: error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("dcsim: interrupted; no partial file was left behind.", err=True)
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
