"""The layout rules of the package: small modules, no import cycles, tests on their own."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "dcsim"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every dcsim module ``path`` imports, anywhere in it (TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from dcsim.model import site" imports the module dcsim.model.site.
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [n if n in modules else node.module for n in names]
        else:
            continue
        found.update(n for n in names if n in modules)
    return found


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``graph`` (module -> modules it imports), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def test_no_import_cycles_among_dcsim_modules() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert find_cycle(graph) is None, "import cycle: " + " -> ".join(find_cycle(graph) or [])
    # The site and its processes: the processes see it only through site_api.
    for process in ("substation", "construction", "cooling", "gpus", "onsite"):
        assert "dcsim.model.site" not in graph[f"dcsim.model.{process}"], process


def test_the_cycle_check_finds_cycles_and_reads_every_kind_of_import(tmp_path: Path) -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from dcsim.model import site\n"
        "def f():\n    import dcsim.errors\n"
    )
    assert _imports(module, _modules()) == {"dcsim.model.site", "dcsim.errors"}


def test_no_test_module_imports_another() -> None:
    tests = REPO / "tests"
    offenders = []
    for path in tests.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                leaf = node.module.split(".")[-1]
                if leaf.startswith("test_") or leaf in ("conftest", "theory"):
                    offenders.append(f"{path.name}: {node.module}")
    assert not offenders, offenders


def test_a_new_layer_is_one_entry_in_the_registry(tmp_path: Path) -> None:
    # Copy the package, add one (unfed) power source to LAYERS and nothing else: its
    # columns appear in every table, and the results of the other layers are unchanged.
    import shutil
    import subprocess
    import sys

    shutil.copytree(PACKAGE, tmp_path / "dcsim", ignore=shutil.ignore_patterns("__pycache__"))
    layers = tmp_path / "dcsim" / "model" / "layers.py"
    text = layers.read_text(encoding="utf-8")
    anchor = '    _source("onsite",'
    assert anchor in text
    layers.write_text(
        text.replace(anchor, '    _source("battery", "#bcbd22", "battery discharge"),\n' + anchor),
        encoding="utf-8",
    )
    script = (
        "import sys, dcsim; from dcsim.model.simulation import TIMESERIES_COLUMNS;"
        f" s = dcsim.load({str(REPO / 'sites' / 'ashburn.toml')!r});"
        " r = dcsim.run(s, replications=2, workers=1);"
        " print(dcsim.__file__); print(list(r.summary.columns)); print(list(r.timeseries.columns));"
        " print(r.summary['idle_gpu_hours'].tolist())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    where, summary, timeseries, idle = done.stdout.strip().splitlines()
    assert where.startswith(str(tmp_path))
    assert "idle_gpu_hours_battery" in summary and "cap_battery_mw" in timeseries
    import dcsim

    base = dcsim.run(dcsim.load(REPO / "sites" / "ashburn.toml"), replications=2, workers=1)
    assert idle == str(base.summary["idle_gpu_hours"].tolist())
