"""The "next step" a run ends with: the commands that price the levers of what binds.

From the site that loses the most GPU-hours and the layers holding it (binding
share), each lever is one ``--set`` on the site file as the run read it (the
``spec`` document of run.json, the same for the printed table and the report):
``dcsim compare`` prices them against the run with common random numbers, and
``dcsim attribute`` splits the idle time among the layers by Shapley value (what
fixing each one saves). A lever is offered only where the file leaves room for
it (no "order at request" for a site that already does).
"""

from __future__ import annotations

import shlex
from typing import Any

import pandas as pd

from dcsim.experiments.statistics import layer_shares

MAX_VARIANTS = 3  # a compare of more is slow to read and to run


def levers(spec: dict[str, Any], site: str, layer: str) -> list[tuple[str, str]]:
    """(variant name, KEY=VALUE) of the levers on ``layer`` at ``site`` of ``spec``."""
    doc = spec["sites"][site]
    key = f"sites.{site}"
    found: list[tuple[str, str]] = []
    if layer == "grid":
        grid = doc.get("interconnection", {})
        if not grid.get("interim_service", False):
            found.append(("interim-service", f"{key}.interconnection.interim_service=true"))
        region = grid.get("region")
        crews = spec.get("regions", {}).get(region, {}).get("upgrade_crews", 0)
        if crews:
            found.append(("more-upgrade-crews", f"regions.{region}.upgrade_crews={2 * crews}"))
    elif layer in ("transformers", "switchgear"):
        substation = doc.get("substation", {})
        if substation.get("order_policy") == "at_agreement":
            found.append(("order-at-request", f"{key}.substation.order_policy=at_request"))
        supply = doc.get("transformer_supply") if layer == "transformers" else substation.get(
            "switchgear_supply")  # fmt: skip
        found += _more_lines(spec, "transformer" if layer == "transformers" else layer, supply)
    elif layer == "building":
        crews = int(doc.get("construction", {}).get("crews", 1))
        found.append(("more-construction-crews", f"{key}.construction.crews={crews + 1}"))
    elif layer == "installation":
        rate = float(str(doc["installation"]["rate"]).split()[0])  # written in GPU/day
        found.append(("faster-installation", f"{key}.installation.rate={2 * rate:.0f} GPU/day"))
    elif layer == "onsite" and "onsite" in doc:
        blocks = int(doc["onsite"]["blocks"])
        found.append(("more-onsite-blocks", f"{key}.onsite.blocks={blocks + 2}"))
    elif layer == "turbines" and "onsite" in doc:
        # Blocks waiting for turbines are not helped by more blocks (each needs a turbine
        # too): the lever is the turbines' output.
        found += _more_lines(spec, "turbine", doc["onsite"].get("turbine_supply"))
    return found


def _more_lines(spec: dict[str, Any], kind: str, supply: object) -> list[tuple[str, str]]:
    """Half as much factory output again for the market a site buys ``kind`` units from:
    ``output_scale`` adds lines with the output, so a unit's time on a line stays the same
    (more lines alone, at the same output, would make every unit slower)."""
    if supply not in spec.get(f"{kind}_supplies", {}):
        return []
    return [(f"more-{kind}-output", f"{kind}_supplies.{supply}.output_scale=1.5")]


def next_steps(
    spec: dict[str, Any],
    stats: pd.DataFrame,
    file: str,
    years: float | None = None,
    out: str | None = None,
) -> list[str]:
    """The commands to run next, best first; none when no GPU sat idle. ``years``: the
    run's own horizon, repeated so that the next commands price the same one; ``out``:
    the run's folder, beside which each command writes its own (with its report)."""
    idle = stats[stats["metric"] == "idle_gpu_hours"].sort_values("mean", ascending=False)
    if idle.empty or not float(idle["mean"].iloc[0]) > 0:
        return []
    site = str(idle["site"].iloc[0])
    variants: list[tuple[str, str]] = []
    for layer, _ in layer_shares(stats, site):
        if site in spec.get("sites", {}):
            variants += levers(spec, site, layer)
    quoted = shlex.quote(file) + ("" if years is None else f" --years {years:g}")

    def where(command: str) -> str:
        if out is None:
            return ""
        return f" --out {shlex.quote(out.rstrip('/') + '-' + command)} --report"

    steps = []
    if variants:
        parts = [f"--variant {name} --set {shlex.quote(setting)}"
                 for name, setting in variants[:MAX_VARIANTS]]  # fmt: skip
        steps.append(f"dcsim compare {quoted} --reps 30{where('compare')} {' '.join(parts)}")
    steps.append(f"dcsim attribute {quoted} --site {shlex.quote(site)} --reps 30"
                 f"{where('attribute')}")  # fmt: skip
    if not variants:
        steps.append(f"dcsim cascade {quoted} --site {shlex.quote(site)}{where('cascade')}")
    return steps


def next_step_text(
    spec: dict[str, Any],
    stats: pd.DataFrame,
    file: str,
    years: float | None = None,
    out: str | None = None,
    *,
    overridden: bool = False,
) -> str:
    """The lines that end the printed table (empty when there is nothing to suggest).

    ``overridden``: the run changed the file with ``--set``, which compare and attribute
    do not take for their base; the text says so instead of pricing another base.
    """
    steps = next_steps(spec, stats, file, years, out)
    if not steps:
        return ""
    lines = ["next step: price the levers of what binds (compare), and what each layer is"
             " worth (attribute):", *(f"  {step}" for step in steps)]  # fmt: skip
    if overridden:
        lines.append(f"  (these start from {file} as written: write this run's --set lines"
                     " into a copy of it to start from what this run simulated)")  # fmt: skip
    return "\n".join(lines)
