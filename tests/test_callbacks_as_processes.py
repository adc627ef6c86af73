"""Where a SimPy process or an end-of-instant event was replaced by a callback for speed,
the run is the same, row for row and in the same order, as with the process or the
event it replaced.

Each test runs the model as it is and with the replaced mechanism put back (a reference
written here, as the model had it), on scenarios whose fixed durations make events of
different requests and sites fall on the same instant: where an order could change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy

import dcsim
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.events import Event
from dcsim.model.grid_request import GridRequest
from dcsim.model.serial_queue import SerialQueue
from dcsim.model.simulation import ReplicationResult, simulate
from dcsim.model.site import SiteModel
from dcsim.model.upgrades import GridCapacity, _Upgrade
from tests.support import HAND_CATALOG, SITE_A, load_text

SITES = Path(__file__).resolve().parent.parent / "sites"

# SITE_A on the hand catalog's grid with no headroom: every background request waits for
# an upgrade, and studies, agreements, upgrades and energizations take whole, fixed days.
# Its crews start a 20-day batch of 20,000 GPUs when h1 (20,500 GPUs) stands, on day 200;
# h2 is started on day 205 and stands on day 220, the day the batch ends: the batch's
# event comes first (it was made first), and crews must see h2 before they pick the next
# batch (20,000 GPUs, not the 500 h1 has left).
_H2 = """[[sites.a.halls]]
name = "h2"
it_power = "20 MW"
cooling = "liquid"
construction_start = 2025-07-25
construction_time = "15 days"
"""
_SITE = (
    SITE_A.replace('it_power = "40 MW"', 'it_power = "20.5 MW"')
    .replace("count = 20000", "count = 40000")
    .replace("[[sites.a.lots]]", _H2 + "[[sites.a.lots]]")
)


def _tied(horizon: str, energization: str, rate: str, upgrades: str) -> str:
    region = (
        'study_engineers = 5\nagreement_time = "10 days"\n'
        f'energization_time = "{energization}"\nheadroom = "0 MW"\n{upgrades}\n'
        f'background_rate = "{rate}"\n'
    )
    catalog = HAND_CATALOG.replace("STUDY", "100 days")
    for line in ("study_engineers = 1", 'agreement_time = "10 days"', 'energization_time = "50 days"',
                 'headroom = "1000 MW"', 'network_upgrade_time = "0 days"',
                 'background_rate = "0 requests/year"'):  # fmt: skip
        assert line in catalog, line
        catalog = catalog.replace(line + "\n", "")
    catalog = catalog.replace('background_size = "1 MW"', region + 'background_size = "1 MW"')
    head = (
        f'[scenario]\nname = "tied"\nstart_date = 2025-01-01\nhorizon = "{horizon}"\n'
        'catalog = false\ntransformer_supply = "t"\n'
    )
    return head + _SITE + catalog


TIED_CASES = {
    "one crew": _tied("1000 days", "100 days", "6 requests/year",
                      'upgrade_crews = 1\nnetwork_upgrade_time = "100 days"'),
    "shared spares": _tied("600 days", "50 days", "10 requests/year",
                           'upgrade_size = "1000 MW"\nnetwork_upgrade_time = "200 days"'),
    "energized at once": _tied("800 days", "0 days", "8 requests/year",
                               'upgrade_crews = 2\nnetwork_upgrade_time = "50 days"'),
}  # fmt: skip


def _scenarios() -> list[tuple[str, Scenario]]:
    tied = [(name, load_text(text)) for name, text in TIED_CASES.items()]
    bundled = [
        (name, with_run_settings(dcsim.load(SITES / f"{name}.toml"), years=4.0, seed=None))
        for name in ("columbus", "abilene")
    ]
    return tied + bundled


SCENARIOS = _scenarios()


def _fingerprint(result: ReplicationResult) -> str:
    # As text (NaN never equals itself), hashed (a failure's report stays short).
    text = repr((result.log.rows(), result.timeseries, result.summary))
    return hashlib.sha256(text.encode()).hexdigest()


def _await_upgrade_in_a_process(self: SerialQueue, request: GridRequest) -> None:
    """The process a background request waiting for an upgrade ran before it was
    made of callbacks."""

    def waits() -> Generator[simpy.Event, Any, None]:
        assert request.plan is not None
        yield from self.capacity.connect(request)
        if request.plan.energization > 0:
            yield self.env.timeout(request.plan.energization)
        self._log(request, Event.TRANCHE_ENERGIZED, request.mw, "MW")

    self.env.process(waits())


def _build_in_a_process(
    self: GridCapacity, request: GridRequest, upgrade: _Upgrade, duration: float
) -> None:
    """An upgrade's build as the model had it: a process that waits for the upgrade's
    time, then finishes it."""

    def build() -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(duration)
        self._upgrade_built(request, upgrade, duration)

    self.env.process(build())


def _finish_batch_at_end_of_instant(self: SiteModel, _: simpy.Event) -> None:
    """A finished batch as the model had it: the settle always waits for the end of the
    instant's event."""
    batch = self._core.finish_batch()
    lot = self._core.lots[batch.lot]
    self.log(Event.GPUS_INSTALLED, lot.name, batch.count, "GPU", f"{lot.installed} of {lot.count}")
    self._request_settle()


# Each shortcut, and what it replaced: (class, method, the method as it was).
REPLACED = {
    "background upgrades as callbacks": (SerialQueue, "_await_upgrade",
                                         _await_upgrade_in_a_process),
    "a batch settled at once": (SiteModel, "_finish_batch", _finish_batch_at_end_of_instant),
    "upgrade builds as callbacks": (GridCapacity, "_build", _build_in_a_process),
}  # fmt: skip


@pytest.mark.parametrize("shortcut", list(REPLACED))
@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=[n for n, _ in SCENARIOS])
def test_a_shortcut_gives_the_rows_of_what_it_replaced(
    shortcut: str, name: str, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = [_fingerprint(simulate(scenario, r)) for r in range(3)]
    owner, method, before = REPLACED[shortcut]
    monkeypatch.setattr(owner, method, before)
    assert [_fingerprint(simulate(scenario, r)) for r in range(3)] == fast


def test_the_tied_scenarios_tie() -> None:
    """The scenarios do what they are for: background requests wait for upgrades and are
    energized on days other rows fall on too, and a batch ends as a hall comes to stand."""
    for name, scenario in SCENARIOS[: len(TIED_CASES)]:
        rows = [row for r in range(3) for row in simulate(scenario, r).log.rows()]
        energized = {(row.time_days, row.object) for row in rows
                     if row.event is Event.TRANCHE_ENERGIZED and row.background}  # fmt: skip
        waits = (Event.NETWORK_UPGRADE_QUEUED, Event.NETWORK_UPGRADE_SHARED)
        queued = {row.object for row in rows if row.event in waits}
        days = [row.time_days for row in rows]
        waited = [(day, obj) for day, obj in energized if obj in queued]
        assert waited, name
        assert any(days.count(day) > 1 for day, _ in waited), name
        installed = {row.time_days for row in rows if row.event is Event.GPUS_INSTALLED}
        built = {row.time_days for row in rows if row.event is Event.HALL_COMMISSIONED}
        assert installed & built, name  # a batch ends as a hall comes to stand
