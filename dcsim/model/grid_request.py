"""A request for load service, and every draw it will need (taken when it is submitted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import simpy

from dcsim.input.spec import Region, Tranche
from dcsim.model.service import Service

_new_row = tuple.__new__


class RequestPlan(NamedTuple):
    """Every draw a request will need, taken when it is submitted.

    Drawing up front in a fixed order keeps the k-th request's randomness the
    same whatever happens around it in the queue, which is what common random
    numbers need.
    """

    phase_durations: tuple[float, ...]
    withdrawal_draws: tuple[float, ...]
    network_upgrade: float
    agreement: float
    energization: float
    withdrawal_after_agreement: float  # uniform, compared with the region's share

    @staticmethod
    def draw(spec: Region, rng: np.random.Generator) -> RequestPlan:
        # One vector of uniforms: the same numbers as one draw at a time, fewer calls.
        return RequestPlan.of_uniforms(spec, rng.random(RequestPlan.draws(spec)).tolist())

    @staticmethod
    def draws(spec: Region) -> int:
        """Uniforms a plan takes in ``spec``'s region."""
        return 2 * len(spec.phases) + 4

    @staticmethod
    def of_uniforms(spec: Region, u: list[float]) -> RequestPlan:
        """The plan of ``draws(spec)`` uniforms, each turned into a sample by its
        distribution's inverse CDF."""
        phases = spec.phases
        count = len(phases)
        return _new_row(
            RequestPlan,
            (  # NamedTuple without its Python-level __new__
                tuple([p.duration.quantile(x) for p, x in zip(phases, u, strict=False)]),
                tuple(u[count : 2 * count]),
                spec.network_upgrade_time.quantile(u[-4]),
                spec.agreement_time.quantile(u[-3]),
                spec.energization_time.quantile(u[-2]),
                u[-1],
            ),
        )


class GridRequest:
    """One request for load service. Sites watch its events; background ones only log.

    A plain class, not a dataclass: every background request that signs makes one, and
    a dataclass's generated ``__init__`` cost several times this one in the compiled
    model. The arguments are the fields the dataclass had, in its order.
    """

    def __init__(
        self,
        ident: str,
        site: str,  # site name, or the region's name for background requests
        mw: float,
        tranches: tuple[Tranche, ...],
        rng: np.random.Generator,  # where this request's plan is drawn from
        background: bool = False,
        plan: RequestPlan | None = None,
        submitted: float = 0.0,
        agreement: simpy.Event | None = None,  # succeeds when the agreement is signed
        on_energized: Callable[[float], None] | None = None,
        withdrawn: bool = False,
        study_started_at: float | None = None,
        upgrade_wait: float | None = None,  # days in the upgrade line (0 if it never waited)
        line_joined_at: float = 0.0,
        need: float = 0.0,  # MW still waiting for firm capacity (all, unless interim service)
        interim: bool = False,  # take the headroom there is (at agreement, then as it frees)
        on_headroom: Callable[[float], None] | None = None,  # interim MW taken (queue's hook)
        flexible_curtailment: float | None = None,  # share curtailed while non-firm; None: no
        ramp: float | None = None,  # MW a day the load may grow once energized; None: at once
        service: Service | None = None,  # a site's grants and what is energized, after agreement
    ) -> None:
        self.ident = ident
        self.site = site
        self.mw = mw
        self.tranches = tranches
        self.rng = rng
        self.background = background
        self.plan = plan
        self.submitted = submitted
        self.agreement = agreement
        self.on_energized = on_energized
        self.withdrawn = withdrawn
        self.study_started_at = study_started_at
        self.upgrade_wait = upgrade_wait
        self.line_joined_at = line_joined_at
        self.need = need
        self.interim = interim
        self.on_headroom = on_headroom
        self.flexible_curtailment = flexible_curtailment
        self.ramp = ramp
        self.service = service

    def __repr__(self) -> str:
        return f"GridRequest({self.ident!r}, {self.mw:g} MW)"
