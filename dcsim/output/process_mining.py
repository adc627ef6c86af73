"""The event log as process-mining tools read it: pm4py's column names, and OCEL 2.0.

A flat log needs one case notion. Here a site's build-out is a case
(``r0/ashburn``: replication 0, site ashburn), and a background request in a
region's queue is a case of its own (``r0/dominion/bg-12``): a process map of
the site log then shows the chain a site goes through, and one of the
background log the queue's steps. ``org:resource`` is the process that logged
the event (interconnection, transformers, ...).

The object-centric log (OCEL 2.0, JSON) needs none: each event is tied to every
object it touches, the thing it happened to (a transformer, a hall, a lot, a
request), the site, and for grid events the region whose queue it is in. Each
object carries its ``status`` over time (the last event that touched it; a region,
touched by every request in its queue, one "open" status) and its relations to its
site and region. Written by dcsim itself, one replication
at a time, so it streams like the CSV tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from dcsim.input.spec import Scenario
from dcsim.model.events import Event, Process

PM4PY_COLUMNS = ("case:concept:name", "concept:name", "time:timestamp", "org:resource")
EVENTS_FORMATS = ("dcsim", "pm4py")

# What each process's events happen to; "site" rows are about the site itself.
_OBJECT_TYPE = {
    Process.INTERCONNECTION: "request",
    Process.TRANSFORMERS: "transformer",
    Process.SWITCHGEAR: "switchgear",
    Process.CONSTRUCTION: "hall",
    Process.COOLING: "hall",
    Process.GPUS: "lot",
    Process.FLEET: "lot",
    Process.SITE: "site",
}
OBJECT_TYPES = ("site", "region", "request", "hall", "lot", "transformer", "switchgear",
                "turbine", "onsite block", "onsite plant")  # fmt: skip
_EVENT_ATTRIBUTES = [
    {"name": "quantity", "type": "float"},
    {"name": "unit", "type": "string"},
    {"name": "detail", "type": "string"},
    {"name": "replication", "type": "integer"},
]


def with_pm4py_names(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with pm4py's four standard columns first (the rest kept as they are).

    ``time:timestamp`` is timezone-aware (UTC: the model has no time zone), as pm4py
    expects; it is written ``2025-01-01T00:00:00+00:00``.
    """
    subject = np.where(events["background"].to_numpy(), events["object"].astype(str),
                       events["site"].astype(str))  # fmt: skip
    named = pd.DataFrame(
        {
            "case:concept:name": "r" + events["replication"].astype(str) + "/" + subject,
            "concept:name": events["event"].astype(str),
            "time:timestamp": events["timestamp"].dt.tz_localize("UTC"),
            "org:resource": events["process"].astype(str),
        },
        index=events.index,
    )
    return pd.concat([named, events], axis=1)


# ------------------------------------------------------------------ OCEL 2.0
def ocel_header() -> dict[str, Any]:
    """The log's type declarations: every event and object type dcsim can write."""
    return {
        "eventTypes": [{"name": e.value, "attributes": _EVENT_ATTRIBUTES} for e in Event],
        "objectTypes": [
            {"name": name, "attributes": [{"name": "status", "type": "string"}]}
            for name in OBJECT_TYPES
        ],
    }


