"""What the tests share: paths, the bundled example, the hand-computed fixtures,
TOML editing, running the real CLI, and queueing-theory formulas.

No test module imports another; everything two tests need lives here.

The theory part knows nothing about dcsim: textbook results (Erlang C for
M/M/c, Pollaczek–Khinchine for M/G/1) and the confidence-interval arithmetic
used to compare independent replications against them. Times are in whatever
unit the caller uses (the model's is days); rates are per that unit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import math
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from hypothesis import strategies as st
from scipy import stats

from dcsim.input.distributions import Fixed
from dcsim.input.spec import ROUTING_POLICIES, EquipmentSupply, Region, Site, StudyPhase

REPO = Path(__file__).resolve().parent.parent
SITES = REPO / "sites"
CATALOG = SITES / "catalog"
ASHBURN = SITES / "ashburn.toml"


def ashburn_text() -> str:
    return ASHBURN.read_text(encoding="utf-8")


def ashburn_doc() -> dict[str, Any]:
    return tomllib.loads(ashburn_text())


def sub_once(text: str, pattern: str, replacement: str) -> tuple[str, int]:
    """Replace the first match of ``pattern`` (a multi-line regex); return the new text and
    the 1-based line the match started on. Fails loudly if the example no longer matches."""
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match is not None, f"{pattern!r} no longer matches the example text"
    line = text.count("\n", 0, match.start()) + 1
    return text[: match.start()] + match.expand(replacement) + text[match.end() :], line


def write_text(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_doc(folder: Path, name: str, doc: dict[str, Any]) -> Path:
    return write_text(folder, name, tomli_w.dumps(doc))


def edited_ashburn(
    folder: Path, edit: Callable[[dict[str, Any]], object] | None = None, name: str = "ashburn.toml"
) -> Path:
    """A copy of the bundled example in ``folder``, with ``edit`` applied to its parsed dict."""
    if edit is None:
        return write_text(folder, name, ashburn_text())
    doc = ashburn_doc()
    edit(doc)
    return write_doc(folder, name, doc)


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m dcsim ARGS`` exactly as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "dcsim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def run_in_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The same command through click's test runner: the CLI code without a new process.

    Used for the many variants of a rule; each rule also has a case through
    :func:`run_cli`. An exception that escapes the command is written to stderr
    as its traceback, as the real command would show it.
    """
    from click.testing import CliRunner

    from dcsim.cli import main

    argv = [str(a) for a in args]
    result = CliRunner().invoke(main, argv, prog_name="dcsim")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(result.exception)
        )
    return subprocess.CompletedProcess(["dcsim", *argv], result.exit_code, result.stdout, stderr)


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit status 2, one 'dcsim: error:' paragraph holding every fragment, no traceback."""
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err, err
    assert err.startswith("dcsim: error: "), err
    assert err.count("dcsim: error:") == 1, err
    assert len(err.strip().splitlines()) == 1, f"expected one paragraph, got:\n{err}"
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in stderr:\n{err}"
    return err


# ---------------------------------------------------------------- hand-computed fixtures
# Shared catalog: liquid cooling has PUE 1.25, air 1.5; GPU model G draws 1 kW of IT
# power and needs liquid cooling; it costs 8760 USD over a 365-day life, so one idle
# GPU costs 24 USD a day. Transformers: one production line, one unit a day, 20 days
# of design, 5 of transport, 5 of installation.
HAND_CATALOG = """
[cooling.air]
level = 0
max_rack_power = "25 kW"
pue = 1.5

[cooling.liquid]
level = 1
max_rack_power = "120 kW"
pue = 1.25

[gpus.G]
it_power = "1 kW"
cooling = "liquid"
price = "8760 USD"

[regions.r]
discipline = "serial"
study_engineers = 1
phases = [{ name = "study", duration = "STUDY", withdrawal = 0.0 }]
agreement_time = "10 days"
energization_time = "50 days"
headroom = "1000 MW"
network_upgrade_time = "0 days"
background_rate = "0 requests/year"
background_size = "1 MW"

