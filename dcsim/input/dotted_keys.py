"""Dotted keys: where each part of a document came from, and setting one key.

``sites.a.halls[1].construction_time`` names one value of a resolved
document; :class:`Origins` remembers which file each key path came from, so
an error found later still names the file the user has to open, and
:func:`apply_override` sets one key (from ``[overrides]``, ``--set`` or the
Python API) with the same checks as a file.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from dcsim.errors import SpecError
from dcsim.input.toml_table import suggest


@dataclass
class Origins:
    """Which file each dotted key path came from (longest matching prefix wins)."""

    default: str
    by_prefix: dict[str, str] = field(default_factory=dict)

    def add(self, prefix: str, source: str) -> None:
        self.by_prefix[prefix] = source

    def __call__(self, key_path: str) -> str:
        best, best_len = self.default, -1
        for prefix, source in self.by_prefix.items():
            if (
                key_path == prefix
                or key_path.startswith(prefix + ".")
                or key_path.startswith(prefix + "[")
            ) and len(prefix) > best_len:
                best, best_len = source, len(prefix)
        return best


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_key(key: str) -> list[str | int]:
    """'sites.a.halls[1].construction_time' -> ['sites', 'a', 'halls', 1, 'construction_time']."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(key):
        if key[pos] == ".":
            pos += 1
            continue
        match = _SEGMENT.match(key, pos)
        if match is None:
            raise ValueError(key)
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    return parts


def apply_override(
    doc: dict[str, Any], key: str, value: object, source: str, origins: Origins
) -> None:
    """Set one dotted key in ``doc``; the key must already exist (or be an optional leaf)."""
    try:
        parts = split_key(key)
    except ValueError:
        parts = []
    if len(parts) < 2:
        raise SpecError.at(
            source, key, value, "a dotted key such as sites.NAME.substation.order_policy"
        )
    node: Any = doc
    walked = ""
    for index, part in enumerate(parts[:-1]):
        nxt = _child(node, part)
        if nxt is None and isinstance(part, str) and isinstance(node, list):
            nxt = next((h for h in node if isinstance(h, dict) and h.get("name") == part), None)
        if nxt is None or not isinstance(nxt, (dict, list)):
            options = _options(node)
            label = f"{walked}{_fmt(part, index == 0)}"
            raise SpecError.at(
                source,
                key,
                value,
                f"a key that exists; '{label}' is not there",
                suggest(str(part), options),
            )
        walked += _fmt(part, index == 0)
        node = nxt
    leaf = parts[-1]
    if isinstance(node, list):
        if not isinstance(leaf, int) or not 0 <= leaf < len(node):
            raise SpecError.at(source, key, value, f"an index below {len(node)}")
        node[leaf] = copy.deepcopy(value)
    elif isinstance(leaf, str):
        node[leaf] = copy.deepcopy(value)
    else:
        raise SpecError.at(source, key, value, "a key name, not an index, after a table")
    origins.add(_canonical(parts, doc), source)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _options(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [str(k) for k in node]
    if isinstance(node, list):
        return [str(h.get("name")) for h in node if isinstance(h, dict) and "name" in h]
    return []


def _fmt(part: str | int, first: bool) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    return part if first else f".{part}"


def _canonical(parts: list[str | int], doc: dict[str, Any]) -> str:
    out = ""
    node: Any = doc
    for index, part in enumerate(parts):
        if isinstance(node, list) and isinstance(part, str):
            idx = next(
                i for i, h in enumerate(node) if isinstance(h, dict) and h.get("name") == part
            )
            out += f"[{idx}]"
            node = node[idx]
            continue
        out += _fmt(part, index == 0)
        node = _child(node, part)
    return out
