"""dcsim compare's arguments: FILE --variant NAME [--set K=V ...] | --variant NAME=FILE."""

from __future__ import annotations

from pathlib import Path

from dcsim.errors import DcsimError

Variant = tuple[str, list[str], Path | None]


def parse_variants(tokens: tuple[str, ...]) -> tuple[Path, list[Variant]]:
    """FILE --variant NAME [--set K=V ...] | --variant NAME=FILE ... into (file, variants)."""
    items = list(tokens)
    if not items or items[0].startswith("-"):
        raise DcsimError(
            "dcsim compare: give the base FILE first, then --variant NAME"
            " --set KEY=VALUE ... (or --variant NAME=OTHER_FILE)."
        )
    base = Path(items.pop(0))
    variants: list[Variant] = []
    while items:
        flag = items.pop(0)
        if flag in ("--variant", "--set") and not items:
            raise DcsimError(f"dcsim compare: {flag} needs a value.")
        if flag == "--variant":
            name, _, path = items.pop(0).partition("=")
            if not name or any(name == v[0] for v in variants):
                raise DcsimError(f"dcsim compare: variant name {name!r} is empty or repeated.")
            variants.append((name, [], Path(path) if path else None))
        elif flag == "--set":
            if not variants:
                raise DcsimError("dcsim compare: --set must follow a --variant NAME.")
            variants[-1][1].append(items.pop(0))
        else:
            raise DcsimError(f"dcsim compare: unexpected {flag!r}; expected --variant or --set.")
    if not variants:
        raise DcsimError("dcsim compare: name at least one --variant.")
    for label, changes, other in variants:
        if not changes and other is None:
            raise DcsimError(
                f"dcsim compare: --variant {label} changes nothing; give it --set KEY=VALUE"
                f" or a file (--variant {label}=OTHER_FILE)."
            )
    return base, variants


VARIANT_HELP = """
\b
Variants (after FILE, in order; each --set applies to the --variant before it):
  --variant NAME           a variant of FILE ...
  --set KEY=VALUE          ... with this dotted key changed (repeatable;
                           quote a value with spaces: --set "KEY=3000 MW")
  --variant NAME=FILE      or a whole other site or scenario file
"""


def variant_record(sets: list[str], path: Path | None) -> object:
    """What run.json keeps of a --variant: its --set lines; a file's path; or a file and
    the --set lines given on top of it ({"file": ..., "set": [...]})."""
    if path is None:
        return sets
    return {"file": str(path), "set": sets} if sets else str(path)
