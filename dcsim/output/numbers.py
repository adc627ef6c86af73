"""Numbers as dcsim shows them, in the terminal and on report pages alike: k/M/B,
$ for money, years for durations in days, whole percentages, metrics in words."""

from __future__ import annotations


def big(value: float) -> str:
    """1234567 as 1.23M: two decimals of thousand (k), million (M) or billion (B)."""
    if value != value:
        return "-"
    if value == 0:
        return "0"  # not "-0"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):  # billion, million, thousand
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return _no_minus_zero(f"{value:.0f}")


def count(value: float) -> str:
    """A number of things (GPUs) as 290,000: whole, with thousands separated, as the
    report's pages print it ("-" for none known)."""
    if value != value:
        return "-"
    return f"{round(value):,}"


def _no_minus_zero(text: str) -> str:
    """A value that rounds to zero is shown as zero, whatever its sign ("-0.00 yr": "0.00 yr")."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return text[1:]
    return text


DAYS_PER_YEAR = 365.25
# Words for the metrics a planner looks at first; the rest read as their column name.
METRIC_WORDS = {
    "idle_gpu_hours": "idle GPU-hours",
    "waiting_gpu_hours": "GPU-hours idle or in transit",
    "idle_cost_usd": "idle cost",
    "lost_value_usd": "value lost",
    "first_power_days": "first power (years from start)",
    "all_running_days": "all running (years from start)",
    "gpu_hours_running": "GPU-hours running",
    "gpu_hours_in_transit": "GPU-hours in transit",
    "stranded_power_mwh": "stranded power",
}


def metric_words(metric: str) -> str:
    if metric in METRIC_WORDS:
        return METRIC_WORDS[metric]
    if metric.startswith("idle_gpu_hours_"):
        return f"idle GPU-hours held by {metric.removeprefix('idle_gpu_hours_')}"
    if metric.endswith("_days"):  # shown in years (see number)
        return _words(metric.removesuffix("_days")) + " (years)"
    # Money and energy carry their unit in the value ($1.20M, 3.40 GWh).
    return _words(metric.removesuffix("_usd").removesuffix("_mwh"))


def _words(name: str) -> str:
    return name.replace("onsite", "on-site").replace("_", " ")


def number(value: float, metric: str) -> str:
    """``value`` of ``metric`` as the terminal shows it: $ for money, years for days."""
    if value != value:
        return "-"
    if metric.endswith("_days"):
        return _no_minus_zero(f"{value / DAYS_PER_YEAR:.2f} yr")
    if metric.endswith("_usd"):
        return _no_minus_zero(("-$" if value < 0 else "$") + big(abs(value)))
    if metric.endswith("_mwh"):
        return energy(value)
    return big(value)


def difference(value: float, metric: str) -> str:
    """A change in ``metric`` as the compare tables show it: dates move by days (a lever
    that brings first power 0.21 days earlier is not "0.00 yr"), the rest as ``number``."""
    if metric.endswith("_days") and value == value:
        return _no_minus_zero(f"{value:.1f} days")
    return number(value, metric)


def percent(value: float) -> str:
    """A share as a whole percentage; '-' for none."""
    if value != value:
        return "-"
    text = f"{value:.0%}"
    return "0%" if text == "-0%" else text  # a rounding speck below zero is still zero


def energy(mwh: float) -> str:
    """Energy in the unit that reads: 395.08 GWh, not 395.08k MWh."""
    if mwh != mwh:
        return "-"
    for limit, unit in ((1e6, "TWh"), (1e3, "GWh")):
        if abs(mwh) >= limit:
            return f"{mwh / limit:.2f} {unit}"
    return _no_minus_zero(f"{mwh:.0f} MWh")


def share_interval(share: float, low: float, high: float) -> str:
    """'56% [40%, 72%]': a share of a whole and its 95% interval, the interval cut to
    0-100% (a share is never outside it, whatever a t-interval of few replications says)."""
    if low != low or high != high:
        return percent(share)
    return f"{percent(share)} [{percent(max(low, 0.0))}, {percent(min(high, 1.0))}]"


FEW_REPLICATIONS = 10


def few_replications_note(replications: object) -> str:
    """A warning that intervals from fewer than FEW_REPLICATIONS replications are wide."""
    if not isinstance(replications, int) or replications >= FEW_REPLICATIONS:
        return ""
    return (
        f"Only {replications} replication(s): the intervals are wide and the shares"
        " uncertain; --reps 30 narrows them."
    )
