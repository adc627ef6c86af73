"""A site's state, and what follows from it once an instant is over: no SimPy here.

The processes change the state (power, halls, retrofits, deliveries). Once
every change of an instant is in, :meth:`SiteCore.settle` evaluates the site
once (one timeseries row, :mod:`.capacity`) and sends idle crews to their next
batch. Deciding on the instant's final state makes the result independent of
the order in which changes of the same instant arrive; and as relaxing a layer
changes what the evaluation and the crews read, never a process, a site can be
rerun with other layers relaxed from a recorded :data:`Tape` of its changes
(:func:`replay`) without rerunning the markets and queues behind them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

from dcsim.input.spec import Scenario, Site
from dcsim.model.allocation import LotLoad, dispatch_order, place, power_order
from dcsim.model.capacity import Snapshot, dispatch, evaluate, idle_now, view_of
from dcsim.model.instant import ready_space
from dcsim.model.layers import INSTALLATION, ONSITE_KEYS, PLANT_SWITCHGEAR, POWER_LAYERS, Layer
from dcsim.model.state import HallState, LotState, SiteState
from dcsim.model.totals import HOURS_PER_DAY

_NEW = tuple.__new__
# What settle() made of each state it met, by what the state is (not by replication): a
# site meets the same states in many replications (the same power steps, the same batches
# installed), so a worker's later replications mostly find theirs here. A state is named
# by its site's context (a number for all the evaluation reads that no change moves, see
# SiteCore._constants) and its moving parts. When this many are kept, the quarter used
# least recently is forgotten, so a worker's memory stays bounded (a state kept takes
# about 1.9 kB, measured as a worker's growth over a portfolio run: ~19 MB at most).
_STATES_KEPT = 10_000
# A state's entry is [what settle made of it, the look-up it was last used at]: a hit
# marks its entry rather than moving it to the end of the dict (a pop and an insert hash
# the key twice, and hashing a state's floats was a good part of a settle).
_EVALUATED: dict[tuple[object, ...], list[Any]] = {}
_LOOKUPS = itertools.count()
_CONTEXTS: dict[tuple[object, ...], int] = {}  # a number for each context (and halls) met
_contexts_made = 0  # numbers are never given twice, so forgetting _CONTEXTS is safe


def forget_evaluations() -> None:
    """Empty the store of evaluated states (what runs next evaluates every state again)."""
    _EVALUATED.clear()
    _CONTEXTS.clear()


def _forget_least_recent() -> None:
    """Forget the quarter of the states kept that were used least recently."""
    entries = sorted(_EVALUATED.items(), key=lambda item: item[1][1])  # rare: when full
    for key, _ in entries[: len(entries) // 4 + 1]:
        _EVALUATED.pop(key, None)  # not del: another Dask worker thread may be forgetting too


def _context_number(context: tuple[object, ...]) -> int:
    global _contexts_made
    number = _CONTEXTS.get(context)
    if number is None:
        _contexts_made += 1
        number = _CONTEXTS[context] = _contexts_made
    return number


# The changes a process can make, by SiteCore method name; a tape replays them by name.
CHANGES = frozenset(
    {"set_power", "commission", "start_retrofit", "complete_retrofit", "deliver", "transit", "bind"}
)
Change = tuple[float, str, tuple[object, ...]]  # (day, method, arguments)
Tape = list[Change]


class Batch:
    """GPUs the crews bring into service together, done ``duration`` days after they start.

    A plain class, not a dataclass: one is made at every batch, and a dataclass's
    generated ``__init__`` (a frozen one's most of all) cost more than the rest of a
    settle's bookkeeping in the compiled model."""

    def __init__(self, lot: int, count: int, started: float, duration: float) -> None:
        self.lot = lot
        self.count = count
        self.started = started
        self.duration = duration

    def __repr__(self) -> str:
        return (f"Batch(lot={self.lot}, count={self.count}, started={self.started},"
                f" duration={self.duration})")  # fmt: skip

    @property
    def done_at(self) -> float:
        # The same sum SimPy makes for a timeout of ``duration`` started at ``started``.
        return self.started + self.duration


def initial_state(scenario: Scenario, spec: Site) -> SiteState:
    """The site before anything is built, energized or delivered."""
    cooling = {c.name: c for c in scenario.cooling}
    planned = {layer.name: 0.0 for layer in POWER_LAYERS}
    planned["onsite"] = spec.onsite.total_mw if spec.onsite else 0.0
    power = {**{layer.name: 0.0 for layer in POWER_LAYERS}, **dict.fromkeys(ONSITE_KEYS, 0.0)}
    # Gear a site does not model is no constraint: its layer is unlimited from the start.
    plant = spec.onsite
    if spec.substation.switchgear_supply is None:
        power["switchgear"] = math.inf
    if plant is None or plant.turbine_supply is None:
        power["turbines"] = math.inf
    if plant is not None and plant.switchgear_supply is not None:
        power[PLANT_SWITCHGEAR] = 0.0
    halls = []
    for hall in spec.halls:
        kind = cooling[hall.cooling]
        halls.append(
            HallState(
                hall.name, hall.it_mw, kind.name, kind.level, kind.peak_pue, annual_pue=kind.pue
            )
        )
    lots, models = [], []
    for home, index in scenario.hosted_lots(spec):
        lot = home.lots[index]
        model = scenario.gpu(lot.model)
        level = cooling[model.cooling].level
        price = home.economics.gpu_price_usd or model.price_usd
        own = home is spec
        name = lot.name if own else f"{home.name}/{lot.name}"
        lots.append(LotState(name, lot.model, lot.count, model.it_kw, level, price, bound=own))
        models.append(model)
    return SiteState(
        power=power,
        planned=planned,
        existing_mw=spec.interconnection.existing_mw,
        halls=halls,
        lots=lots,
        top_level=max(c.level for c in scenario.cooling),
        max_level=max(lot.level for lot in lots),
        priority=dispatch_order(spec.dispatch, lots, models),
    )


class SiteCore:
    """One site's state, its timeseries and its crews, with ``relaxed`` layers made non-binding.

    With ``rows=False`` it keeps no timeseries, only what the attribution reads:
    idle GPU-hours (:meth:`idle_gpu_hours`) and the power layers tight while GPUs
    were idle (:attr:`power_tight`).
    """

    def __init__(
        self, scenario: Scenario, spec: Site, relaxed: Iterable[Layer] = (), rows: bool = True
    ) -> None:
        self.state = initial_state(scenario, spec)
        self._cooling = {c.name: c for c in scenario.cooling}
        self._relaxed = tuple(sorted(set(relaxed), key=lambda layer: layer.index))
        self._depreciation_days = spec.economics.depreciation_days
        self._rate = spec.installation.rate_per_day
        self._batch = spec.installation.batch
        self.timeseries: list[Snapshot] = []
        self.first_power_at: float | None = None
        self.all_running_at: float | None = None
        self.crew: Batch | None = None  # the batch being installed, if any
        self._fits: list[int] | None = None  # GPUs of each lot that fit the space as it is
        self._rows = rows
        # With installation relaxed the evaluation reads every GPU on site as installed, so
        # what crews do changes no count: without rows to keep, they need not be followed.
        self._crews_matter = rows or INSTALLATION not in self._relaxed
        self._hidden = sum(layer.bit for layer in self._relaxed)
        self._idle_since = (0.0, 0)  # (day, idle GPUs from then on)
        self._idle_hours = 0.0
        self.power_tight = 0  # bits of power layers tight at some instant with idle GPUs
        # What settle() made of each state it met: a Snapshot (its time aside), or with
        # rows=False idle_now's (idle GPUs, tight power layers); shared with every SiteCore
        # in this process with the same constants (_EVALUATED).
        self._context = _context_number(self._constants(rows))
        self._halls_seen = -1  # state.halls_changed when _halls was last read
        self._halls = 0  # the number of the halls' moving parts (see _halls_now)

    def _constants(self, rows: bool) -> tuple[object, ...]:
        """All the evaluation reads of the site that no change moves: with the halls' and
        GPUs' moving parts and the power, it names an evaluated state in _EVALUATED."""
        state = self.state
        lots = tuple((x.name, x.model, x.count, x.kw, x.level, x.price_usd) for x in state.lots)
        return (
            tuple(state.power), tuple(state.planned.items()), state.existing_mw,
            tuple((h.name, h.it_mw) for h in state.halls), lots, state.top_level,
            state.max_level, state.priority, tuple(layer.name for layer in self._relaxed),
            self._depreciation_days, rows,
        )  # fmt: skip

    def _halls_now(self) -> int:
        """The halls' moving parts, read again only after a change to them, as the number
        they are known by (a state's key holds the number: hashing and comparing two dozen
        values at every settle for what changes a few times a run was a tenth of one)."""
        state = self.state
        if self._halls_seen != state.halls_changed:
            self._halls_seen = state.halls_changed
            halls = tuple((h.cooling, h.level, h.pue, h.annual_pue, h.commissioned,
                           h.offline_share) for h in state.halls)  # fmt: skip
            self._halls = _context_number(("halls", halls))
        return self._halls

    # -- changes: made through apply() only, by name, as a tape replays them
    def _set_power(self, layer: str, mw: float) -> None:
        self.state.power[layer] = mw

    def _commission(self, hall: int) -> None:
        self.state.halls[hall].commissioned = True
        self.state.halls_changed += 1

    def _start_retrofit(self, hall: str, offline_share: float) -> None:
        self._hall(hall).offline_share = offline_share
        self.state.halls_changed += 1

    def _complete_retrofit(self, hall: str, cooling: str) -> None:
        state, target = self._hall(hall), self._cooling[cooling]
        state.cooling, state.level, state.pue = target.name, target.level, target.peak_pue
        state.annual_pue = target.pue
        state.offline_share = 0.0
        self.state.halls_changed += 1

    def _deliver(self, lot: int) -> None:
        lot_state = self.state.lots[lot]
        lot_state.on_site = lot_state.count
        lot_state.in_transit = 0
        self._bind(lot, True)

    def _transit(self, lot: int, gpus: int) -> None:
        self.state.lots[lot].in_transit = gpus

    def _bind(self, lot: int, bound: bool) -> None:
        if bound and not self.state.lots[lot].bound:
            # A lot routed here later: "all running" now waits for its GPUs too.
            self.all_running_at = None
        self.state.lots[lot].bound = bound

    def apply(self, method: str, args: tuple[object, ...]) -> None:
        """Make change ``method`` (one of CHANGES) with ``args``."""
        change = _CHANGE_METHODS.get(method)
        if change is None:
            raise ValueError(f"not a change of a site: {method!r}")
        change(self, *args)
        self._fits = None

    def finish_batch(self) -> Batch:
        """The crews' batch is in service."""
        batch = self.crew
        assert batch is not None
        self.state.lots[batch.lot].installed += batch.count
        self.crew = None
        return batch

    # -- the end of an instant --------------------------------------------
    def settle(self, now: float) -> Batch | None:
        """Evaluate the site as the instant leaves it; return the crews' new batch, if any.

        A site often comes back to a state it was in (a block of its plant out and back):
        what the evaluation made of each state is kept, by what it reads of the state.
        """
        state = self.state
        lots = tuple([(lot.on_site, lot.installed, lot.in_transit) for lot in state.lots])
        key = (self._context, tuple(state.power.values()), self._halls_now(), lots)
        entry = _EVALUATED.get(key)
        view = None
        if entry is not None:
            known: Any = entry[0]
            entry[1] = next(_LOOKUPS)  # the most recently used: the last to be forgotten
        else:
            view = view_of(state, self._relaxed)
            if self._rows:
                known = evaluate(now, state, self._relaxed, self._depreciation_days, view)
            else:
                known = idle_now(view, self._hidden)
            if len(_EVALUATED) >= _STATES_KEPT:
                _forget_least_recent()
            _EVALUATED[key] = [known, next(_LOOKUPS)]
        if self._rows:
            self._keep_row(now, _NEW(Snapshot, (now, *known[1:])))
        else:
            self._count_idle(now, known)
        if self.crew is not None or not self._crews_matter:
            return None
        if self._fits is None:
            # What fits moves only with a change (a finished batch moves no space): the
            # GPUs on site placed as the evaluation places them, lot by lot in the dispatch
            # order, whatever is installed already. So crews never install more than the
            # halls hold, and GPUs installed earlier never keep out a lot that comes first
            # in that order (the evaluation gives it their place).
            view = view or view_of(state, self._relaxed)
            loads = [_NEW(LotLoad, (lot.on_site, lot.kw, lot.level)) for lot in view.lots]
            self._fits = place(loads, ready_space(view), order=dispatch(view))
        lot, count = self._next_batch()
        if count == 0:
            return None
        self.crew = Batch(lot, count, now, count / self._rate)
        return self.crew

    def idle_gpu_hours(self, horizon: float) -> float:
        """Idle GPU-hours up to ``horizon`` (with ``rows=False``; else read the timeseries)."""
        since, idle = self._idle_since
        return self._idle_hours + idle * (horizon - since) * HOURS_PER_DAY

    def _count_idle(self, now: float, evaluated: tuple[int, int]) -> None:
        since, idle = self._idle_since
        if idle:
            self._idle_hours += idle * (now - since) * HOURS_PER_DAY
        idle, tight = evaluated  # idle_now's: idle GPUs and the power layers tight
        self._idle_since = (now, idle)
        self.power_tight |= tight

    def _keep_row(self, now: float, snap: Snapshot) -> None:
        rows = self.timeseries
        if not rows or rows[-1][1:] != snap[1:]:
            if rows and rows[-1].time_days == now:
                rows[-1] = snap
                if len(rows) > 1 and rows[-2][1:] == snap[1:]:
                    rows.pop()
            else:
                rows.append(snap)
        if self.first_power_at is None and snap.power_mw > 0:
            self.first_power_at = now
        if (
            self.all_running_at is None
            and snap.gpus_idle == 0
            and snap.gpus_running > 0
            and snap.gpus_running == sum(lot.count for lot in self.state.lots if lot.bound)
        ):
            self.all_running_at = now

    def _next_batch(self) -> tuple[int, int]:
        """(lot, GPUs) of the next batch that fits commissioned, fitting space; GPUs 0 if none."""
        lots = self.state.lots  # as they are: relaxed installation still has crews at work
        assert self._fits is not None
        # Crews bring in first the GPUs power goes to first (the dispatch order): a GPU
        # that would sit unpowered must not hold up one that would run.
        for index in self.state.priority or power_order([lot.kw for lot in lots]):
            lot = lots[index]
            room = min(self._fits[index], lot.on_site) - lot.installed
            if room > 0:
                return index, min(self._batch, room)
        return 0, 0

    def _hall(self, name: str) -> HallState:
        return next(h for h in self.state.halls if h.name == name)

    @property
    def lots(self) -> Sequence[LotState]:
        return self.state.lots


# Each change's method by name, looked up once (not by getattr at every change).
_CHANGE_METHODS: dict[str, Any] = {name: getattr(SiteCore, f"_{name}") for name in CHANGES}


def replay(core: SiteCore, tape: Sequence[Change], horizon: float) -> SiteCore:
    """Run ``core`` through ``tape`` to the horizon: what the site would have done under it.

    Instants come in time order, each with all its changes (and a finishing
    batch) before one settle, as in the simulation; nothing at the horizon runs.
    """
    position, now = 0, 0.0
    while now < horizon:
        while position < len(tape) and tape[position][0] == now:
            _, method, args = tape[position]
            core.apply(method, args)
            position += 1
        if core.crew is not None and core.crew.done_at == now:
            core.finish_batch()
        core.settle(now)
        next_change = tape[position][0] if position < len(tape) else math.inf
        now = min(next_change, core.crew.done_at if core.crew is not None else math.inf)
    return core
