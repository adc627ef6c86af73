from pathlib import Path

import pytest

from dcsim.input.dump import to_toml
from dcsim.input.load import load

SITES = Path(__file__).resolve().parent.parent / "sites"
BUNDLED = sorted(SITES.glob("*.toml"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_file_loads_and_dump_round_trips(path: Path, tmp_path: Path) -> None:
    scenario = load(path)
    assert scenario.sites
    dumped = tmp_path / "dump.toml"
    dumped.write_text(to_toml(scenario))
    assert load(dumped) == scenario