[transformer_supplies.t]
output = "1 units/day"
lines = 1
design_time = "20 days"
transport_time = "5 days"
installation_time = "5 days"
background_rate = "0 units/year"
"""

HOURS = 24.0


def every_subset(items: Sequence[Any], empty: bool = False) -> list[frozenset[Any]]:
    """All 2^n subsets of ``items`` (the empty one only if asked)."""
    first = 0 if empty else 1
    return [
        frozenset(c) for k in range(first, len(items) + 1) for c in itertools.combinations(items, k)
    ]


def subset_family(items: Sequence[Any], empty: bool = False) -> list[frozenset[Any]]:
    """The subsets a default-suite check walks: each item alone, each pair, all but one,
    and all (45 of eight layers' 255; the slow suite walks every subset)."""
    n = len(items)
    sizes = sorted({1, 2, n - 1, n} | ({0} if empty else set()))
    return [frozenset(c) for k in sizes if 0 <= k <= n for c in itertools.combinations(items, k)]


def scenario_file(tmp_path: Path, site: str, study: str = "100 days") -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(
        '[scenario]\nname = "hand"\nstart_date = 2025-01-01\nhorizon = "600 days"\n'
        'catalog = false\ntransformer_supply = "t"\n\n'
        + site
        + HAND_CATALOG.replace("STUDY", study)
    )
    return path


SITE_A = """
[sites.a]
start_date = 2025-01-01
[sites.a.interconnection]
request = "100 MW"
request_date = 2025-01-01
region = "r"
[sites.a.substation]
transformers = 2
rating = "50 MVA"
power_factor = 1.0
order_policy = "at_agreement"
[[sites.a.halls]]
name = "h1"
it_power = "40 MW"
cooling = "liquid"
construction_start = 2025-01-01
construction_time = "200 days"
[[sites.a.lots]]
name = "L1"
delivery = 2025-05-31
count = 20000
model = "G"
[sites.a.installation]
rate = "1000 GPU/day"
batch = 20000
[sites.a.economics]
depreciation_life = "365 days"
"""


SITE_B = """
[sites.b]
start_date = 2025-01-01
[sites.b.interconnection]
request = "100 MW"
request_date = 2025-01-01
region = "r"
[sites.b.substation]
transformers = 2
rating = "50 MVA"
power_factor = 1.0
order_policy = "owned"
delivery = 2025-01-01
[[sites.b.halls]]
name = "h1"
it_power = "30 MW"
cooling = "air"
construction_start = 2025-01-01
construction_time = "100 days"
[[sites.b.retrofits]]
hall = "h1"
to = "liquid"
at = "when_needed"
duration = "60 days"
offline_share = 1.0
[[sites.b.lots]]
name = "L1"
delivery = 2025-05-01
count = 10000
model = "G"
[sites.b.onsite]
block = "15 MW"
blocks = 2
start = 2025-01-01
permit_time = "20 days"
lead_time = "30 days"
[sites.b.installation]
rate = "10000 GPU/day"
batch = 10000
[sites.b.economics]
depreciation_life = "365 days"
"""


# Site B with a liquid hall from the start (no retrofit): 10,000 GPUs of 1 kW on site on
# day 120, installed on day 121; the grid never comes (studies of 1,000 days). On-site
# blocks of 15 MW from day 50 (12 MW IT at PUE 1.25: one block runs them all).
BRIDGED = SITE_B.replace('cooling = "air"', 'cooling = "liquid"')
BRIDGED = (
    BRIDGED[: BRIDGED.index("[[sites.b.retrofits]]")] + BRIDGED[BRIDGED.index("[[sites.b.lots]]") :]
)


def bridged(tmp_path: Path, horizon: str = "600 days", **onsite: str) -> Path:
    head, tail = BRIDGED.split("[sites.b.onsite]\n")
    kept = [line for line in tail.split("\n") if line.split(" = ")[0] not in onsite]
    site = head + "[sites.b.onsite]\n" + "".join(f"{k} = {v}\n" for k, v in onsite.items())
    site += "\n".join(kept)
    path = scenario_file(tmp_path, site, study="1000 days")
    path.write_text(path.read_text().replace('horizon = "600 days"', f'horizon = "{horizon}"'))
    return path


# ---------------------------------------------------------------- random scenarios
# Small scenarios for property tests: one or two sites drawn by hypothesis over every
# mechanism the model has, each with one shared random catalog.
RANDOM_CATALOG = """
[cooling.air]
level = 0
max_rack_power = "25 kW"
pue = 1.5

[cooling.liquid]
level = 1
max_rack_power = "120 kW"
pue = 1.2

[gpus.H]
it_power = "1.2 kW"
cooling = "air"
price = "25000 USD"

[gpus.G]
it_power = "1.7 kW"
cooling = "liquid"
price = "40000 USD"

[regions.r]
discipline = "DISCIPLINE"
study_engineers = 2
cluster_window = "180 days"
phases = [
  { name = "one", duration = { dist = "exponential", mean = "120 days" }, withdrawal = 0.3 },
  { name = "two", duration = { dist = "uniform", low = "30 days", high = "200 days" }, withdrawal = 0.2 },
]
agreement_time = { dist = "triangular", low = "10 days", mode = "30 days", high = "90 days" }
energization_time = { dist = "lognormal", median = "200 days", sigma = 0.4 }
headroom = "HEADROOM"
network_upgrade_time = { dist = "empirical", values = ["100 days", "300 days", "600 days"] }
background_rate = "BGRATE"
background_size = { dist = "lognormal", median = "80 MW", sigma = 0.5 }

[transformer_supplies.t]
output = "20 units/year"
lines = 4
design_time = { dist = "uniform", low = "10 days", high = "60 days" }
transport_time = "14 days"
installation_time = { dist = "uniform", low = "5 days", high = "20 days" }
background_rate = "TXRATE"
initial_backlog = 10

[switchgear_supplies.s]
output = "30 units/year"
lines = 3
design_time = { dist = "uniform", low = "10 days", high = "90 days" }
transport_time = "7 days"
installation_time = "7 days"
background_rate = "SGRATE"
warm_up = "2 years"
background_schedule = [{ from = 2025-06-01, rate = "SGRATE" }]
output_schedule = [{ from = 2026-01-01, output = "40 units/year" }]

[turbine_supplies.g]
output = "10 units/year"
lines = 5
design_time = { dist = "uniform", low = "30 days", high = "120 days" }
transport_time = "20 days"
installation_time = "20 days"
background_rate = "GTRATE"
initial_backlog = 5
"""

days = st.integers(min_value=0, max_value=900)


def _date(day: int) -> str:
    return (dt.date(2025, 1, 1) + dt.timedelta(days=day)).isoformat()


@st.composite
def random_site(draw: st.DrawFn, name: str) -> str:
    lines = [
        f"[sites.{name}]",
        "start_date = 2025-01-01",
        f"[sites.{name}.interconnection]",
        f'request = "{draw(st.integers(10, 400))} MW"',
        f"request_date = {_date(draw(days))}",
        'region = "r"',
        f"[sites.{name}.construction]",
        f"crews = {draw(st.integers(1, 2))}",
        f"[sites.{name}.substation]",
        f"transformers = {draw(st.integers(1, 4))}",
        f'rating = "{draw(st.integers(20, 150))} MVA"',
    ]
    policy = draw(st.sampled_from(["at_request", "at_agreement", "owned"]))
    lines.append(f'order_policy = "{policy}"')
    if policy == "owned":
        lines.append(f"delivery = {_date(draw(days))}")
    elif draw(st.booleans()):
        lines.append('switchgear_supply = "s"')
    hall_count = draw(st.integers(1, 3))
    for h in range(hall_count):
        lines += [
            f"[[sites.{name}.halls]]",
            f'name = "h{h}"',
            f'it_power = "{draw(st.integers(5, 120))} MW"',
            f'cooling = "{draw(st.sampled_from(["air", "liquid"]))}"',
            f"construction_start = {_date(draw(days))}",
            'construction_time = { dist = "triangular", low = "100 days",'
            ' mode = "200 days", high = "500 days" }',
        ]
    if draw(st.booleans()):
        at = draw(st.one_of(st.just('"when_needed"'), days.map(_date)))
        lines += [
            f"[[sites.{name}.retrofits]]",
            f'hall = "h{draw(st.integers(0, hall_count - 1))}"',
            'to = "liquid"',
            f"at = {at}",
            'duration = { dist = "uniform", low = "30 days", high = "200 days" }',
            f"offline_share = {draw(st.sampled_from([0.25, 0.5, 1.0]))}",
        ]
    for lot in range(draw(st.integers(1, 3))):
        lines += [
            f"[[sites.{name}.lots]]",
            f'name = "lot{lot}"',
            f"delivery = {_date(draw(days))}",
            f"count = {draw(st.integers(1, 60000))}",
            f'model = "{draw(st.sampled_from(["H", "G"]))}"',
            'delay = { dist = "exponential", mean = "30 days" }',
            f"pooled = {str(draw(st.booleans())).lower()}",
        ]
    if draw(st.booleans()):
        lines += [
            f"[sites.{name}.onsite]",
            f'block = "{draw(st.integers(5, 60))} MW"',
            f"blocks = {draw(st.integers(1, 4))}",
            'permit_time = { dist = "uniform", low = "30 days", high = "300 days" }',
            'lead_time = "120 days"',
            'block_interval = "30 days"',
        ]
        lines += [key for key in ('turbine_supply = "g"', 'switchgear_supply = "s"')
                  if draw(st.booleans())]  # fmt: skip
    lines += [
        f"[sites.{name}.installation]",
        f'rate = "{draw(st.integers(100, 20000))} GPU/week"',
        f"batch = {draw(st.integers(1, 5000))}",
        f"[sites.{name}.economics]",
        'depreciation_life = "5 years"',
    ]
    return "\n".join(lines) + "\n"


def load_text(text: str) -> Any:
    """Load a scenario written as TOML text (through a temporary file, as a user would)."""
    import tempfile

    from dcsim.input.load import load

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        return load(path)


@st.composite
def random_scenario(draw: st.DrawFn) -> str:
    catalog = (
        RANDOM_CATALOG.replace("DISCIPLINE", draw(st.sampled_from(["serial", "cluster"])))
        .replace("HEADROOM", f"{draw(st.integers(0, 2000))} MW")
        .replace("BGRATE", f"{draw(st.integers(0, 20))} requests/year")
        .replace("TXRATE", f"{draw(st.integers(0, 25))} units/year")
        .replace("SGRATE", f"{draw(st.integers(0, 35))} units/year")
        .replace("GTRATE", f"{draw(st.integers(0, 12))} units/year")
    )
    body = "".join(draw(random_site(f"s{i}")) for i in range(draw(st.integers(1, 2))))
    routing = draw(st.sampled_from(ROUTING_POLICIES))
    transit = draw(st.sampled_from(['"0 days"', '"3 weeks"',
                                    '{ dist = "uniform", low = "5 days", high = "60 days" }']))  # fmt: skip
    return (
        '[scenario]\nname = "random"\nstart_date = 2025-01-01\nhorizon = "6 years"\n'
        f"seed = {draw(st.integers(0, 2**32))}\ncatalog = false\n"
        f'routing = "{routing}"\ntransit_time = {transit}\n'
        'transformer_supply = "t"\n\n' + body + catalog
    )


# ---------------------------------------------------------------- queueing theory
CONFIDENCE = 0.99


# ---------------------------------------------------------------- formulas
def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``a`` = lambda/mu.

    Computed through the Erlang B recursion, which is stable for any ``c``.
    """
    if c < 1:
        raise ValueError("c must be at least 1")
    if not 0 <= a < c:
        raise ValueError(f"offered load {a} must lie in [0, c={c}) for a stable queue")
    b = 1.0  # Erlang B with 0 servers
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1 - rho + rho * b)


def mmc_wq(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue (before service) of M/M/c, FCFS: C(c, a) / (c*mu - lambda)."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mg1_wq(lam: float, mean_service: float, second_moment: float) -> float:
    """Pollaczek–Khinchine mean wait in queue of M/G/1: lambda E[S^2] / (2 (1 - rho))."""
    rho = lam * mean_service
    if not 0 <= rho < 1:
        raise ValueError(f"utilisation {rho} must lie in [0, 1)")
    return lam * second_moment / (2 * (1 - rho))


def md1_wq(lam: float, b: float) -> float:
    """M/D/1 mean wait in queue: rho * b / (2 (1 - rho)) with rho = lambda * b."""
    return mg1_wq(lam, b, b * b)


# ---------------------------------------------------------------- statistics
def median_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Order-statistic interval for the median: no assumption about the distribution."""
    ordered = np.sort(values)
    n = len(ordered)
    k = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))
    return float(ordered[max(k - 1, 0)]), float(ordered[min(n - k, n - 1)])


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval for a mean, from independent replications."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.5g} ± {self.half_width:.3g} (n={self.n})"


