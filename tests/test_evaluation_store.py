"""A worker keeps what it evaluated of a site's states across replications: the results
never depend on what ran before in the same process.

The store (dcsim.model.site_core) is keyed by everything the evaluation reads of a site
that no change moves (its context) and by the state's moving parts. Were a constant left
out of the context, a site that differs from another only in it would read the other's
evaluations: these tests run each such variant cold (store emptied) and warm (after the
other variants filled it) and ask for the same rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import dcsim
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model import site_core
from dcsim.model.layers import BY_NAME
from dcsim.model.simulation import ReplicationResult, simulate

COLUMBUS = Path(__file__).resolve().parent.parent / "sites" / "columbus.toml"

# Each changes something the evaluation reads and no process does (or only it), so the
# variants meet many of the same states (power steps, batches) with other answers.
VARIANTS: dict[str, dict[str, object]] = {
    "as shipped": {},
    "depreciation": {"sites.columbus.economics.depreciation_life": "2 years"},
    "price": {"sites.columbus.economics.gpu_price": "5000 USD"},
    "hall size": {"sites.columbus.halls[0].it_power": "20 MW"},
    "existing service": {"sites.columbus.interconnection.existing": "30 MW"},
    "dispatch": {"sites.columbus.dispatch": "newest_first"},
}


def _scenario(overrides: dict[str, object]) -> Scenario:
    return with_run_settings(dcsim.load(COLUMBUS, overrides.items()), years=4.0, seed=None)


def _rows(result: ReplicationResult) -> str:
    # As text (rows hold NaN, dates not reached, which never equals itself), hashed (a
    # failure's report would otherwise print two long texts side by side).
    text = repr((result.timeseries, result.snapshots, result.summary, result.log.rows()))
    return hashlib.sha256(text.encode()).hexdigest()


# With installation relaxed every GPU on site counts as installed, so the variants meet
# the same states whatever order their crews would work in.
@pytest.mark.parametrize("relaxed", [(), ("installation",)])
def test_every_variant_reads_only_its_own_evaluations(relaxed: tuple[str, ...]) -> None:
    layers = frozenset(BY_NAME[name] for name in relaxed)
    scenarios = {name: _scenario(changes) for name, changes in VARIANTS.items()}
    cold = {}
    for name, scenario in scenarios.items():
        site_core.forget_evaluations()
        cold[name] = _rows(simulate(scenario, 1, relaxed=layers))
    # The variants must differ where the evaluation reads them, or the test proves nothing.
    snapshots = [repr(simulate(s, 1, relaxed=layers).snapshots) for s in scenarios.values()]
    assert len(set(snapshots)) == len(snapshots)
    site_core.forget_evaluations()
    for scenario in scenarios.values():
        simulate(scenario, 0, relaxed=layers)  # fills the store with this variant's states
    for name, scenario in reversed(scenarios.items()):
        assert _rows(simulate(scenario, 1, relaxed=layers)) == cold[name], name


@pytest.mark.parametrize("relaxed", [(), ("cooling",), ("installation",), ("building", "grid")])
def test_relaxed_runs_read_only_their_own_evaluations(relaxed: tuple[str, ...]) -> None:
    scenario = _scenario({})
    layers = frozenset(BY_NAME[name] for name in relaxed)
    site_core.forget_evaluations()
    cold = _rows(simulate(scenario, 2, relaxed=layers))
    site_core.forget_evaluations()
    for other in ((), ("cooling",), ("installation",), ("building", "grid")):
        simulate(scenario, 0, relaxed=frozenset(BY_NAME[name] for name in other))
    assert _rows(simulate(scenario, 2, relaxed=layers)) == cold


def test_the_store_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_core, "_STATES_KEPT", 50)
    site_core.forget_evaluations()
    scenario = _scenario({})
    cold = _rows(simulate(scenario, 3))
    assert 0 < len(site_core._EVALUATED) <= 50
    assert _rows(simulate(scenario, 3)) == cold


def test_a_state_met_again_is_the_last_to_be_forgotten() -> None:
    scenario = _scenario({})
    site_core.forget_evaluations()
    simulate(scenario, 1)
    first = {key: entry[1] for key, entry in site_core._EVALUATED.items()}
    simulate(scenario, 1)  # the same replication meets every state again
    assert {key: entry[1] for key, entry in site_core._EVALUATED.items()}.keys() == first.keys()
    assert all(site_core._EVALUATED[key][1] > max(first.values()) for key in first)
    # Forgetting drops the quarter used least recently: here, the states not met again.
    stale = ("stale", 0)
    site_core._EVALUATED[stale] = ["nothing", -1]
    stamps = sorted(entry[1] for entry in site_core._EVALUATED.values())
    dropped = len(stamps) // 4 + 1
    site_core._forget_least_recent()
    assert stale not in site_core._EVALUATED
    kept = [entry[1] for entry in site_core._EVALUATED.values()]
    assert len(kept) == len(stamps) - dropped and min(kept) > stamps[dropped - 1]
