"""Catalog entries validated: cooling types, GPU models, regions, equipment supplies.

Each function reads one named table strictly (see :class:`~dcsim.input.toml_table.Table`)
and returns its frozen spec in canonical units.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from dcsim.input import limits
from dcsim.input.spec import (
    ALLOCATION_RULES,
    DISCIPLINES,
    CoolingType,
    EquipmentSupply,
    GpuModel,
    GpuSupply,
    Region,
    StudyPhase,
)
from dcsim.input.toml_table import Table
from dcsim.input.units import (
    DURATION,
    GPU_HOUR_VALUE,
    GPU_POWER,
    GPU_RATE,
    MONEY,
    POWER,
    RACK_POWER,
    REQUEST_RATE,
    UNIT_RATE,
    Dimension,
)


def cooling_type(name: str, t: Table) -> CoolingType:
    pue = t.number("pue", low=1.0, high=5.0)
    result = CoolingType(
        name=name,
        level=t.integer("level", limits.COOLING_LEVEL),
        max_rack_kw=t.quantity("max_rack_power", RACK_POWER),
        pue=pue,
        peak_pue_value=_peak_pue(t, pue),
        source=t.string("source", default=""),
    )
    t.done()
    return result


def _peak_pue(t: Table, pue: float) -> float | None:
    """The peak PUE is never below the year's average."""
    if not t.has("peak_pue"):
        return None
    raw = t.raw("peak_pue")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not pue <= raw <= 5.0:
        raise t.error("peak_pue", raw, f"a number from this type's annual pue ({pue:g}) to 5")
    return float(raw)


def gpu_model(name: str, t: Table, cooling: dict[str, CoolingType]) -> GpuModel:
    result = GpuModel(
        name=name,
        it_kw=t.quantity("it_power", GPU_POWER),
        cooling=t.reference("cooling", cooling, "cooling type"),
        price_usd=t.quantity("price", MONEY),
        value_per_hour_usd=t.quantity(
            "value_per_gpu_hour", GPU_HOUR_VALUE, default="0 USD/GPU/hour", positive=False
        ),
        value_decline=t.number("value_decline", default=0.0, high=0.99),
        source=t.string("source", default=""),
    )
    t.done()
    return result


def region(name: str, t: Table) -> Region:
    discipline = t.string("discipline", choices=DISCIPLINES)
    phases = []
    for p in t.tables("phases", limit=limits.PHASES):
        phases.append(
            StudyPhase(
                name=p.string("name"),
                duration=p.distribution("duration", DURATION),
                withdrawal=p.number("withdrawal", default=0.0, high=1.0),
            )
        )
        p.done()
    if not phases:
        raise t.error("phases", [], "at least one study phase")
    result = Region(
        name=name,
        label=t.string("label", default=name),
        discipline=discipline,
        study_engineers=t.integer("study_engineers", limits.STUDY_ENGINEERS, minimum=1),
        cluster_window=t.quantity("cluster_window", DURATION, default="365 day"),
        phases=tuple(phases),
        agreement_time=t.distribution("agreement_time", DURATION, positive=False),
        energization_time=t.distribution("energization_time", DURATION, positive=False),
        headroom_mw=t.quantity("headroom", POWER, positive=False),
        network_upgrade_time=t.distribution("network_upgrade_time", DURATION, positive=False),
        background_rate=t.quantity("background_rate", REQUEST_RATE, positive=False),
        background_size=t.distribution("background_size", POWER),
        initial_backlog=t.integer("initial_backlog", limits.QUEUE_BACKLOG, default=0),
        warm_up=_warm_up(t),
        upgrade_crews=t.integer("upgrade_crews", limits.STUDY_ENGINEERS, default=0),
        upgrade_mw=t.quantity("upgrade_size", POWER, default="0 MW", positive=False),
        withdrawal_after_agreement=t.number("withdrawal_after_agreement", default=0.0, high=1.0),
        source=t.string("source", default=""),
    )
    t.done()
    return result


