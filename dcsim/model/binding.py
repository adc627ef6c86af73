"""After the run: the binding layer at each instant (see dcsim.model.totals for the sums).

At an instant with idle GPUs, the binding layer is the narrowest one. When
several are tight at once (typically all of them at zero before anything is
built) it is the one whose shortfall ends last: the one you would have had to
fix to release those GPUs. "Ends" means the first later instant at which that
layer is no longer tight (or nothing is idle); when two end at the same
instant, the one whose own capacity rose then is the one that released the
GPUs; a tie beyond that (typically layers still short at the horizon) goes to
the narrowest one at that instant, and only then to the earlier in LAYERS. Only the timeseries
is needed, so this runs once per site after the simulation, not in the loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from dcsim.model.capacity import Snapshot
from dcsim.model.layers import LAYERS

NONE = -1


def _rises(before: Snapshot, after: Snapshot) -> int:
    mask = 0
    for index, (a, b) in enumerate(zip(before.caps, after.caps, strict=True)):
        if b > a + 1e-12:
            mask |= 1 << index
    return mask


def binding_layers(rows: Sequence[Snapshot], horizon: float) -> list[int]:
    """Index into LAYERS of the binding layer at each row, or NONE where nothing is idle."""
    count = len(LAYERS)
    every = (1 << count) - 1
    next_exit: list[tuple[float, bool]] = [(horizon, False)] * count
    binding = [NONE] * len(rows)
    for k in range(len(rows) - 1, -1, -1):
        row = rows[k]
        tight, caps = row.tight, row.caps
        if row.gpus_idle > 0:
            candidates = [i for i in range(count) if tight >> i & 1]
            # Ends last; then the one whose capacity rose as it ended (it released the
            # GPUs); then the narrowest now (a tie at the horizon is not decided by order).
            binding[k] = max(candidates, key=lambda i: (*next_exit[i], -caps[i], -i))
            ending = every & ~tight  # the layers not tight here end their shortfall here
        else:
            ending = every
        if not ending:
            continue
        before = rows[k - 1].caps if k > 0 else caps
        rose = 0 if before == caps else _rises(rows[k - 1], row)
        time = row.time_days
        for i in range(count):
            if ending >> i & 1:
                next_exit[i] = (time, bool(rose >> i & 1))
    return binding
