"""Property: any valid scenario survives load -> dump -> load unchanged.

Hypothesis writes random but valid scenario files (inline catalog, one or two
sites either inline or in their own files, every kind of distribution, with
and without tranches, on-site power and retrofits), loads them, writes the
spec back with :func:`dcsim.input.dump.to_document` / :func:`dcsim.input.dump.to_toml`,
and loads that again: the two specs must be equal, and dumping is a fixpoint.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcsim.input.dump import to_document, to_toml
from dcsim.input.load import load
from dcsim.input.spec import DISCIPLINES, DISPATCH_POLICIES, ORDER_POLICIES, WHEN_NEEDED, Scenario
from dcsim.input.units import DURATION, parse_quantity

NAMES = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789_"),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", max_size=7),
)
# Free text, never blank (the reader refuses blank strings).
SOURCES = st.one_of(st.just(None), st.text(max_size=20).map(lambda s: f"{s} (EST)"))


def unique_names(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    """Distinct names; duplicates are dropped rather than redrawn (cheaper)."""
    return st.lists(NAMES, min_size=min_size, max_size=max_size).map(
        lambda names: list(dict.fromkeys(names))
    )


DURATION_UNITS = ["day", "days", "weeks", "months", "years", "hours", "d"]
POWER_UNITS = ["MW", "kW", "GW", "W"]
UNITS = {
    "duration": DURATION_UNITS,
    "power": POWER_UNITS,
    "apparent": ["MVA", "kVA"],
    "gpu_power": ["kW", "W"],
    "rack_power": ["kW"],
    "money": ["USD", "dollar"],
    "gpu_rate": ["GPU/week", "GPU/day", "gpus/month"],
    "request_rate": ["requests/year", "request/month"],
    "unit_rate": ["units/year", "unit/week"],
}
MAGNITUDE = st.one_of(
    st.integers(1, 5000).map(float),
    st.floats(0.001, 1e5, allow_nan=False, allow_infinity=False),
)


def fmt(value: float) -> str:
    """A number as TOML-free text that the quantity pattern accepts."""
    return repr(value) if value != int(value) else str(int(value))


@st.composite
def quantity(draw: st.DrawFn, kind: str, zero_ok: bool = False) -> str:
    value = 0.0 if zero_ok and draw(st.booleans()) and draw(st.booleans()) else draw(MAGNITUDE)
    return f"{fmt(value)} {draw(st.sampled_from(UNITS[kind]))}"


@st.composite
def background_rate(draw: st.DrawFn, unit: str) -> str:
    """Background demand within the event budget (at most 1,000 a year)."""
    value = 0.0 if draw(st.booleans()) else draw(st.floats(0.001, 1000.0))
    return f"{fmt(value)} {unit}"


@st.composite
def distribution(draw: st.DrawFn, kind: str, positive: bool) -> str | dict[str, Any]:
    """Any kind of distribution, valid for a positive (or a non-negative) quantity."""
    unit = draw(st.sampled_from(UNITS[kind]))
    q = lambda v: f"{fmt(v)} {unit}"  # noqa: E731
    low = st.just(0.0) | MAGNITUDE if not positive else MAGNITUDE
    form = draw(
        st.sampled_from(
            [
                "fixed",
                "fixed-table",
                "uniform",
                "triangular",
                "lognormal",
                "exponential",
                "empirical",
            ]
        )
    )
    if form == "fixed":
        return q(draw(low))
    if form == "fixed-table":
        return {"dist": "fixed", "value": q(draw(low))}
    if form in ("uniform", "triangular"):
        points = sorted(draw(st.lists(low, min_size=3, max_size=3)))
        points[2] = max(points[2], 0.5)  # high > 0, also for a positive quantity
        if form == "uniform":
            return {"dist": "uniform", "low": q(points[0]), "high": q(points[2])}
        return {
            "dist": "triangular",
            "low": q(points[0]),
            "mode": q(points[1]),
            "high": q(points[2]),
        }
    if form == "lognormal":
        return {
            "dist": "lognormal",
            "median": q(draw(MAGNITUDE)),
            "sigma": draw(st.sampled_from([0, 0.25, 0.6, 1.5])),
        }
    if form == "exponential":
        return {"dist": "exponential", "mean": q(draw(MAGNITUDE))}
    values = draw(st.lists(low, min_size=1, max_size=4))
    values.append(draw(MAGNITUDE))  # at least one value above zero
    return {"dist": "empirical", "values": [q(v) for v in draw(st.permutations(values))]}


def put(table: dict[str, Any], key: str, value: Any) -> None:
    """Set an optional key only when hypothesis drew a value for it."""
    if value is not None:
        table[key] = value


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def catalog(draw: st.DrawFn) -> dict[str, Any]:
    cooling_names = draw(unique_names(1, 3))
    cooling = {}
    for name in cooling_names:
        entry = {
            "level": draw(st.integers(0, 5)),
            "max_rack_power": draw(quantity("rack_power")),
            "pue": draw(st.floats(1.0, 5.0)),
        }
        put(entry, "source", draw(SOURCES))
        cooling[name] = entry
    gpus = {}
    for name in draw(unique_names(1, 3)):
        entry = {
            "it_power": draw(quantity("gpu_power")),
            "cooling": draw(st.sampled_from(cooling_names)),
            "price": draw(quantity("money")),
        }
        put(entry, "source", draw(SOURCES))
        gpus[name] = entry
    regions = {}
    for name in draw(unique_names(1, 2)):
        phases = [
            {"name": draw(NAMES), "duration": draw(distribution("duration", True))}
            for _ in range(draw(st.integers(1, 3)))
        ]
        for phase in phases:
            put(phase, "withdrawal", draw(maybe(st.floats(0.0, 1.0))))
        entry = {
            "discipline": draw(st.sampled_from(DISCIPLINES)),
            "study_engineers": draw(st.integers(1, 10)),
            "phases": phases,
            "agreement_time": draw(distribution("duration", False)),
            "energization_time": draw(distribution("duration", False)),
            "headroom": draw(quantity("power", zero_ok=True)),
            "network_upgrade_time": draw(distribution("duration", False)),
            "background_rate": draw(background_rate("requests/year")),
            "background_size": draw(distribution("power", True)),
        }
        put(entry, "label", draw(maybe(NAMES)))
        put(entry, "cluster_window", draw(maybe(quantity("duration"))))
        put(entry, "upgrade_crews", draw(maybe(st.integers(0, 20))))
        put(entry, "upgrade_size", draw(maybe(quantity("power", zero_ok=True))))
        put(entry, "withdrawal_after_agreement", draw(maybe(st.floats(0.0, 1.0))))
        put(entry, "source", draw(SOURCES))
        regions[name] = entry
    supplies = {}
    for name in draw(unique_names(1, 2)):
        entry = {
            "output": draw(quantity("unit_rate")),
            "design_time": draw(distribution("duration", False)),
            "transport_time": draw(distribution("duration", False)),
            "installation_time": draw(distribution("duration", False)),
            "background_rate": draw(background_rate("units/year")),
        }
        put(entry, "lines", draw(maybe(st.integers(1, 300))))
        put(entry, "initial_backlog", draw(maybe(st.integers(0, 2000))))
        put(entry, "source", draw(SOURCES))
        supplies[name] = entry
    chips = {}
    for name in draw(unique_names(0, 1)):
        entry = {"output": draw(quantity("gpu_rate"))}
        put(entry, "transport_time", draw(maybe(distribution("duration", False))))
        put(
            entry,
            "background_demand",
            draw(maybe(st.integers(0, 1000).map(lambda n: f"{n} GPU/day"))),
        )
        put(entry, "background_order", draw(maybe(st.integers(100, 10_000))))
        put(entry, "initial_backlog", draw(maybe(st.integers(0, 100_000))))
        put(entry, "allocation", draw(maybe(st.sampled_from(["fcfs", "pro_rata"]))))
        put(entry, "source", draw(SOURCES))
        chips[name] = entry
    return {"cooling": cooling, "gpus": gpus, "regions": regions, "transformer_supplies": supplies,
            "gpu_supplies": chips}  # fmt: skip


@st.composite
def site(
    draw: st.DrawFn, name: str, cat: dict[str, Any], start: dt.date, last_day: int, late_start: bool
) -> dict[str, Any]:
    """A valid site whose dates are whole days from ``start`` up to ``last_day``.

    With ``late_start`` the site's own start date may fall a few days after ``start``
    (the scenario then sets its start date itself).
    """

    def date() -> dt.date:
        return start + dt.timedelta(days=draw(st.integers(0, last_day)))

    cooling, gpus = list(cat["cooling"]), list(cat["gpus"])
    # Tranches in whole MW add up to the request exactly.
    tranche_mw = draw(st.lists(st.integers(1, 500), min_size=1, max_size=3))
    interconnection: dict[str, Any] = {
        "request": f"{sum(tranche_mw)} MW",
        "request_date": date(),
        "region": draw(st.sampled_from(list(cat["regions"]))),
    }
    if draw(st.booleans()):
        interconnection["tranches"] = [
            {"power": f"{mw} MW", "earliest": date()} for mw in tranche_mw
        ]
    put(interconnection, "source", draw(SOURCES))

    transformers = draw(st.integers(1, 8))
    policy = draw(st.sampled_from(ORDER_POLICIES))
    substation: dict[str, Any] = {
        "transformers": transformers,
        "rating": draw(quantity("apparent")),
        "order_policy": policy,
    }
    if policy == "owned":
        substation["delivery"] = date()
    put(substation, "power_factor", draw(maybe(st.floats(0.01, 1.0))))
    put(substation, "spares", draw(maybe(st.integers(0, transformers - 1))))

    construction = draw(st.booleans())
    crews = draw(st.integers(1, 4)) if construction else 1
    hall_names = draw(unique_names(1, 3))
    halls = []
    for hall_name in hall_names:
        hall = {
            "name": hall_name,
            "it_power": draw(quantity("power")),
            "cooling": draw(st.sampled_from(cooling)),
            "construction_start": date(),
            "construction_time": draw(distribution("duration", True)),
        }
        put(hall, "crews", draw(maybe(st.integers(1, crews))))
        put(hall, "commissioning_time", draw(maybe(distribution("duration", False))))
        put(hall, "source", draw(SOURCES))
        halls.append(hall)

    retrofits = []
    # At most one retrofit per hall (a retrofit converts the whole hall).
    for retrofit_hall in draw(st.lists(st.sampled_from(hall_names), max_size=2, unique=True)):
        retrofit = {
            "hall": retrofit_hall,
            "to": draw(st.sampled_from(cooling)),
            "at": date() if draw(st.booleans()) else WHEN_NEEDED,
            "duration": draw(distribution("duration", False)),
        }
        put(retrofit, "offline_share", draw(maybe(st.floats(0.0, 1.0))))
        retrofits.append(retrofit)

    lots = []
    named = draw(st.booleans())
    lot_names = draw(unique_names(1, 3))
    for lot_name in lot_names:
        lot = {
            "delivery": date(),
            "count": draw(st.integers(1, 100_000)),
            "model": draw(st.sampled_from(gpus)),
        }
        if cat["gpu_supplies"] and draw(st.booleans()):  # ordered from a supply instead
            lot["ordered"] = lot.pop("delivery")
            lot["supply"] = draw(st.sampled_from(list(cat["gpu_supplies"])))
        if named:
            lot["name"] = "x" + lot_name  # never "lot-N", the default names
        put(lot, "delay", draw(maybe(distribution("duration", False))))
        lots.append(lot)

    table: dict[str, Any] = {
        "name": name,
        "start_date": start + dt.timedelta(days=draw(st.integers(0, 3)) if late_start else 0),
        "interconnection": interconnection,
        "substation": substation,
        "halls": halls,
        "lots": lots,
        "installation": {"rate": draw(quantity("gpu_rate"))},
        "economics": {"depreciation_life": draw(quantity("duration"))},
    }
    put(table, "dispatch", draw(maybe(st.sampled_from(DISPATCH_POLICIES))))
    if retrofits or draw(st.booleans()):
        table["retrofits"] = retrofits
    if construction:
        table["construction"] = {"crews": crews}
    if draw(st.booleans()):
        onsite: dict[str, Any] = {
            "block": draw(quantity("power")),
            "blocks": draw(st.integers(1, 20)),
            "permit_time": draw(distribution("duration", False)),
            "lead_time": draw(distribution("duration", False)),
        }
        put(onsite, "start", date() if draw(st.booleans()) else None)
        put(onsite, "block_interval", draw(maybe(distribution("duration", False))))
        table["onsite"] = onsite
    put(table["installation"], "batch", draw(maybe(st.integers(1, 5000))))
    put(table["economics"], "gpu_price", draw(maybe(quantity("money"))))
    put(table, "location", draw(SOURCES))
    put(table, "source", draw(SOURCES))
    put(
        table, "transformer_supply", draw(maybe(st.sampled_from(list(cat["transformer_supplies"]))))
    )
    return table


@st.composite
def scenario_files(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """File name -> document: a scenario file and perhaps site files beside it."""
    cat = draw(catalog())
    start = draw(st.dates(dt.date(2000, 1, 1), dt.date(2060, 12, 31)))
    horizon = draw(
        st.sampled_from(["3 years", "10 years", "400 weeks", "2000 days", "60 months", "20 years"])
    )
    # Whole days, and a few days' margin for the sites' own start dates.
    last_day = int(parse_quantity(horizon, DURATION)) - 4
    scenario: dict[str, Any] = {"horizon": horizon, "catalog": False}
    if draw(st.booleans()):
        scenario["start_date"] = start
    put(scenario, "name", draw(maybe(NAMES)))
    put(scenario, "seed", draw(maybe(st.integers(0, 2**31))))
    put(
        scenario,
        "transformer_supply",
        draw(maybe(st.sampled_from(list(cat["transformer_supplies"])))),
    )
    files: dict[str, dict[str, Any]] = {}
    inline: dict[str, Any] = {}
    for name in draw(unique_names(1, 2)):
        table = draw(site(name, cat, start, last_day, late_start="start_date" in scenario))
        if draw(st.booleans()):
            files[f"site-{name}.toml"] = table
            scenario.setdefault("sites", []).append(f"site-{name}.toml")
        else:
            del table["name"]  # the table key names an inline site
            inline[name] = table
    doc: dict[str, Any] = {"scenario": scenario, **cat}
    if inline:
        doc["sites"] = inline
    files["scenario.toml"] = doc
    return files


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario_files())
def test_load_dump_load_is_identity(files: dict[str, dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, doc in files.items():
            (Path(folder) / name).write_text(tomli_w.dumps(doc), encoding="utf-8")
        first = load(Path(folder) / "scenario.toml")
        _looks_like(first, files)

        text = to_toml(first)
        dumped = Path(folder) / "dumped.toml"
        dumped.write_text(text, encoding="utf-8")
        second = load(dumped)

    assert second == first
    assert to_document(second) == to_document(first)
    assert to_toml(second) == text


def _looks_like(spec: Scenario, files: dict[str, dict[str, Any]]) -> None:
    """The first load read what was written (so the round trip is not of an empty spec)."""
    doc = files["scenario.toml"]
    sites = {
        **doc.get("sites", {}),
        **{t["name"]: t for name, t in files.items() if name != "scenario.toml"},
    }
    assert {s.name for s in spec.sites} == set(sites)
    assert {g.name for g in spec.gpus} == set(doc["gpus"])
    assert {r.name for r in spec.regions} == set(doc["regions"])
    for built in spec.sites:
        written = sites[built.name]
        assert [h.name for h in built.halls] == [h["name"] for h in written["halls"]]
        assert [lot.count for lot in built.lots] == [lot["count"] for lot in written["lots"]]
        assert len(built.retrofits) == len(written.get("retrofits", []))
        assert (built.onsite is None) == ("onsite" not in written)
        assert [r.at is None for r in built.retrofits] == [
            r["at"] == WHEN_NEEDED for r in written.get("retrofits", [])
        ]