def ocel_parts(events: pd.DataFrame, scenario: Scenario) -> tuple[bytes, bytes]:
    """One replication's OCEL events and objects, as JSON items each followed by ``,\\n``
    (see :func:`write_ocel` for how the parts become one file)."""
    regions = {site.name: site.region for site in scenario.sites}
    owners = _lot_owners(scenario)
    objects: dict[str, dict[str, Any]] = {}
    lines: list[str] = []

    def touch(oid: str, kind: str, time: str, status: str, related: list[dict[str, str]]) -> None:
        item = objects.get(oid)
        if item is None:
            item = objects[oid] = {"id": oid, "type": kind, "attributes": [],
                                   "relationships": related}  # fmt: skip
        item["attributes"].append({"name": "status", "time": time, "value": status})

    times = np.datetime_as_string(events["timestamp"].to_numpy("datetime64[ns]"), unit="s")
    columns = zip(
        events["replication"].to_numpy(), times, events["site"].astype(str),
        events["process"].astype(str), events["event"].astype(str),
        events["object"].astype(str), events["quantity"].to_numpy(),
        events["unit"].astype(str), events["detail"].fillna("").astype(str),
        events["background"].to_numpy(), strict=True,
    )  # fmt: skip
    for number, (rep, stamp, site, process, event, obj, qty, unit, detail, bg) in enumerate(
        columns
    ):
        time = f"{stamp}Z"
        prefix = f"r{rep}"
        # A background row's "site" is its region: there is no site.
        region = site if bg else regions.get(site)
        region_id = f"{prefix}/region/{region}" if region else None
        site_id = None if bg else f"{prefix}/{site}"
        kind = object_type(process, event)
        if kind == "site":
            oid = f"{prefix}/{site}"
        elif kind == "lot":
            oid = f"{prefix}/{owners.get((site, obj), site)}/lot/{obj}"
        elif kind == "request":
            oid = f"{prefix}/{obj}" if "/" in obj else f"{prefix}/{site}/{obj}"
        else:
            oid = f"{prefix}/{site}/{obj.removeprefix(site + '/')}"
        relations = [{"objectId": oid, "qualifier": kind}]
        around: list[dict[str, str]] = []
        if site_id is not None and oid != site_id:
            relations.append({"objectId": site_id, "qualifier": "site"})
            around.append({"objectId": site_id, "qualifier": "located at"})
            touch(site_id, "site", time, event, [])
        if region_id is not None and process == Process.INTERCONNECTION:
            relations.append({"objectId": region_id, "qualifier": "region"})
            around.append({"objectId": region_id, "qualifier": "queued in"})
            if region_id not in objects:  # a region has no steps of its own: one status
                touch(region_id, "region", time, "open", [])
        touch(oid, kind, time, event, around)
        attributes = [
            {"name": "quantity", "value": float(qty)},
            {"name": "unit", "value": unit},
            {"name": "detail", "value": detail},
            {"name": "replication", "value": int(rep)},
        ]
        item = {"id": f"{prefix}/e{number}", "type": event, "time": time,
                "attributes": attributes, "relationships": relations}  # fmt: skip
        lines.append(json.dumps(item))
    object_lines = [json.dumps(item) for item in objects.values()]
    return _items(lines), _items(object_lines)


def _items(lines: list[str]) -> bytes:
    return "".join(f"{line},\n" for line in lines).encode()


def object_type(process: str, event: str) -> str:
    """The OCEL object type of the thing an event of ``process`` happened to."""
    if process == Process.ONSITE:
        if event.startswith("turbine_"):
            return "turbine"
        return "onsite block" if event.startswith("onsite_block_") else "onsite plant"
    return _OBJECT_TYPE[Process(process)]


def _lot_owners(scenario: Scenario) -> Mapping[tuple[str, str], str]:
    """(site a row is at, lot name) -> the site the lot belongs to: a pooled lot routed
    elsewhere keeps its home site's name, so it stays one object wherever it goes."""
    owners: dict[tuple[str, str], str] = {}
    for home in scenario.sites:
        for lot in home.lots:
            if lot.pooled:
                for site in scenario.sites:
                    owners.setdefault((site.name, lot.name), home.name)
    for site in scenario.sites:  # a site's own lot of that name is the one meant there
        for lot in site.lots:
            owners[(site.name, lot.name)] = site.name
    return owners


def write_ocel(handle: IO[bytes], events_part: Path, objects_part: Path) -> None:
    """The OCEL 2.0 JSON file: the declarations, then the objects and events streamed into
    the two parts (each item followed by ``,\\n``; the last comma is dropped here)."""
    header = json.dumps(ocel_header())
    handle.write(header[:-1].encode() + b', "objects": [\n')
    _copy_items(objects_part, handle)
    handle.write(b'], "events": [\n')
    _copy_items(events_part, handle)
    handle.write(b"]}\n")


def _copy_items(part: Path, handle: IO[bytes]) -> None:
    size = part.stat().st_size if part.exists() else 0
    left = max(0, size - 2)  # the last item's ",\n"
    if not left:
        return
    with part.open("rb") as source:
        for chunk in _chunks(source, left):
            handle.write(chunk)
    handle.write(b"\n")


def _chunks(source: IO[bytes], count: int, size: int = 1 << 20) -> Iterator[bytes]:
    while count > 0:
        chunk = source.read(min(size, count))
        if not chunk:
            return
        count -= len(chunk)
        yield chunk
