"""Changes to a loaded scenario: dotted-key overrides, horizon and seed.

Every change goes back through the document and the validator, so a what-if
is checked exactly like a file: unknown keys and wrong units are refused the
same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from dcsim.build import build_scenario
from dcsim.documents import Origins, apply_override
from dcsim.dump import to_document
from dcsim.spec import Scenario


def override(scenario: Scenario, changes: Mapping[str, object] | Iterable[tuple[str, object]],
             source: str = "override", dates_within_horizon: bool = True) -> Scenario:
    """A new Scenario with each dotted key set, e.g. ``{"sites.ashburn.onsite.blocks": 4}``.

    Values are written as in a file: quantities as strings with units
    (``"200 MW"``), dates as ``datetime.date``.
    """
    items = changes.items() if isinstance(changes, Mapping) else changes
    doc = to_document(scenario)
    origins = Origins(scenario.source_file or source)
    for key, value in items:
        apply_override(doc, key, value, source, origins)
    result = build_scenario(doc, origins, dates_within_horizon)
    return dataclasses.replace(result, source_file=scenario.source_file)


def with_run_settings(scenario: Scenario, years: float | None = None,
                      seed: int | None = None) -> Scenario:
    """Set the horizon (years from the start date) and the root seed."""
    changes: dict[str, object] = {}
    if years is not None:
        changes["scenario.horizon"] = f"{years!r} years"
    if seed is not None:
        changes["scenario.seed"] = seed
    if not changes:
        return scenario
    # A shorter horizon cuts the run: what is dated after it simply does not happen.
    return override(scenario, changes, source="run settings", dates_within_horizon=False)
