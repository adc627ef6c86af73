"""Memory does not grow with the number of replications (slow: scripts/test --slow).

dcsim run keeps only each replication's summary rows; its events and timeseries go to
disk as they arrive. So the peak memory of the whole process tree (dcsim and its workers,
as proportional set size: a page shared by forked processes counts once) for 200
replications is within 1.2x of that for 20, and under 400 MB. Measured with the
benchmark's own sampler (scripts/bench.py), so the test and the printed figure agree.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.support import REPO

pytestmark = pytest.mark.slow


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_peak_of_200_replications_is_that_of_20() -> None:
    bench = _bench()
    args = ["sites/portfolio.toml", "--years", "10", "--workers", "2", "--reps"]
    _, few, _ = bench.dcsim_run([*args, "20"])
    _, many, _ = bench.dcsim_run([*args, "200"])
    assert many <= 1.2 * few, (few, many)
    assert many < 400, many  # MB