def mean_ci(samples: Iterable[float], confidence: float = CONFIDENCE) -> Interval:
    """Student-t interval for the mean of i.i.d. per-replication statistics."""
    x = np.asarray(list(samples), dtype=float)
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"need at least two finite samples, got {x!r}")
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return Interval(float(x.mean()), float(half), int(x.size))


def assert_in_ci(value: float, interval: Interval, what: str, max_rel_half_width: float) -> None:
    """``value`` lies in ``interval``, and the interval is narrow enough to mean something.

    The width bound keeps a test from passing only because its interval is so
    wide that a wrong model would pass too.
    """
    assert value in interval, f"{what}: theory {value:.5g} outside the 99% CI {interval}"
    scale = abs(value) if value != 0 else 1.0
    assert interval.half_width <= max_rel_half_width * scale, (
        f"{what}: CI {interval} too wide to test theory {value:.5g} "
        f"(half width above {max_rel_half_width:.0%})"
    )


def time_average(times: Sequence[float], steps: Sequence[float], start: float, end: float) -> float:
    """Time average over [start, end] of a step function that starts at 0 and jumps by
    ``steps[i]`` at ``times[i]`` (times in non-decreasing order)."""
    if end <= start:
        raise ValueError("empty window")
    t = np.asarray(times, dtype=float)
    if np.any(np.diff(t) < 0):  # a log written ahead of time is not in time order
        raise ValueError("times must be in non-decreasing order: sort the jumps first")
    level = np.cumsum(np.asarray(steps, dtype=float))  # value just after each jump
    inside = (t > start) & (t < end)
    # value holding at `start`: the level after the last jump at or before it
    before = np.searchsorted(t, start, side="right")
    initial = level[before - 1] if before > 0 else 0.0
    knots = np.concatenate(([start], t[inside], [end]))
    values = np.concatenate(([initial], level[inside]))
    return float(np.sum(values * np.diff(knots)) / (end - start))


