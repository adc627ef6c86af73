"""Collects event rows as plain tuples during a run; nothing is built until the end.

The event vocabulary below is the export's contract: names stay stable.
"""

from __future__ import annotations

from typing import NamedTuple

# process -> the events it records, in the order they usually happen
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "interconnection": (
        "request_submitted", "cluster_closed", "study_started", "phase_completed",
        "request_withdrawn", "study_completed", "network_upgrade_started",
        "network_upgrade_completed", "agreement_signed", "tranche_energized",
    ),
    "transformers": ("transformer_ordered", "transformer_delivered", "transformer_in_service"),
    "construction": ("construction_started", "hall_commissioned"),
    "cooling": ("retrofit_started", "retrofit_completed"),
    "gpus": ("lot_delivered", "gpus_installed"),
    "onsite": ("onsite_permit_granted", "onsite_block_online"),
    "site": ("first_power", "binding_layer_changed", "all_gpus_running"),
}
ALL_EVENTS = frozenset(e for events in EVENT_TYPES.values() for e in events)


class EventRow(NamedTuple):
    time_days: float
    site: str  # the site, or the region / market for background traffic
    process: str
    event: str
    object: str
    quantity: float
    unit: str
    detail: str
    background: bool


class Recorder:
    """Append-only event log of one replication."""

    def __init__(self) -> None:
        self.rows: list[EventRow] = []

    def event(self, time: float, site: str, process: str, event: str, obj: str,
              quantity: float = float("nan"), unit: str = "", detail: str = "",
              background: bool = False) -> None:
        self.rows.append(EventRow(time, site, process, event, obj, quantity, unit, detail,
                                  background))
