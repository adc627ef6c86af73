"""Events at an exact day, which a timeout cannot always give.

A timeout set at ``now`` for ``when - now`` days falls at ``now + (when - now)``,
which rounds to a neighbour of ``when`` for some pairs of floats (the difference
has fewer bits after the point than ``when`` when ``now`` is far from it). Work
computed ahead, such as a background request's agreement day, must happen on
the day computed, whenever it is set.
"""

from __future__ import annotations

import heapq

import simpy
from simpy.events import NORMAL


def timeout_at(env: simpy.Environment, when: float) -> simpy.Event:
    """An event that succeeds at exactly ``when`` (not before ``env.now``), at normal
    priority, after the events already set for that instant.

    It is put on the environment's queue as :meth:`simpy.Environment.schedule` puts
    a timeout there, with ``when`` in place of ``now + delay``: SimPy has no public
    call for an absolute time (tests/test_clock.py fails if its internals change).
    """
    if when < env.now:
        raise ValueError(f"day {when!r} is before now ({env.now!r})")
    event = simpy.Event(env)
    event._ok = True  # a timeout's state: succeeded, with no value
    event._value = None
    heapq.heappush(env._queue, (when, NORMAL, next(env._eid), event))
    return event
