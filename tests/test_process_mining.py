"""Event logs for process mining: pm4py's column names and the OCEL 2.0 log.

By hand (a transformer's three steps and a background request), under
hypothesis (any rows: every relation points at an object that is there, every
object's status in time order), and opened by pm4py itself, a test-only tool
(AGPL: never a dependency of dcsim), which discovers an object-centric process
map from ocel.json and a directly-follows graph from events.csv.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.experiments.results import _event_frame
from dcsim.model.event_log import EventLog
from dcsim.model.events import Event, EventRow, Process
from dcsim.output.process_mining import object_type, ocel_header, ocel_parts, with_pm4py_names
from tests.support import ASHBURN, SITES, run_cli

START = pd.Timestamp("2025-01-01")
SCENARIO = dcsim.load(ASHBURN)  # site ashburn, in region dominion


def _frame(rows: list[EventRow], replication: int = 0) -> pd.DataFrame:
    return _event_frame(replication, EventLog.build(rows, [], math.inf), START)


def _row(day: float, site: str, event: Event, obj: str, background: bool = False) -> EventRow:
    return EventRow(day, site, event.process, event, obj, 1.0, "unit", "", background)


def _parsed(events: bytes, objects: bytes) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
    def items(text: bytes) -> list[dict]:  # type: ignore[type-arg]
        body = text.decode().rstrip().removesuffix(",")
        return json.loads(f"[{body}]") if body else []

    return items(events), items(objects)


HAND = [
    _row(0.0, "ashburn", Event.TRANSFORMER_ORDERED, "ashburn/transformer-1"),
    _row(0.5, "dominion", Event.REQUEST_SUBMITTED, "dominion/bg-7", background=True),
    _row(700.0, "ashburn", Event.TRANSFORMER_DELIVERED, "ashburn/transformer-1"),
    _row(730.25, "ashburn", Event.TRANSFORMER_IN_SERVICE, "ashburn/transformer-1"),
]


def test_pm4py_columns_by_hand() -> None:
    named = with_pm4py_names(_frame(HAND, replication=3))
    assert list(named.columns[:4]) == [
        "case:concept:name", "concept:name", "time:timestamp", "org:resource"
    ]  # fmt: skip
    # A site's build-out is a case; a background request is a case of its own.
    assert list(named["case:concept:name"]) == [
        "r3/ashburn", "r3/dominion/bg-7", "r3/ashburn", "r3/ashburn"
    ]  # fmt: skip
    assert list(named["concept:name"]) == [
        "transformer_ordered", "request_submitted", "transformer_delivered",
        "transformer_in_service",
    ]  # fmt: skip
    assert list(named["org:resource"]) == ["transformers", "interconnection"] + ["transformers"] * 2
    stamps = named["time:timestamp"]
    assert str(stamps.dt.tz) == "UTC"
    assert stamps.iloc[3] == pd.Timestamp(
        "2027-01-01 06:00", tz="UTC"
    )  # day 730.25: 365 + 365 + 1/4


def test_ocel_by_hand() -> None:
    events, objects = _parsed(*ocel_parts(_frame(HAND), SCENARIO))
    assert [e["type"] for e in events] == [row.event.value for row in HAND]
    assert [e["time"] for e in events] == [
        "2025-01-01T00:00:00Z", "2025-01-01T12:00:00Z", "2026-12-02T00:00:00Z",
        "2027-01-01T06:00:00Z",
    ]  # fmt: skip
    by_id = {o["id"]: o for o in objects}
    unit = by_id["r0/ashburn/transformer-1"]
    assert unit["type"] == "transformer"
    assert [a["value"] for a in unit["attributes"]] == [
        "transformer_ordered", "transformer_delivered", "transformer_in_service"
    ]  # fmt: skip
    assert unit["relationships"] == [{"objectId": "r0/ashburn", "qualifier": "located at"}]
    assert by_id["r0/ashburn"]["type"] == "site"
    request = by_id["r0/dominion/bg-7"]
    assert request["type"] == "request"
    assert request["relationships"] == [
        {"objectId": "r0/region/dominion", "qualifier": "queued in"}
    ]
    assert by_id["r0/region/dominion"]["type"] == "region"
    # Each event is tied to the thing it happened to and to the site (or, queued, the region).
    assert events[0]["relationships"] == [
        {"objectId": "r0/ashburn/transformer-1", "qualifier": "transformer"},
        {"objectId": "r0/ashburn", "qualifier": "site"},
    ]
    assert {r["objectId"] for r in events[1]["relationships"]} == {
        "r0/dominion/bg-7", "r0/region/dominion"
    }  # fmt: skip


_SITE_EVENTS = [e for e in Event if e.process is not Process.INTERCONNECTION]
_ROW = st.one_of(
    st.builds(
        # The model names each thing once: a transformer is never also a hall.
        lambda day, event, n: _row(day, "ashburn", event,
                                   f"ashburn/{object_type(event.process, event)}-{n}"),
        st.floats(0, 4000), st.sampled_from(_SITE_EVENTS), st.integers(0, 3),
    ),
    st.builds(
        lambda day, event, n: _row(day, "dominion", event, f"dominion/bg-{n}", background=True),
        st.floats(0, 4000),
        st.sampled_from([e for e in Event if e.process is Process.INTERCONNECTION]),
        st.integers(0, 3),
    ),
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(_ROW, max_size=25))
def test_every_relation_points_at_an_object_of_the_log(rows: list[EventRow]) -> None:
    rows = sorted(rows, key=lambda row: row.time_days)  # a log is in time order
    events, objects = _parsed(*ocel_parts(_frame(rows), SCENARIO))
    declared = {t["name"] for t in ocel_header()["objectTypes"]}
    by_id = {o["id"]: o for o in objects}
    assert len(by_id) == len(objects) and len(events) == len(rows)
    assert len({e["id"] for e in events}) == len(events)
    for event, row in zip(events, rows, strict=True):
        assert event["type"] == row.event.value
        assert all(r["objectId"] in by_id for r in event["relationships"])
        assert (
            event["relationships"][0]["qualifier"]
            == by_id[event["relationships"][0]["objectId"]]["type"]
        )
    for item in objects:
        assert item["type"] in declared
        times = [a["time"] for a in item["attributes"]]
        assert times == sorted(times) and times  # a status for each event that touched it
        assert all(r["objectId"] in by_id for r in item["relationships"])


@pytest.fixture(scope="module")
def portfolio_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pm") / "run"
    done = run_cli("run", SITES / "portfolio.toml", "--years", "3", "--reps", "2", "--workers",
                   "2", "--ocel", "--events-format", "pm4py", "--out", out, "--quiet",
                   timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def test_pm4py_reads_the_ocel_log_and_discovers_a_process_map(portfolio_logs: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    ocel = pm4py.read_ocel2_json(str(portfolio_logs / "ocel.json"))
    rows = sum(len(pd.read_csv(portfolio_logs / f"{log}.csv"))
               for log in ("events", "events_background"))  # fmt: skip
    assert len(ocel.events) == rows
    kinds = set(ocel.objects["ocel:type"])
    assert {"site", "region", "request", "hall", "lot", "transformer", "turbine"} <= kinds
    assert len(ocel.relations) >= rows  # every event touches at least its own object
    ocdfg = pm4py.discover_ocdfg(ocel)
    assert {"transformer", "request", "site"} <= set(ocdfg["object_types"])
    # A transformer goes ordered -> delivered -> in service, whatever else happens.
    transformer_edges = ocdfg["edges"]["event_couples"]["transformer"]
    assert ("transformer_ordered", "transformer_delivered") in transformer_edges
    assert ("transformer_delivered", "transformer_in_service") in transformer_edges


def test_pm4py_draws_a_directly_follows_graph_of_the_flat_log(
    portfolio_logs: Path, tmp_path: Path
) -> None:
    pm4py = pytest.importorskip("pm4py")
    for log in ("events", "events_background"):
        frame = pd.read_csv(portfolio_logs / f"{log}.csv")
        frame["time:timestamp"] = pd.to_datetime(frame["time:timestamp"])
        assert str(frame["time:timestamp"].dt.tz) == "UTC"
        dfg, starts, ends = pm4py.discover_dfg(frame)
        assert dfg and starts and ends
        if log == "events":
            assert "request_submitted" in starts  # every site starts by asking for power
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot is not installed (scripts/test installs it)")
        pm4py.save_vis_dfg(dfg, starts, ends, str(tmp_path / f"{log}.png"))
        assert (tmp_path / f"{log}.png").stat().st_size > 1000
