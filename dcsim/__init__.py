"""dcsim: discrete-event simulation of AI data-center build-outs.

When does each GPU actually run, how many GPU-hours sit idle, and which layer
(grid, transformers, switchgear, on-site power, turbines, building, cooling,
installation) keeps them dark? A small public API::

    import dcsim
    spec = dcsim.load("sites/portfolio.toml")
    spec = dcsim.override(spec, {"sites.ashburn.substation.order_policy": "at_request"})
    result = dcsim.run(spec, years=10, replications=50, seed=1)
    result.summary, result.stats, result.events, result.timeseries
    result.to_csv("out/")
"""

from typing import TYPE_CHECKING, Any

from dcsim.errors import DcsimError, SpecError

if TYPE_CHECKING:
    from dcsim.experiments.api import attribute, cascade, compare, sweep
    from dcsim.experiments.results import RunResult
    from dcsim.experiments.runner import run
    from dcsim.input.load import load
    from dcsim.input.overrides import override
    from dcsim.input.spec import Scenario, Site
    from dcsim.model.events import EVENT_TYPES
    from dcsim.model.layers import LAYERS
    from dcsim.model.simulation import ReplicationResult, simulate

# Everything but the errors is loaded on first use: running pulls in SimPy, pandas and
# SciPy, and even reading a file pint and NumPy, so `import dcsim` stays quick, and the
# `dcsim` command imports them where it can turn a Ctrl-C into its one message.
_LAZY = {
    "load": "dcsim.input.load",
    "override": "dcsim.input.overrides",
    "Scenario": "dcsim.input.spec",
    "Site": "dcsim.input.spec",
    "EVENT_TYPES": "dcsim.model.events",
    "LAYERS": "dcsim.model.layers",
    "run": "dcsim.experiments.runner",
    "RunResult": "dcsim.experiments.results",
    "simulate": "dcsim.model.simulation",
    "compare": "dcsim.experiments.api",
    "cascade": "dcsim.experiments.api",
    "sweep": "dcsim.experiments.api",
    "attribute": "dcsim.experiments.api",
    "ReplicationResult": "dcsim.model.simulation",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("dcsim")
        except metadata.PackageNotFoundError:  # a source tree that is not installed
            return "unknown"
    raise AttributeError(f"module 'dcsim' has no attribute {name!r}")


__all__ = [
    "EVENT_TYPES",
    "LAYERS",
    "DcsimError",
    "ReplicationResult",
    "RunResult",
    "Scenario",
    "Site",
    "SpecError",
    "attribute",
    "cascade",
    "compare",
    "load",
    "override",
    "run",
    "simulate",
    "sweep",
]


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
