"""The printed tables: columns that fit long names, units in the headers, dates in years
(never "1.96k" days), the cascade in removal order, and clean wrapping at the terminal's
width (nothing cut, no line wider than the terminal)."""

from __future__ import annotations

import pytest

import dcsim
from dcsim.experiments.cascade import NEAR_ZERO
from dcsim.output import terminal
from dcsim.output.tables import cascade_text, compare_text
from tests.support import ASHBURN, SITES

LONG = "interim-service-during-the-upgrade"


@pytest.fixture(scope="module")
def compared() -> object:
    spec = dcsim.load(ASHBURN)
    return dcsim.compare(spec, {LONG: {"sites.ashburn.interconnection.interim_service": True},
                                "crews": {"regions.dominion.upgrade_crews": 12}},
                         years=6, replications=2, workers=1)  # fmt: skip


def _rows(text: str) -> list[str]:
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    end = next((i for i in range(rule + 1, len(lines)) if lines[i].startswith("*")), len(lines))
    return lines[rule - 1 : min(end, rule + 1 + 8)]  # the header, the rule, then rows


def test_a_long_variant_name_widens_its_column_and_keeps_the_others_aligned(
    compared: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terminal, "width", lambda: terminal.UNBOUNDED)  # a pipe
    text = compare_text(compared)  # type: ignore[arg-type]
    body = [line for line in _rows(text)[2:] if line.strip()]
    assert any(line.startswith(LONG) for line in body), text
    # Every row's site column starts at the same place, however long the variant's name.
    starts = {line.index("ashburn") for line in body}
    assert len(starts) == 1, text
    header = _rows(text)[0]
    assert "pairs" in header and "variant − base (95% CI)" in header
    # Durations in years, never as thousands of days.
    assert "first power (years from start)" in text and " yr" in text
    assert not any(line.split()[-1].endswith("k") for line in body if "years" in line)


@pytest.mark.parametrize("columns", [100, 120])
def test_a_narrow_terminal_wraps_cells_and_cuts_nothing(
    compared: object, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setattr(terminal, "width", lambda: terminal.UNBOUNDED)
    whole = compare_text(compared)  # type: ignore[arg-type]
    monkeypatch.setattr(terminal, "width", lambda: columns)  # a terminal
    text = compare_text(compared)  # type: ignore[arg-type]
    notes = ("*", "levers")  # sentences after the tables, left to the terminal to wrap
    tables = [line for line in text.splitlines() if not line.startswith(notes)]
    assert max(len(line) for line in whole.splitlines()) > columns, "the table needs wrapping"
    assert all(len(line) <= columns for line in tables), max(tables, key=len)
    assert "…" not in text, "a cell was cut short"

    # Every word of every cell is still there, only on more lines.
    def words(printed: str) -> list[str]:
        return sorted(w for w in printed.split() if not w.startswith("─"))  # rules differ

    assert words(whole) == words(text)


def test_a_terminal_too_narrow_for_any_table_gets_one_record_per_row(
    compared: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terminal, "width", lambda: 50)
    text = compare_text(compared)  # type: ignore[arg-type]
    records = text.split("\n* = ")[0].splitlines()
    assert all(len(line) <= 50 for line in records), max(records, key=len)
    assert f"variant: {LONG}" in records and "  metric: idle GPU-hours" in records
    assert "…" not in text


def test_the_cascade_prints_the_layers_in_the_order_they_were_removed() -> None:
    spec = dcsim.load(ASHBURN)
    table = dcsim.cascade(spec, replications=2, workers=1)
    text = cascade_text(table)
    removed = [str(layer) for layer in table["layer_removed"] if layer != "-"]
    assert len(removed) >= 3, "ashburn's cascade removes several layers"
    assert " → ".join(removed) in text
    assert " → ".join(sorted(removed)) not in text or removed == sorted(removed)
    assert "idle cost (USD)" in text and "idle GPU-hours (95% CI)" in text
    # It ends either with nothing left idle or with a line saying why it stopped.
    last = table.iloc[-1]
    if last["binds_next"] != "-":
        left = last["idle_gpu_hours_mean"] / table["idle_gpu_hours_mean"].iloc[0]
        assert left <= NEAR_ZERO and f"stopped: {left:.1%}" in text, text
    else:
        assert "stopped:" not in text


def test_the_run_table_counts_gpus_whole_as_the_report_does() -> None:
    # "GPUs on site 47,000", as the report's first screen prints GPUs delivered, not "47.00k".
    from dcsim.output.tables import site_table

    result = dcsim.run(dcsim.load(SITES / "columbus.toml"), years=3, replications=2, workers=1)
    delivered = int(result.summary["gpus_delivered"].mean())
    row = next(line for line in site_table(result).splitlines() if line.startswith("columbus"))
    assert f" {delivered:,} " in row, row
