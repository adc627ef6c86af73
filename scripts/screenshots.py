"""Make the README's screenshots again: the first screen of each kind of report.

    python3 scripts/screenshots.py [--reps 10] [--out docs/screenshots]

Runs ashburn (run, compare, cascade, sweep, attribute) into a temporary folder, asks
``dcsim report --screenshot`` for each first screen (headless Chromium), and keeps
them small: 975 x 675 pixels, 64 colours. Nothing in the output folder is replaced
unless every screenshot was made.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SITE = str(ROOT / "sites" / "ashburn.toml")
# The sweep's values change when ashburn's grid comes, so the panels differ.
COMMANDS = {
    "run": ["run", SITE],
    "compare": ["compare", SITE, "--variant", "interim-service", "--set",
                "sites.ashburn.interconnection.interim_service=true", "--variant",
                "more-upgrade-crews", "--set", "regions.dominion.upgrade_crews=12"],
    "cascade": ["cascade", SITE],
    "sweep": ["sweep", SITE, "--grid", "regions.dominion.upgrade_crews=6,12",
              "--grid", "sites.ashburn.interconnection.interim_service=false,true"],
    "attribute": ["attribute", SITE, "--site", "ashburn"],
}  # fmt: skip
SIZE = (975, 675)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        made = {}
        for name, command in COMMANDS.items():
            folder = Path(scratch) / name
            dcsim = [sys.executable, "-m", "dcsim"]
            for step in (
                [*command, "--reps", str(args.reps), "--quiet", "--out", str(folder)],
                ["report", str(folder), "--force", "--screenshot"],
            ):
                done = subprocess.run([*dcsim, *step], cwd=ROOT, capture_output=True, text=True)
                if done.returncode != 0:
                    print(f"screenshots: {' '.join(step[:2])} failed:\n{done.stderr}",
                          file=sys.stderr)  # fmt: skip
                    return 1
            with Image.open(folder / "report.png") as shot:
                small = shot.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
            picture = Path(scratch) / f"{name}.png"
            small.quantize(64).save(picture, optimize=True)
            made[name] = picture
        args.out.mkdir(parents=True, exist_ok=True)
        for name, picture in made.items():
            shutil.copyfile(picture, args.out / f"{name}.png")
            print(f"wrote {args.out / (name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
