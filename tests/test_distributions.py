"""Distributions: right means, and exactly one uniform draw per sample (CRN)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
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