def equipment_supply(name: str, t: Table, kind: str) -> EquipmentSupply:
    """A market of ``kind`` (transformer, switchgear or turbine): one schema for all three."""
    scale = t.number("output_scale", default=1.0, low=0.01, high=100.0)
    output = t.quantity("output", UNIT_RATE)
    lines = t.integer("lines", limits.STUDY_ENGINEERS, default=1, minimum=1)
    background = t.quantity("background_rate", UNIT_RATE, positive=False)
    result = EquipmentSupply(
        name=name,
        kind=kind,
        output_per_day=output,
        lines=lines,
        design_time=t.distribution("design_time", DURATION, positive=False),
        transport_time=t.distribution("transport_time", DURATION, positive=False),
        installation_time=t.distribution("installation_time", DURATION, positive=False),
        background_rate=background,
        initial_backlog=t.integer("initial_backlog", limits.MARKET_BACKLOG, default=0),
        output_steps=_steps(t, "output_schedule", "output", output, rising=True),
        background_steps=_steps(t, "background_schedule", "rate", background, rising=False),
        warm_up=_warm_up(t),
        source=t.string("source", default=""),
    )
    result = scale_supply(result, scale)
    top = max([result.output_per_day, *(rate for _, rate in result.output_steps)])
    if result.lines_at(top) > limits.STUDY_ENGINEERS.most:
        raise t.error("output_schedule", t.raw("output_schedule"),
                      f"output needing at most {limits.STUDY_ENGINEERS.most:,} production lines"
                      f" at this supply's build time")  # fmt: skip
    t.done()
    return result


def scale_supply(supply: EquipmentSupply, scale: float) -> EquipmentSupply:
    """``supply`` with its output, at every step, times ``scale`` (``output_scale``: a
    what-if of more or fewer factories). Lines scale with the output, in whole lines
    rounded so that a scale above 1 never gives fewer lines or a longer time on a line
    (more output never delays an order), and one below 1 never more or a shorter one."""
    if scale == 1:
        return supply
    exact = supply.lines * scale
    if scale > 1:
        lines = max(supply.lines, math.floor(exact + 1e-9))
    else:
        lines = max(1, min(supply.lines, math.ceil(exact - 1e-9)))
    return dataclasses.replace(
        supply,
        output_per_day=supply.output_per_day * scale,
        lines=lines,
        output_steps=tuple((when, rate * scale) for when, rate in supply.output_steps),
    )


def gpu_supply(name: str, t: Table) -> GpuSupply:
    """A GPU supply: output in GPUs a time, background demand in GPUs a time."""
    output = t.quantity("output", GPU_RATE)
    size = t.integer("background_order", limits.GPUS_PER_LOT, default=1000, minimum=1)
    demand = t.quantity("background_demand", GPU_RATE, default="0 GPU/day", positive=False)
    demand_steps = _steps(t, "background_schedule", "demand", demand, False, GPU_RATE)
    result = GpuSupply(
        name=name,
        output_per_day=output,
        transport_time=t.distribution("transport_time", DURATION, "0 days", positive=False),
        background_rate=demand / size,
        background_order=size,
        initial_backlog=t.integer("initial_backlog", limits.GPUS_PER_LOT, default=0),
        output_steps=_steps(t, "output_schedule", "output", output, True, GPU_RATE),
        background_steps=tuple((when, rate / size) for when, rate in demand_steps),
        warm_up=_warm_up(t),
        allocation=t.string("allocation", default="fcfs", choices=ALLOCATION_RULES),
        source=t.string("source", default=""),
    )
    t.done()
    return result


def _steps(
    t: Table, key: str, value_key: str, first: float, rising: bool, dim: Dimension = UNIT_RATE
) -> tuple[tuple[dt.date, float], ...]:
    """``key = [{ from = DATE, VALUE_KEY = "N units/year" }, ...]``, dates in order; with
    ``rising`` each value at least the one before (starting from ``first``)."""
    steps: list[tuple[dt.date, float]] = []
    previous = first
    for step in t.tables(key, default=[]):
        when = step.raw("from")
        if isinstance(when, dt.datetime) or not isinstance(when, dt.date):
            raise step.error("from", when, "a date written as YYYY-MM-DD without quotes")
        if steps and when <= steps[-1][0]:
            raise step.error("from", when, f"a date after the step before ({steps[-1][0]})")
        value = step.quantity(value_key, dim, positive=rising)
        if rising and value < previous:
            raise step.error(
                value_key,
                step.raw(value_key),
                "output at least that of the step before: factories expand, output never falls"
                " in a schedule (start the supply lower instead)",
            )
        step.done()
        steps.append((when, value))
        previous = value
    return tuple(steps)


def _warm_up(t: Table) -> float:
    """``warm_up``: how long a queue or market runs before the start date (default 0)."""
    days = t.quantity("warm_up", DURATION, default="0 days", positive=False)
    if days > limits.WARM_UP_YEARS.most * 365.25:
        raise t.error("warm_up", t.raw("warm_up"),
                      f"a duration of at most {limits.WARM_UP_YEARS.most} years")  # fmt: skip
    return days
