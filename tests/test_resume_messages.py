"""What --resume says when the folder holds another run: which command made it, and
each setting that differs by the name the user gives it, with both values."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.errors import DcsimError
from dcsim.output.checkpoint import Checkpoint, _setting_differences

RUN = {
    "command": "run",
    "replications": 10,
    "background_events": True,
    "overrides": [],
    "spec": {
        "scenario": {"name": "ashburn", "seed": 1, "horizon": "3652.5 day"},
        "sites": {"ashburn": {"halls": 4, "crews": {"count": 2}}},
    },
}


def _refusal(tmp_path: Path, recorded: dict[str, Any], wanted: dict[str, Any],
             form: int = 1) -> str:  # fmt: skip
    first = Checkpoint(tmp_path / "out", recorded, resume=False, force=False, total=3, form=form)
    first.save("r0", "kept")
    with pytest.raises(DcsimError) as refused:
        Checkpoint(tmp_path / "out", wanted, resume=True, force=False, total=3, form=form)
    return str(refused.value)


def test_each_setting_that_differs_is_named_with_both_values(tmp_path: Path) -> None:
    wanted = copy.deepcopy(RUN)
    wanted["replications"] = 12
    wanted["spec"]["scenario"]["seed"] = 7
    wanted["spec"]["sites"]["ashburn"]["crews"]["count"] = 3
    message = _refusal(tmp_path, RUN, wanted)
    assert "other settings (" in message
    # The scenario's own settings first, then the options and the sites' keys.
    named = message.split("other settings (")[1].split(");")[0].split("; ")
    assert named == [
        "scenario.seed: 1 there, 7 here",
        "--reps: 10 there, 12 here",
        "sites.ashburn.crews.count: 2 there, 3 here",
    ]


def test_a_run_of_another_command_is_named_before_the_form_of_its_tasks(tmp_path: Path) -> None:
    # compare keeps its tasks in form 1, run in form 2: the command is what differs.
    compare = {**RUN, "command": "compare"}
    first = Checkpoint(tmp_path / "out", compare, resume=False, force=False, total=3, form=1)
    first.save("r0", "kept")
    with pytest.raises(DcsimError) as refused:
        Checkpoint(tmp_path / "out", RUN, resume=True, force=False, total=3, form=2)
    message = str(refused.value)
    assert "made by `dcsim compare`, not `dcsim run`" in message
    assert "another version" not in message


def test_many_differences_are_counted_past_the_first_four(tmp_path: Path) -> None:
    wanted = copy.deepcopy(RUN)
    wanted["spec"]["sites"]["ashburn"] = {f"key{i}": i for i in range(6)}
    message = _refusal(tmp_path, RUN, wanted)
    assert message.count(" there, ") == 4 and "; and 4 more)" in message  # 8 keys differ


def test_a_what_if_names_a_variant_setting_once_and_its_seed_once(tmp_path: Path) -> None:
    base = copy.deepcopy(RUN["spec"])
    variant = copy.deepcopy(base)
    variant["sites"]["ashburn"]["halls"] = 6
    recorded = {"command": "compare", "seed": 1, "horizon_days": 3652.5,
                "specs": [base, variant]}  # fmt: skip
    wanted = copy.deepcopy(recorded)
    wanted["seed"] = 9
    for spec in wanted["specs"]:
        spec["scenario"]["seed"] = 9
    wanted["specs"][1]["sites"]["ashburn"]["halls"] = 8
    message = _refusal(tmp_path, recorded, wanted)
    named = message.split("other settings (")[1].split(");")[0].split("; ")
    assert named == ["scenario.seed: 1 there, 9 here", "sites.ashburn.halls: 6 there, 8 here"]


def test_a_what_if_names_its_own_options_by_their_flags() -> None:
    base = copy.deepcopy(RUN["spec"])
    recorded = {"command": "compare", "variants": {"a": ["x=1"]}, "sites": ["ashburn"],
                "source_file": "/home/someone/projects/datacenters/sites/ashburn.toml",
                "specs": [base, base]}  # fmt: skip
    wanted = {"command": "compare", "variants": {"a": ["x=2"], "b": ["y=1"]},
              "sites": ["other"], "ocel": None,
              "source_file": "/home/someone/projects/datacenters/sites/ashburn2.toml",
              "specs": [base, base, base]}  # fmt: skip
    assert _setting_differences(recorded, wanted) == [
        '--variant a: ["x=1"] there, ["x=2"] here',
        '--variant b: (absent) there, ["y=1"] here',
        '--site: ["ashburn"] there, ["other"] here',  # not the file's sites table
        "--ocel: (absent) there, null here",  # absent and null are not the same
        # A long path keeps its end, where two paths differ.
        "FILE: '/home/someone...ers/sites/ashburn.toml' there,"
        " '/home/someone...rs/sites/ashburn2.toml' here",
        "scenarios compared: 2 there, 3 here",
    ]


_LEAF = st.one_of(st.integers(-5, 5), st.text("ab", max_size=2), st.booleans())
_KEYS = st.text("xyz", min_size=1, max_size=2)
_TREES = st.recursive(_LEAF, lambda inner: st.dictionaries(_KEYS, inner, max_size=3),
                      max_leaves=12)  # fmt: skip


def _leaves(tree: Any, path: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and tree:
        found: dict[str, Any] = {}
        for key, value in tree.items():
            found.update(_leaves(value, f"{path}.{key}" if path else key))
        return found
    return {path: tree}


@settings(max_examples=200, deadline=None)
@given(_TREES, _TREES)
def test_every_difference_is_named_once_and_nothing_else(there: Any, here: Any) -> None:
    named = _setting_differences({"spec": there}, {"spec": here})
    if there == here:
        assert named == []
        return
    assert len(named) == len(set(named)) >= 1
    names = [item.split(": ")[0] for item in named]
    # Each name is a path where the two differ; no two names nest in each other.
    paths = [*_leaves(there), *_leaves(here)]
    for name in names:
        assert name == "the scenario" or any(
            p == name or p.startswith(name + ".") for p in paths
        ), name
        assert _at(there, name) != _at(here, name)
    for a in names:
        assert not any(b != a and b.startswith(a + ".") for b in names)


def _at(tree: Any, name: str) -> Any:
    if name == "the scenario":
        return tree
    for key in name.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return "<absent>"
        tree = tree[key]
    return tree
