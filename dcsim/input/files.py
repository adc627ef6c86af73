"""Files to one resolved document: includes followed, catalog merged, overrides applied.

The resolved document is a plain dict with the same shape ``--dump`` writes::

    {"scenario": {...}, "sites": {name: {...}}, "gpus": {...}, "cooling": {...},
     "regions": {...}, "transformer_supplies": {...}, "switchgear_supplies": {...},
     "turbine_supplies": {...}, "gpu_supplies": {...}}

Alongside it, :class:`Origins` remembers which file each part came from, so an
error found later still names the file the user has to open.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dcsim.errors import SpecError
from dcsim.input.dotted_keys import Origins, apply_override
from dcsim.input.limits import FILE_BYTES, INCLUDES, NESTING
from dcsim.input.toml_table import suggest

CATALOG_SECTIONS = (
    "gpus", "cooling", "regions", "transformer_supplies", "switchgear_supplies",
    "turbine_supplies", "gpu_supplies",
)  # fmt: skip
SCENARIO_SECTIONS = ("scenario", "sites", "overrides", *CATALOG_SECTIONS)


def bundled_sites_dir() -> Path:
    """The ``sites/`` folder shipped with dcsim (repository checkout or installed wheel)."""
    package = Path(__file__).resolve().parent.parent  # dcsim/
    for candidate in (package / "_bundled_sites", package.parent / "sites"):
        if (candidate / "catalog").is_dir():
            return candidate
    raise SpecError(
        "dcsim's bundled sites/catalog folder is missing from this installation;"
        ' reinstall dcsim or name a catalog folder with catalog = "...".'
    )


def _probe(path: Path) -> str:
    """'file', 'folder', 'special' (device, FIFO, socket) or 'missing'.

    A path the OS cannot even look up counts as missing. Links are followed:
    what counts is what they point to.
    """
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # missing, name too long, embedded NUL byte, ...
        return "missing"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return path.absolute()


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    kind = _probe(path)
    if kind == "missing":
        raise SpecError(
            f"{path}: no such {what}. Check the path (it is read relative to the"
            " current folder, or to the including file for includes)."
        )
    if kind == "folder":
        raise SpecError(f"{path}: is a folder; expected a TOML {what}.")
    if kind == "special":
        raise SpecError(
            f"{path}: is not a regular file (a device, pipe or socket); expected a TOML {what}."
        )
    try:
        # Open without blocking (a FIFO swapped in after the check must not hang us), then
        # read one byte past the limit to know whether the file is too large.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
            raw = handle.read(FILE_BYTES.most + 1) if regular else b""
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read: {exc}.") from None
    if not regular:
        raise SpecError(f"{path}: is not a regular file; expected a TOML {what}.")
    if len(raw) > FILE_BYTES.most:
        raise SpecError(
            f"{path}: is larger than {FILE_BYTES.most:,} bytes; a TOML {what} is far"
            " smaller. Is this the right file?"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: cannot be read: {exc}.") from None
    dots = _longest_dotted_key(text)
    if dots >= NESTING.most:
        raise SpecError(
            f"{path}: holds a dotted key {dots + 1} levels deep; at most {NESTING.most}"
            " are accepted (a dotted key counts one level per dot)."
        )
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise SpecError(
            f"{path}: nests tables or arrays too deeply to read (at most {NESTING.most} levels)."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"{path}: not valid TOML: {exc}. Fix the syntax at that line"
            " (strings need quotes; dates are written YYYY-MM-DD without)."
        ) from None
    except ValueError:  # tomllib turning a number of thousands of digits into an int
        raise SpecError(
            f"{path}: holds a number too long to read (thousands of digits); no value"
            " in a site file needs more than a few."
        ) from None
    depth = _depth(data)
    if depth > NESTING.most:
        raise SpecError(
            f"{path}: nests tables or arrays {depth} levels deep; at most {NESTING.most}"
            " are accepted (a dotted key counts one level per dot)."
        )
    return data


# Words joined by dots. Matches start only at the start of a word and never backtrack
# (possessive), so the scan is linear even over a megabyte of one word.
_DOTTED = re.compile(r"(?<![\w-])(?:[\w-]++[ \t]*+\.[ \t]*+)++")


def _longest_dotted_key(text: str) -> int:
    """The most dots in a run of dotted words (tomllib is slow on very deep dotted keys)."""
    return max((match.group().count(".") for match in _DOTTED.finditer(text)), default=0)


def _depth(value: object) -> int:
    """How deeply tables and arrays nest in ``value``, without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[object] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > NESTING.most:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def is_scenario(data: dict[str, Any]) -> bool:
    return "scenario" in data


