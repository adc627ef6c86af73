"""The "next step" a run ends with: levers that are real keys, for what really binds.

Every lever offered for any bundled file and any layer is a valid ``--set`` of
that file; the levers offered are those of the top site's binding layers, in
share order; and the commands printed after a run run as printed, and are the
ones its report shows.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pandas as pd
import pytest

import dcsim
from dcsim.cli.common import parse_sets
from dcsim.input.dump import to_document
from dcsim.model.layers import LAYERS
from dcsim.output.next_step import levers, next_steps
from tests.support import ASHBURN, SITES, run_cli

BUNDLED = sorted(p for p in SITES.glob("*.toml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_lever_offered_is_a_key_the_file_takes(path: Path) -> None:
    scenario = dcsim.load(path)
    spec = to_document(scenario)
    offered = [(site.name, layer.name, setting) for site in scenario.sites for layer in LAYERS
               for _, setting in levers(spec, site.name, layer.name)]  # fmt: skip
    assert offered, "each bundled file has some lever"
    for site, layer, setting in offered:
        changed = dcsim.load(path, parse_sets((setting,)))
        assert changed != scenario, f"{site}/{layer}: {setting} changes nothing"


def _stats(idle: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A stats table with the mean idle GPU-hours of each site, split by layer."""
    rows = []
    for site, by_layer in idle.items():
        rows.append({"site": site, "metric": "idle_gpu_hours", "mean": sum(by_layer.values())})
        for layer in LAYERS:
            rows.append({"site": site, "metric": layer.idle_column,
                         "mean": by_layer.get(layer.name, 0.0)})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_levers_are_the_top_sites_binding_layers_in_share_order() -> None:
    spec = to_document(dcsim.load(SITES / "portfolio.toml"))
    stats = _stats({"ashburn": {"grid": 10.0}, "memphis": {"installation": 30.0, "onsite": 70.0}})
    compare, attribute = next_steps(spec, stats, "sites/portfolio.toml", years=10)
    assert attribute == "dcsim attribute sites/portfolio.toml --years 10 --site memphis --reps 30"
    variants = shlex.split(compare)
    names = [variants[i + 1] for i, word in enumerate(variants) if word == "--variant"]
    assert names[0] == "more-onsite-blocks"  # onsite holds 70%, installation 30%
    assert "faster-installation" in names and "interim-service" not in names  # not ashburn's
    assert "--years" in variants and variants[variants.index("--years") + 1] == "10"
    # Nothing idle: nothing to suggest.
    assert next_steps(spec, _stats({"ashburn": {}}), "x.toml") == []


def test_the_printed_next_step_runs_as_printed_and_is_in_the_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli("run", ASHBURN, "--years", "4", "--reps", "2", "--out", out, "--report",
                   "--quiet", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("next step:"))
    commands = [line.strip() for line in lines[start + 1 :] if line.startswith("  dcsim ")]
    assert [c.split()[1] for c in commands] == ["compare", "attribute"]
    page = (out / "report.html").read_text()
    for command in commands:
        assert command.replace("'", "&#x27;") in page
    words = shlex.split(commands[0])
    words[words.index("--reps") + 1] = "2"  # as printed, but quick
    priced = run_cli(*words[1:], "--out", tmp_path / "compare", "--quiet", timeout=300)
    assert priced.returncode == 0, priced.stderr
    assert "interim-service" in priced.stdout
