"""dcsim: discrete-event simulation of AI data-center build-outs.

When does each GPU actually run, how many GPU-hours sit idle, and which layer
(grid, transformers, on-site power, building, cooling, installation) keeps
them dark? A small public API::

    import dcsim
    spec = dcsim.load("sites/portfolio.toml")
    spec = dcsim.override(spec, {"sites.ashburn.substation.order_policy": "at_request"})
    result = dcsim.run(spec, years=10, replications=50, seed=1)
    result.summary, result.stats, result.events, result.timeseries
    result.to_csv("out/")
"""

from dcsim.errors import DcsimError, SpecError
from dcsim.export import version as _version
from dcsim.loader import load
from dcsim.model.layers import LAYERS
from dcsim.model.recorder import EVENT_TYPES
from dcsim.model.simulation import ReplicationResult, simulate
from dcsim.results import RunResult
from dcsim.runner import run
from dcsim.spec import Scenario, Site
from dcsim.variants import override

__version__ = _version()

__all__ = [
    "EVENT_TYPES",
    "LAYERS",
    "DcsimError",
    "ReplicationResult",
    "RunResult",
    "Scenario",
    "Site",
    "SpecError",
    "load",
    "override",
    "run",
    "simulate",
]
