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


# The indices of the bits set in each mask of len(LAYERS) bits, lowest first.
_BITS: tuple[tuple[int, ...], ...] = tuple(
    tuple(i for i in range(len(LAYERS)) if mask >> i & 1) for mask in range(1 << len(LAYERS))
)


def binding_layers(rows: Sequence[Snapshot], horizon: float) -> list[int]:
    """Index into LAYERS of the binding layer at each row, or NONE where nothing is idle."""
    count = len(LAYERS)
    every = (1 << count) - 1
    # When each layer's shortfall ends next (from the rows after the one at hand), and
    # whether its capacity rose then.
    exit_time = [horizon] * count
    exit_rose = [False] * count
    binding = [NONE] * len(rows)
    for k in range(len(rows) - 1, -1, -1):
        row = rows[k]
        caps = row.caps
        if row.gpus_idle > 0:
            tight = row.tight  # never 0 with GPUs idle (capacity.evaluate)
            candidates = _BITS[tight]
            if len(candidates) == 1:
                binding[k] = candidates[0]
            else:
                # Ends last; then the one whose capacity rose as it ended (it released the
                # GPUs); then the narrowest now (a tie at the horizon is not decided by order).
                binding[k] = max(
                    candidates, key=lambda i: (exit_time[i], exit_rose[i], -caps[i], -i)
                )
            ending = every & ~tight  # the layers not tight here end their shortfall here
            if not ending:
                continue
        else:
            ending = every
        time = row.time_days
        before = rows[k - 1].caps if k > 0 else caps
        if before == caps:
            for i in _BITS[ending]:
                exit_time[i], exit_rose[i] = time, False
        else:
            for i in _BITS[ending]:
                exit_time[i], exit_rose[i] = time, caps[i] > before[i] + 1e-12
    return binding
