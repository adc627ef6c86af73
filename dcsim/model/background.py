"""A serial region's background requests, drawn ahead as arrays from the region's own stream.

The draws are those a request-at-a-time queue makes, in the same order: the initial
backlog's requests (each its size, then its plan's uniforms), then for each arrival the
gap before it, its size and its plan. Drawn in blocks of requests
(``rng.random(n)`` is ``n`` calls of ``rng.random()``), turned into samples by each
distribution's :meth:`quantiles`, to the last bit what one draw at a time gives.

What a request will do in its studies follows from its plan alone, whatever its wait:
how long each phase takes, the phase it withdraws at (if any), and — if it stays —
how long after its study ends it signs. So is the earliest it can sign: had it
started at once (:meth:`BackgroundDraws.next_after`), which tells the queue how long it
may leave the request untaken without missing its agreement.
"""

from __future__ import annotations

import math

import numpy as np

from dcsim.input.distributions import log1p_each
from dcsim.input.spec import Region
from dcsim.model.grid_request import RequestPlan

_new_row = tuple.__new__
_FIRST_BLOCK = 256
_LARGEST_BLOCK = 4096


class BackgroundDraws:
    """Background requests of one region, in arrival order, drawn as far as asked for.

    Lists (for the queue's loop over requests) and arrays (for its rows) of the same
    values, index ``k`` for the request numbered ``k + 1``.
    """

    def __init__(
        self, spec: Region, rng: np.random.Generator, opens: float, until: float = math.inf
    ) -> None:
        """``until``: the end of the run, if known, so that the draws stop about there."""
        self.spec = spec
        self.rng = rng
        self._plan_width = RequestPlan.draws(spec)
        self._mean_gap = 1.0 / spec.background_rate if spec.background_rate > 0 else math.inf
        self._until = until
        self._block = _FIRST_BLOCK
        self.times: list[float] = []  # arrival
        self.runs: list[list[float]] = []  # the durations of its phases, each one
        self.through: list[int] = []  # ... of which it goes through the first this many
        self.agreement: list[float] = []  # days from its study's end to signing
        self.stays: list[bool] = []  # not withdrawn in its studies
        self.mw: list[float] = []
        # The rest of each plan (read when a request signs, about two in five)
        self._upgrade: list[float] = []
        self._energization: list[float] = []
        self._after_agreement: list[float] = []
        self.earliest_after: list[float] = []  # the least earliest signing day from here on
        self._arrays: dict[str, list[np.ndarray]] = {key: [] for key in _ARRAYS}
        self._last = opens  # when the last request drawn arrived
        self.exhausted = spec.background_rate <= 0  # no arrivals after those drawn
        if spec.initial_backlog:
            u = rng.random(spec.initial_backlog * (1 + self._plan_width))
            block = u.reshape(spec.initial_backlog, 1 + self._plan_width)
            self._add(np.full(spec.initial_backlog, opens), block[:, 0], block[:, 1:])

    def __len__(self) -> int:
        return len(self.times)

    def array(self, key: str) -> np.ndarray:
        """All drawn so far of ``key`` (one of _ARRAYS) as one array (once any is drawn)."""
        parts = self._arrays[key]
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        return parts[0]

    def draw_past(self, when: float) -> None:
        """Draw requests until one arrives after ``when`` (or no more arrive)."""
        width = 2 + self._plan_width
        while not self.exhausted and self._last <= when:
            count = self._next_count()
            block = self.rng.random(count * width).reshape(count, width)
            # t_k = t_(k-1) + gap_k, as a chain of timeouts adds them; cumsum adds in order.
            gaps = -self._mean_gap * log1p_each(-block[:, 0])
            times = np.cumsum(np.concatenate(([self._last], gaps)))[1:]
            self._add(times, block[:, 1], block[:, 2:])
            self._last = float(times[-1])

    def _next_count(self) -> int:
        """Requests to draw next: those expected before the end of the run (with room for
        chance), if it is known; otherwise twice as many as last time."""
        expected = (self._until - self._last) / self._mean_gap
        if math.isfinite(expected):
            return max(_FIRST_BLOCK // 4, int(expected + 4 * math.sqrt(max(expected, 1.0))) + 1)
        count, self._block = self._block, min(2 * self._block, _LARGEST_BLOCK)
        return count

    def next_after(self, index: int) -> float:
        """The earliest day a request from ``index`` on (drawn or not) may sign."""
        drawn = self.earliest_after[index] if index < len(self.times) else math.inf
        return drawn if self.exhausted else min(drawn, self._last)

    def _add(self, times: np.ndarray, size_u: np.ndarray, plan_u: np.ndarray) -> None:
        spec, count = self.spec, len(times)
        phases = spec.phases
        durations = np.empty((count, len(phases)))
        withdraws = np.zeros((count, len(phases)), dtype=bool)
        for index, phase in enumerate(phases):
            durations[:, index] = phase.duration.quantiles(plan_u[:, index])
            if phase.withdrawal > 0:
                withdraws[:, index] = plan_u[:, len(phases) + index] < phase.withdrawal
        # A request goes through its phases up to the first it withdraws at, that one too.
        withdrawn = np.asarray(withdraws.any(axis=1))
        through = np.where(withdrawn, withdraws.argmax(axis=1) + 1, len(phases))
        agreement = spec.agreement_time.quantiles(plan_u[:, -3])
        # Its agreement had it started on arrival, by the same additions the queue makes
        # (rounding is monotone, so a later start never signs earlier than this).
        end = phase_ends(times, durations, through)[-1]
        earliest = np.where(withdrawn, math.inf, times + ((end + agreement) - times))
        self.times += times.tolist()
        self.runs += durations.tolist()
        self.through += through.tolist()
        self.agreement += agreement.tolist()
        self.stays += [not gone for gone in withdrawn.tolist()]
        mw = spec.background_size.quantiles(size_u)
        self.mw += mw.tolist()
        # Lists, not arrays: a plan is read one request at a time (see plan).
        self._upgrade += spec.network_upgrade_time.quantiles(plan_u[:, -4]).tolist()
        self._energization += spec.energization_time.quantiles(plan_u[:, -2]).tolist()
        self._after_agreement += plan_u[:, -1].tolist()
        columns: dict[str, np.ndarray] = {
            "time": times,
            "mw": mw,
            "durations": durations,
            "through": through,
            "withdrawn": withdrawn,
            "withdrawal_draws": plan_u[:, len(phases) : 2 * len(phases)],
        }
        for key, value in columns.items():
            self._arrays[key].append(value)
        # The least earliest agreement from each request on: the drawn ones' suffix minima.
        known = np.concatenate([np.asarray(self.earliest_after[: len(self.times) - count]),
                                earliest]) if self.earliest_after else earliest  # fmt: skip
        self.earliest_after = np.minimum.accumulate(known[::-1])[::-1].tolist()

    def plan(self, index: int) -> RequestPlan:
        """The plan of request ``index``, one that stays through its studies, as
        :meth:`RequestPlan.of_uniforms` would make it."""
        assert self.stays[index]  # it goes through every phase
        return _new_row(
            RequestPlan,
            (  # NamedTuple without its Python-level __new__
                tuple(self.runs[index]),
                tuple(self.array("withdrawal_draws")[index].tolist()),  # a row: few sign
                self._upgrade[index],
                self.agreement[index],
                self._energization[index],
                self._after_agreement[index],
            ),
        )


def phase_ends(start: np.ndarray, durations: np.ndarray, through: np.ndarray) -> list[np.ndarray]:
    """When each phase ends for requests whose studies start at ``start``, by the additions
    the queue makes one request at a time (start + first, + second, ...); a phase a request
    does not go through (after ``through``) ends when the one before it did."""
    ends, end = [], start
    for index in range(durations.shape[1]):
        end = np.where(index < through, end + durations[:, index], end)
        ends.append(end)
    return ends or [start]


_ARRAYS = ("time", "mw", "durations", "through", "withdrawn", "withdrawal_draws")
