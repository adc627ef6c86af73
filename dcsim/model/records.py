"""One record per site and replication: the summary's columns, defined once.

Simulation fills it, and statistics, compare and export read their column
names from it, so no summary key is spelled twice. The idle GPU-hours by
layer become one column per layer (``idle_gpu_hours_grid``, ...) in
:data:`~dcsim.model.layers.LAYERS` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from dcsim.model.layers import LAYERS

_BY_LAYER = tuple(layer.idle_column for layer in LAYERS)


def _kpi(date: str = "") -> dict[str, object]:
    """Field metadata: a key figure that compare reports; ``date`` names its date column."""
    return {"kpi": True, "date": date}


@dataclass(frozen=True)
class SiteRecord:
    site: str
    gpus_contracted: int
    gpus_delivered: int
    idle_gpu_hours: float = field(metadata=_kpi())
    idle_by_layer: tuple[float, ...] = field(metadata=_kpi())  # aligned with LAYERS
    idle_cost_usd: float = field(metadata=_kpi())
    # Days from the start; NaN when not reached within the horizon (so are those below).
    first_power_days: float = field(metadata=_kpi(date="first_power_date"))
    all_running_days: float = field(metadata=_kpi(date="all_running_date"))
    gpus_idle_at_horizon: int = field(metadata=_kpi())
    queue_wait_days: float  # request to study start
    upgrade_wait_days: float  # agreement to an upgrade crew (or another's spare); 0 if none
    request_to_agreement_days: float
    request_to_energization_days: float = field(metadata=_kpi())  # to the first MW energized
    request_to_firm_service_days: float = field(metadata=_kpi())  # to all of it, energized, firm
    grid_curtailed_mwh: float = field(metadata=_kpi())  # non-firm service curtailed (flexible)
    transformer_lead_time_days: float = field(metadata=_kpi())  # mean order -> delivery
    switchgear_lead_time_days: float = field(metadata=_kpi())  # substation and plant; NaN: none
    turbine_lead_time_days: float = field(metadata=_kpi())  # the on-site plant's; NaN: none
    gpu_lead_time_days: float = field(metadata=_kpi())  # lots ordered from a supply; NaN: none
    gpu_hours_running: float = field(metadata=_kpi())  # compute delivered by the horizon
    # Pooled GPUs on their way to (or held by the fleet for) the site: not idle on site, but
    # in idle_cost_usd and lost_value_usd.
    gpu_hours_in_transit: float = field(metadata=_kpi())
    lost_value_usd: float = field(metadata=_kpi())  # idle (and in-transit) GPU-hours x value
    # IT MW powered and ready with no GPU running in it, integrated (MWh), and by cause.
    stranded_power_mwh: float = field(metadata=_kpi())
    stranded_power_mwh_no_gpus: float
    stranded_power_mwh_not_installed: float
    stranded_power_mwh_cooling: float
    # On-site generation used by the running GPUs (facility MWh, at peak PUE), and its cost.
    onsite_energy_mwh: float = field(metadata=_kpi())
    onsite_cost_usd: float = field(metadata=_kpi())

    @staticmethod
    def columns() -> tuple[str, ...]:
        """The summary columns, in order (the per-layer split where idle_by_layer is)."""
        names: list[str] = []
        for item in fields(SiteRecord):
            names.extend(_BY_LAYER if item.name == "idle_by_layer" else (item.name,))
        return tuple(names)

    @staticmethod
    def kpis() -> tuple[str, ...]:
        """The key figures compare reports, in column order."""
        return tuple(
            name
            for item in fields(SiteRecord)
            if item.metadata.get("kpi")
            for name in (_BY_LAYER if item.name == "idle_by_layer" else (item.name,))
        )

    @staticmethod
    def date_columns() -> dict[str, str]:
        """Day columns that the summary also shows as dates: {days column: date column}."""
        return {
            f.name: str(f.metadata["date"]) for f in fields(SiteRecord) if f.metadata.get("date")
        }

    @staticmethod
    def metrics() -> tuple[str, ...]:
        """The numeric columns that statistics summarise across replications."""
        return SiteRecord.columns()[1:]

    def row(self) -> tuple[object, ...]:
        values: list[object] = []
        for item in fields(self):
            value = getattr(self, item.name)
            values.extend(value if item.name == "idle_by_layer" else (value,))
        return tuple(values)

    def __getitem__(self, column: str) -> object:
        """A column by name, as the summary table has it (``record["idle_gpu_hours_grid"]``)."""
        return dict(zip(self.columns(), self.row(), strict=True))[column]