# ------------------------------------------------------------ grid regions
def grid_region(**changes: object) -> Region:
    """Studies of 100 days (plenty of engineers), no agreement delay, 30 days to energize,
    200-day upgrades, no headroom, no background traffic unless asked."""
    base = Region(
        name="r",
        label="r",
        discipline="serial",
        study_engineers=50,
        cluster_window=0.0,
        phases=(StudyPhase("study", Fixed(100.0), 0.0),),
        agreement_time=Fixed(0.0),
        energization_time=Fixed(30.0),
        headroom_mw=0.0,
        network_upgrade_time=Fixed(200.0),
        background_rate=0.0,
        background_size=Fixed(1.0),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------ equipment markets
MARKET_START = dt.date(2025, 1, 1)


def market_supply(**changes: object) -> EquipmentSupply:
    """One line, a 10-day build, no design, transport or background unless asked."""
    none = Fixed(0.0)
    base = dict(
        name="m",
        output_per_day=0.1,
        lines=1,
        design_time=none,
        transport_time=none,
        installation_time=none,
        background_rate=0.0,
        initial_backlog=0,
    )
    base.update(changes)
    return EquipmentSupply(**base)  # type: ignore[arg-type]


def market_day(n: int) -> dt.date:
    return MARKET_START + dt.timedelta(days=n)


def order_leads(spec: EquipmentSupply, orders: list[float], seed: int = 1) -> list[float]:
    """Lead time of one order placed at each day in ``orders`` (in that order at equal days)."""
    import simpy

    from dcsim.model.equipment import EquipmentMarket
    from dcsim.model.streams import Streams

    env = simpy.Environment()
    streams = Streams(seed, 0)
    market = EquipmentMarket(env, spec, streams("background"), MARKET_START)
    result: dict[int, float] = {}

    def order(index: int, at: float) -> Any:
        yield env.timeout(at)
        result[index] = yield env.process(market.order(streams(f"order-{index}")))

    for index, at in enumerate(orders):
        env.process(order(index, at))
    env.run()  # without background the run ends when the last order is delivered
    return [result[i] for i in range(len(orders))]


def batch_slack(site: Site) -> tuple[float, float]:
    """What the crews' batching may cost a relaxed run: (GPU-hours, days).

    Crews install batch by batch in dispatch order, and a batch's GPUs all come into service
    when it is done. Crews busy with a batch a relaxation let them start (a liquid GPU in an
    air hall, say) keep a lot that comes meanwhile waiting for that batch: a list-scheduling
    anomaly (Graham), bounded by one batch's GPUs waiting one batch's install time.
    """
    days = site.installation.batch / site.installation.rate_per_day
    return site.installation.batch * days * HOURS, days


def live_group(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def wait_gone(pgid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while live_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not live_group(pgid), f"still alive: {live_group(pgid)}"


def interrupt_group(proc: subprocess.Popen[Any], how: int, gone_within: float = 10) -> int:
    """Send ``how`` to the process group ``proc`` leads (as a terminal's Ctrl-C does) and
    return its exit status once the whole group is gone; nothing of it is left either way."""
    try:
        os.killpg(proc.pid, how)
        code = proc.wait(timeout=60)
        wait_gone(proc.pid, gone_within)
        return code
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
