"""Changes to a loaded scenario: dotted-key overrides, horizon and seed.

An override goes back through the document and the validator, so a what-if
is checked exactly like a file: unknown keys and wrong units are refused the
same way. Horizon and seed are set on the validated spec directly, with the
checks the validator applies to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from dcsim.errors import DcsimError, SpecError
from dcsim.input import budget
from dcsim.input.dotted_keys import Origins, apply_override
from dcsim.input.dump import to_document
from dcsim.input.spec import Scenario
from dcsim.input.units import DURATION, QuantityError, parse_quantity
from dcsim.input.validate import HORIZON_LIMIT, build_scenario, horizon_fits


def override(
    scenario: Scenario,
    changes: Mapping[str, object] | Iterable[tuple[str, object]],
    source: str = "override",
    dates_within_horizon: bool = True,
) -> Scenario:
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


def with_run_settings(
    scenario: Scenario, years: float | None = None, seed: int | None = None
) -> Scenario:
    """Set the horizon (years from the start date) and the root seed.

    A shorter horizon cuts the run: what is dated after it simply does not happen.
    """
    horizon, root_seed = scenario.horizon_days, scenario.seed
    if years is not None:
        text = f"{years!r} years"
        try:
            days = parse_quantity(text, DURATION)
        except QuantityError as exc:
            raise DcsimError(f"--years {years!r}: {exc}") from None
        if not days > 0:
            raise DcsimError(
                f"years (--years) must be greater than zero (got {years}): the horizon from the"
                " start date, for example --years 10."
            )
        if not horizon_fits(scenario.start_date, days):
            raise SpecError.at("run settings", "scenario.horizon", text, HORIZON_LIMIT)
        horizon = days
        budget.check(scenario, lambda key: "run settings", horizon)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise DcsimError(
                f"run settings: scenario.seed: found {seed!r}; expected a whole"
                " number of at least 0."
            )
        root_seed = seed
    return dataclasses.replace(scenario, horizon_days=horizon, seed=root_seed)
