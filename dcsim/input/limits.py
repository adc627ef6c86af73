"""Upper bounds on what a file may ask for, so that no input runs out of memory or time.

Each bound is far beyond any real build-out, and each is refused with a message
that names it. The README's table of input limits is generated from
:data:`LIMITS`; the event budget (:mod:`dcsim.input.budget`) bounds what the
counts below multiply into.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    what: str  # where it applies, as the README names it
    most: int


GPUS_PER_LOT = Limit(
    "GPUs in one lot (`lots[].count`), in one batch (`installation.batch`)", 10_000_000
)
UNITS = Limit("transformers, spares, on-site blocks, construction crews of a site or hall", 1_000)
STUDY_ENGINEERS = Limit(
    "study engineers and upgrade crews of a region, production lines of an equipment supply",
    10_000,
)
QUEUE_BACKLOG = Limit("initial backlog of a region (requests)", 10_000)
MARKET_BACKLOG = Limit("initial backlog of an equipment supply (units)", 100_000)
COOLING_LEVEL = Limit("cooling level", 100)
SEED = Limit("seed", 2**63 - 1)
SITES = Limit("sites in a scenario", 100)
ENTRIES = Limit("halls, lots, retrofits or tranches of a site; entries of a catalog section", 500)
PHASES = Limit("study phases of a region", 20)
WARM_UP_YEARS = Limit("warm-up of a region (years)", 50)
EMPIRICAL_VALUES = Limit("values of an empirical distribution", 10_000)
FILE_BYTES = Limit("size of one site, scenario or catalog file (bytes)", 1_000_000)
NESTING = Limit("depth of nested tables and arrays in a file", 20)
INCLUDES = Limit("depth of nested includes", 20)
EVENTS = Limit("events one replication may take (the event budget)", 5_000_000)

LIMITS = (
    GPUS_PER_LOT,
    UNITS,
    STUDY_ENGINEERS,
    QUEUE_BACKLOG,
    MARKET_BACKLOG,
    COOLING_LEVEL,
    SEED,
    SITES,
    ENTRIES,
    PHASES,
    WARM_UP_YEARS,
    EMPIRICAL_VALUES,
    FILE_BYTES,
    NESTING,
    INCLUDES,
    EVENTS,
)

# Dates: what every output (pandas timestamps) can represent, with room to spare.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 1, 1)  # a horizon must end by then


def markdown_table() -> str:
    """The README's table of input limits."""
    lines = ["| what | at most |", "|---|---|"]
    lines += [f"| {limit.what} | {limit.most:,} |" for limit in LIMITS]
    lines.append(f"| dates, and the end of the horizon | {EARLIEST} to {LATEST} |")
    return "\n".join(lines)
