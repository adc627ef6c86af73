"""Distributions: right means, and exactly one uniform draw per sample (CRN)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dcsim.input.distributions import Empirical, Exponential, Fixed, LogNormal, Triangular, Uniform

KINDS = [
    Fixed(3.0),
    Uniform(1.0, 3.0),
    Triangular(1.0, 2.0, 5.0),
    LogNormal(2.0, 0.5),
    Exponential(2.0),
    Empirical((1.0, 2.0, 6.0)),
]


@pytest.mark.parametrize("dist", KINDS, ids=lambda d: d.kind)
def test_sample_mean_matches_the_distribution_mean(dist: object) -> None:
    rng = np.random.default_rng(7)
    draws = np.array([dist.sample(rng) for _ in range(20000)])  # type: ignore[attr-defined]
    if draws.std() == 0:
        assert draws[0] == dist.mean  # type: ignore[attr-defined]
        return
    low, high = stats.t.interval(0.999, len(draws) - 1, loc=draws.mean(), scale=stats.sem(draws))
    assert low <= dist.mean <= high  # type: ignore[attr-defined]


@pytest.mark.parametrize("dist", KINDS, ids=lambda d: d.kind)
def test_every_sample_consumes_exactly_one_uniform(dist: object) -> None:
    # Whatever the kind of the first draw, the next draws of the stream are the same.
    ours, reference = np.random.default_rng(3), np.random.default_rng(3)
    dist.sample(ours)  # type: ignore[attr-defined]
    reference.random()
    assert ours.random() == reference.random()


def test_quantiles_are_monotone_so_longer_variants_are_longer_in_every_draw() -> None:
    u = np.linspace(0.0, 0.999, 200)
    for dist in KINDS:
        values = [dist.quantile(x) for x in u]
        assert all(a <= b for a, b in itertools.pairwise(values)), dist.kind
    short, long = Triangular(1.0, 2.0, 3.0), Triangular(2.0, 3.0, 6.0)
    assert all(short.quantile(x) <= long.quantile(x) for x in u)


@settings(max_examples=60, deadline=None)
@given(
    dist=st.sampled_from(
        [
            *KINDS,
            Triangular(1.0, 1.0, 5.0),
            Triangular(1.0, 5.0, 5.0),
            Triangular(4.0, 4.0, 4.0),
            LogNormal(150.0, 0.0),
            Empirical((7.5,)),
        ]
    ),
    seed=st.integers(0, 2**32 - 1),
    edges=st.lists(st.sampled_from([0.0, 0.5, 1e-300, float(np.nextafter(1.0, 0.0))]), max_size=4),
)
def test_quantiles_of_an_array_are_each_quantile_to_the_last_bit(
    dist: object, seed: int, edges: list[float]
) -> None:
    # Background requests are drawn as arrays; a run must not depend on whether a value
    # came through quantile() or quantiles() (NumPy's log and exp differ from math's in
    # the last bit for some values, so those are mapped through math).
    u = np.concatenate([np.random.default_rng(seed).random(500), edges])
    many = dist.quantiles(u)  # type: ignore[attr-defined]
    one_by_one = [dist.quantile(x) for x in u.tolist()]  # type: ignore[attr-defined]
    assert many.dtype == np.float64
    assert many.tolist() == one_by_one