def resolve(
    path: Path | str, overrides: Iterable[tuple[str, object]] = ()
) -> tuple[dict[str, Any], Origins]:
    """Read ``path`` (a site or a scenario file) into one resolved document."""
    path = Path(path)
    origins = Origins(str(path))
    doc: dict[str, Any] = {"scenario": {}, "sites": {}}
    for section in CATALOG_SECTIONS:
        doc[section] = {}
    file_overrides: list[tuple[str, object, str]] = []
    catalog_setting = _gather(path, doc, origins, file_overrides, stack=(), seen={})
    _merge_catalog(doc, origins, catalog_setting, path)
    for key, value, source in file_overrides:
        apply_override(doc, key, value, source, origins)
    for key, value in overrides:
        apply_override(doc, key, value, "--set", origins)
    return doc, origins


def _gather(
    path: Path,
    doc: dict[str, Any],
    origins: Origins,
    overrides: list[tuple[str, object, str]],
    stack: tuple[Path, ...],
    seen: dict[Path, tuple[bool, object]],
    expect: str = "any",
    via: tuple[str, str, str] | None = None,
) -> object:
    """Fold ``path`` and what it includes into ``doc``; return its catalog setting.

    ``via`` is (including file, dotted key, value written) when ``path`` is named
    by another file, so that a bad include is reported where it is written.
    ``seen`` holds the files already folded (whether each is a scenario, and its
    catalog setting): a file included twice is read once.
    """
    what = {"site": "site file", "scenario": "scenario file"}.get(expect, "file")

    def refuse(expected: str, hint: str = "") -> SpecError:
        if via is None:
            return SpecError(f"{path}: {expected}. {hint}".rstrip())
        return SpecError.at(via[0], via[1], via[2], expected, hint)

    resolved = _resolved(path)
    if resolved in stack:
        chain = " -> ".join(str(p) for p in (*stack, resolved))
        raise refuse(
            f"a file that does not include itself ({chain})", "Remove the circular include."
        )
    if len(stack) >= INCLUDES.most:
        raise refuse(f"includes nested at most {INCLUDES.most} deep")
    if resolved in seen and seen[resolved][0] == (expect == "scenario"):
        return seen[resolved][1]
    kind = _probe(path)
    if via is not None and kind != "file":
        raise refuse(
            f"the path of an existing {what}, relative to {via[0]}"
            f" ({path} {'is a folder' if kind == 'folder' else 'does not exist'})"
        )
    data = read_toml(path, what)
    source = str(path)
    if expect == "site" and is_scenario(data):
        raise refuse(
            f"a site file ({path} is a scenario file)",
            "List scenario files under scenario.include instead.",
        )
    if expect == "scenario" and not is_scenario(data):
        raise refuse(
            f"a scenario file ({path} is a site file)",
            "List site files under scenario.sites instead.",
        )
    if not is_scenario(data):
        _add_site(doc, data, source, origins, key_hint=path.stem)
        seen[resolved] = (False, _relative(data.get("catalog", _DEFAULT), path))
        return seen[resolved][1]

    unknown = [k for k in data if k not in SCENARIO_SECTIONS]
    if unknown:
        raise SpecError.at(
            source,
            unknown[0],
            "<an unknown section>",
            "one of " + ", ".join(SCENARIO_SECTIONS),
            suggest(unknown[0], SCENARIO_SECTIONS),
        )
    scenario = data["scenario"]
    if not isinstance(scenario, dict):
        raise SpecError.at(source, "scenario", scenario, "a table")
    scenario = dict(scenario)
    stack = (*stack, resolved)
    catalog_setting = scenario.pop("catalog", _DEFAULT)
    for key in ("include", "sites"):
        names = scenario.pop(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SpecError.at(source, f"scenario.{key}", names, "a list of file paths")
        for index, name in enumerate(names):
            child = path.parent / name
            expect = "site" if key == "sites" else "scenario"
            child_catalog = _gather(
                child,
                doc,
                origins,
                overrides,
                stack,
                seen,
                expect,
                via=(source, f"scenario.{key}[{index}]", name),
            )
            if key == "include" and catalog_setting is _DEFAULT:
                catalog_setting = child_catalog
    # The including file's own scenario keys win over included ones.
    for key, value in scenario.items():
        doc["scenario"][key] = value
        origins.add(f"scenario.{key}", source)
    if "scenario" not in origins.by_prefix:
        origins.add("scenario", source)
    for name, site in _named(data.get("sites", {}), source, "sites").items():
        if not isinstance(site, dict):
            raise SpecError.at(source, f"sites.{name}", site, "a table describing the site")
        _add_site(doc, {"name": name, **site}, source, origins, key_hint=name)
    for section in CATALOG_SECTIONS:
        for name, entry in _named(data.get(section, {}), source, section).items():
            doc[section][name] = entry
            origins.add(f"{section}.{name}", source)
    for key, value in _named(data.get("overrides", {}), source, "overrides").items():
        overrides.append((key, value, f"{source} [overrides]"))
    seen[resolved] = (True, _relative(catalog_setting, path))
    return seen[resolved][1]


def _relative(setting: object, path: Path) -> object:
    """A catalog folder named in a file is read relative to that file."""
    if isinstance(setting, str) and not Path(setting).is_absolute():
        return str(path.parent / setting)
    return setting


class _Default:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Any = _Default()


def _named(value: object, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError.at(source, key, value, "a table of named entries")
    return value


def _misspelt_name(data: dict[str, Any]) -> str:
    """A hint when a site's ``name`` is missing because it was misspelt (``nmae = ...``)."""
    close = difflib.get_close_matches("name", [str(key) for key in data], n=1, cutoff=0.6)
    return f"Is '{close[0]}' a misspelling of it?" if close else ""


def _add_site(
    doc: dict[str, Any], data: dict[str, Any], source: str, origins: Origins, key_hint: str
) -> None:
    data = dict(data)
    data.pop("catalog", None)
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", name):
        raise SpecError.at(
            source,
            f"sites.{key_hint}.name" if name is None else "name",
            "<nothing: the key is missing>" if name is None else name,
            "a site name of letters, digits, '-' and '_' (it becomes a key)",
            _misspelt_name(data) if name is None else "",
        )
    if name in doc["sites"]:
        raise SpecError.at(
            source,
            f"sites.{name}",
            name,
            f"a site name not used already (also defined in {origins(f'sites.{name}')})",
        )
    doc["sites"][name] = data
    origins.add(f"sites.{name}", source)


def _merge_catalog(doc: dict[str, Any], origins: Origins, setting: object, top: Path) -> None:
    """Catalog entries first, then the files' own inline entries on top."""
    if setting is False:
        return
    if setting is _DEFAULT:
        beside = top.parent / "catalog"
        folder = beside if beside.is_dir() else bundled_sites_dir() / "catalog"
    elif isinstance(setting, str):
        folder = Path(setting)
        if _probe(folder) != "folder":
            raise SpecError.at(
                str(top), "catalog", setting, "a folder of catalog TOML files, or false for none"
            )
    else:
        raise SpecError.at(
            str(top), "catalog", setting, "a folder path (string), or false for no catalog"
        )
    for file in sorted(folder.glob("*.toml")):
        data = read_toml(file, "catalog file")
        for section, entries in data.items():
            if section not in CATALOG_SECTIONS:
                raise SpecError.at(
                    str(file),
                    section,
                    "<an unknown section>",
                    "one of " + ", ".join(CATALOG_SECTIONS),
                    suggest(section, CATALOG_SECTIONS),
                )
            for name, entry in _named(entries, str(file), section).items():
                # Entries written in the scenario itself override the catalog.
                if name not in doc[section]:
                    doc[section][name] = entry
                    origins.add(f"{section}.{name}", str(file))
