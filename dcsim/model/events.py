"""The event vocabulary, and the recorder that collects event rows during a run.

Every event type is a member of :class:`Event`, which knows the process that
records it and what its ``quantity`` column holds: the export's categories and
the README's table of event types are generated from it, and a misspelt event
is an AttributeError (and a mypy error), not a new string in the log. Names
are the export's contract: they stay stable.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Process(StrEnum):
    INTERCONNECTION = "interconnection"
    TRANSFORMERS = "transformers"
    SWITCHGEAR = "switchgear"
    CONSTRUCTION = "construction"
    COOLING = "cooling"
    GPUS = "gpus"
    FLEET = "fleet"
    ONSITE = "onsite"
    SITE = "site"


class Event(StrEnum):
    """One event type; members are listed per process in the order they usually happen."""

    process: Process
    quantity: str  # what the row's quantity (and detail) say, for the README
    code: int  # its position among the members: its code in a log of columns

    def __new__(cls, value: str, process: Process, quantity: str) -> Event:
        member = str.__new__(cls, value)
        member._value_ = value
        member.process = process
        member.quantity = quantity
        return member

    REQUEST_SUBMITTED = "request_submitted", Process.INTERCONNECTION, "MW requested"
    CLUSTER_CLOSED = (
        "cluster_closed",
        Process.INTERCONNECTION,
        "requests in the cluster (cluster discipline)",
    )
    STUDY_STARTED = "study_started", Process.INTERCONNECTION, "days waited for a study slot"
    PHASE_COMPLETED = "phase_completed", Process.INTERCONNECTION, "— (detail: phase)"
    REQUEST_WITHDRAWN = (
        "request_withdrawn",
        Process.INTERCONNECTION,
        "— (background requests only; detail: the phase, or after_agreement)",
    )
    STUDY_COMPLETED = "study_completed", Process.INTERCONNECTION, "—"
    AGREEMENT_SIGNED = "agreement_signed", Process.INTERCONNECTION, "days since the request"
    NETWORK_UPGRADE_QUEUED = (
        "network_upgrade_queued",
        Process.INTERCONNECTION,
        "MW above the region's remaining headroom (the request joins the upgrade line)",
    )
    NETWORK_UPGRADE_STARTED = (
        "network_upgrade_started",
        Process.INTERCONNECTION,
        "MW the upgrade adds to the region (detail: how much of it is this request's)",
    )
    NETWORK_UPGRADE_SHARED = (
        "network_upgrade_shared",
        Process.INTERCONNECTION,
        "MW taken from another request's upgrade (detail: its spare, or headroom it left)",
    )
    NETWORK_UPGRADE_COMPLETED = (
        "network_upgrade_completed",
        Process.INTERCONNECTION,
        "days the upgrade took",
    )
    INTERIM_SERVICE_GRANTED = (
        "interim_service_granted",
        Process.INTERCONNECTION,
        "MW of headroom a site on interim service takes, at agreement or first in the"
        " upgrade line (detail: MW left to wait for)",
    )
    FLEXIBLE_SERVICE_GRANTED = (
        "flexible_service_granted",
        Process.INTERCONNECTION,
        "MW of non-firm service until the upgrade (detail: share of hours curtailed)",
    )
    TRANCHE_ENERGIZED = (
        "tranche_energized",
        Process.INTERCONNECTION,
        "MW energized (detail: part of a tranche, non-firm)",
    )
    LOAD_RAMPED = (
        "load_ramped",
        Process.INTERCONNECTION,
        "MW of grid service the site may draw now (with a ramp; detail: MW a month)",
    )
    FIRM_SERVICE_REACHED = (
        "firm_service_reached",
        Process.INTERCONNECTION,
        "MW of non-firm service made firm (by the upgrade, or by interim headroom)",
    )
    TRANSFORMER_ORDERED = (
        "transformer_ordered",
        Process.TRANSFORMERS,
        "1 unit (detail: factory backlog in days when ordered)",
    )
    TRANSFORMER_DELIVERED = (
        "transformer_delivered",
        Process.TRANSFORMERS,
        "lead time in days (0 for owned units)",
    )
    TRANSFORMER_IN_SERVICE = (
        "transformer_in_service",
        Process.TRANSFORMERS,
        "substation capacity now, MW",
    )
    SWITCHGEAR_ORDERED = (
        "switchgear_ordered",
        Process.SWITCHGEAR,
        "1 unit: a substation bay or an on-site block's (detail: factory backlog in days)",
    )
    SWITCHGEAR_DELIVERED = "switchgear_delivered", Process.SWITCHGEAR, "lead time in days"
    SWITCHGEAR_IN_SERVICE = (
        "switchgear_in_service",
        Process.SWITCHGEAR,
        "substation bays: MW they carry now; an on-site block's: the block's MW",
    )
    CONSTRUCTION_STARTED = "construction_started", Process.CONSTRUCTION, "hall IT MW"
    HALL_COMMISSIONED = "hall_commissioned", Process.CONSTRUCTION, "hall IT MW"
    RETROFIT_STARTED = (
        "retrofit_started",
        Process.COOLING,
        "IT MW taken offline (detail: from → to)",
    )
    RETROFIT_COMPLETED = "retrofit_completed", Process.COOLING, "hall IT MW"
    GPUS_ORDERED = (
        "gpus_ordered",
        Process.GPUS,
        "GPUs ordered from a GPU supply (detail: model, supply, its backlog in days)",
    )
    LOT_DELIVERED = (
        "lot_delivered",
        Process.GPUS,
        "GPUs (detail: model, days late, or days after the supply shipped it)",
    )
    GPUS_INSTALLED = "gpus_installed", Process.GPUS, "GPUs in this batch"
    LOT_HELD = (
        "lot_held",
        Process.FLEET,
        "GPUs of a pooled lot the fleet holds: no site has room for all of it (first_ready)",
    )
    LOT_ROUTED = (
        "lot_routed",
        Process.FLEET,
        "GPUs of a pooled lot (detail: from → to, the policy, and why; site: its own site)",
    )
    LOT_ARRIVED = (
        "lot_arrived",
        Process.FLEET,
        "GPUs of a pooled lot reaching the other site it was routed to (site: that site)",
    )
    ONSITE_PERMIT_GRANTED = "onsite_permit_granted", Process.ONSITE, "MW permitted"
    TURBINE_ORDERED = (
        "turbine_ordered",
        Process.ONSITE,
        "1 unit, an on-site block's gas turbine (detail: factory backlog in days)",
    )
    TURBINE_DELIVERED = "turbine_delivered", Process.ONSITE, "lead time in days"
    TURBINE_INSTALLED = "turbine_installed", Process.ONSITE, "MW of its block"
    ONSITE_BLOCK_ONLINE = (
        "onsite_block_online",
        Process.ONSITE,
        "MW of the block (detail: spare, for N+1 blocks)",
    )
    ONSITE_BLOCK_OUT = (
        "onsite_block_out",
        Process.ONSITE,
        "MW the plant carries now (a forced outage; detail: repair time)",
    )
    ONSITE_BLOCK_BACK = "onsite_block_back", Process.ONSITE, "MW the plant carries now"
    ONSITE_RETIRED = (
        "onsite_retired",
        Process.ONSITE,
        "0 MW (switched off: grid and substation carry the request)",
    )
    FIRST_POWER = "first_power", Process.SITE, "facility MW available"
    BINDING_LAYER_CHANGED = (
        "binding_layer_changed",
        Process.SITE,
        "idle GPUs (detail: `grid -> transformers`)",
    )
    ALL_GPUS_RUNNING = "all_gpus_running", Process.SITE, "GPUs running"


for _code, _event in enumerate(Event):
    _event.code = _code  # read per row when a log becomes columns (a dict lookup would
    # hash the member through Enum's Python-level __hash__)

EVENT_TYPES: dict[str, tuple[str, ...]] = {
    process.value: tuple(e.value for e in Event if e.process is process) for process in Process
}
ALL_EVENTS = frozenset(e.value for e in Event)


def markdown_table() -> str:
    """The README's table of event types, generated from the vocabulary."""
    lines = ["| process | event | quantity |", "|---|---|---|"]
    for process in Process:
        for index, event in enumerate(e for e in Event if e.process is process):
            shown = process.value if index == 0 else ""
            lines.append(f"| {shown} | `{event.value}` | {event.quantity} |")
    return "\n".join(lines)


# The columns of the exported event log: the replication, then each row's fields, with
# an ISO timestamp beside the days.
EVENT_COLUMNS = ("replication", "time_days", "timestamp", "site", "process", "event", "object",
                 "quantity", "unit", "detail", "background")  # fmt: skip


class EventRow(NamedTuple):
    time_days: float
    site: str  # the site, or the region / market for background traffic
    process: Process
    event: Event
    object: str
    quantity: float
    unit: str
    detail: str
    background: bool
