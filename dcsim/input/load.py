"""Load a site or scenario file into a validated Scenario: the one entry point for input."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dcsim.input.files import resolve
from dcsim.input.spec import Scenario
from dcsim.input.validate import build_scenario


def load(path: str | Path, overrides: Iterable[tuple[str, object]] = ()) -> Scenario:
    """Read ``path`` with its includes and catalog, apply ``overrides``, validate.

    ``overrides`` are (dotted key, value) pairs applied after the file's own
    ``[overrides]`` table, for example ``("sites.ashburn.substation.order_policy",
    "at_request")``. Raises :class:`dcsim.errors.SpecError` on any bad input.
    """
    doc, origins = resolve(path, overrides)
    return build_scenario(doc, origins)
