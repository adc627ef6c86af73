"""timeout_at: an event at exactly the day asked for, where a timeout would round off it."""

from __future__ import annotations

import math

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.model.clock import timeout_at


def test_a_day_a_timeout_cannot_reach_exactly() -> None:
    # From day -334.54..., a timeout of (when - now) days falls one bit off ``when``.
    now, when = -334.54497427425406, -55.868404508456166
    assert now + (when - now) != when
    env = simpy.Environment(initial_time=now)
    seen = []
    timeout_at(env, when).callbacks.append(lambda _: seen.append(env.now))
    env.run()
    assert seen == [when]


@settings(max_examples=200, deadline=None)
@given(
    now=st.floats(-1e5, 1e5, allow_nan=False),
    ahead=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=6),
)
def test_events_fall_on_their_days_in_time_then_set_order(now: float, ahead: list[float]) -> None:
    env = simpy.Environment(initial_time=now)
    days = [now + a for a in ahead]
    seen: list[tuple[float, int]] = []
    for index, day in enumerate(days):
        timeout_at(env, day).callbacks.append(lambda _, i=index: seen.append((env.now, i)))
    env.run()
    assert seen == sorted(((d, i) for i, d in enumerate(days)), key=lambda x: x[0])
    assert all(math.isfinite(t) for t, _ in seen)


def test_a_day_in_the_past_is_refused() -> None:
    env = simpy.Environment(initial_time=10.0)
    with pytest.raises(ValueError, match="before now"):
        timeout_at(env, 9.5)
