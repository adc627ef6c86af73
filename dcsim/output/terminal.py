"""Tables for the terminal, laid out by rich rather than by hand-padding.

rich sizes each column to what it holds, so a long variant name widens its
column instead of pushing the others out of line. In a terminal narrower than the
table, cells wrap between words inside their columns and every line still fits.
Where even that cannot fit (each column at its longest word is wider than the
terminal), each row is printed as a short record of "column: value" lines
instead, so nothing is cut or hidden. Written to a file or a pipe, a table keeps
its natural width: a log holds whole lines.
"""

from __future__ import annotations

import io
import shutil
import sys
import textwrap
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

UNBOUNDED = 10_000  # columns: wider than any table dcsim prints
GAP = 3  # columns between two columns of the table (its padding and the space between)


def width() -> int:
    """The terminal's width ($COLUMNS first); a file or a pipe has no width to keep to.

    ($COLUMNS alone does not count: readline exports it into the environment of every
    program an interactive Python starts, pipes included.)
    """
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return UNBOUNDED


def paragraph(text: str) -> str:
    """A note under a table, wrapped at the terminal's width (whole in a pipe)."""
    return text if width() >= UNBOUNDED else textwrap.fill(text, width())


def table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (),
    title: str | None = None,
) -> str:  # fmt: skip
    """``rows`` under ``columns`` as plain text (no colour, no control codes).

    Columns whose index is in ``numeric`` are right-aligned.
    """
    grid = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False,
                 show_edge=False, safe_box=True)  # fmt: skip
    cells = [[name, *(row[index] for row in rows)] for index, name in enumerate(columns)]
    # A column is never narrower than its longest word: words are wrapped, never cut.
    longest = [max((len(w) for text in column for w in text.split()), default=1)
               for column in cells]  # fmt: skip
    room = width()
    if sum(longest) + GAP * (len(columns) - 1) > room:
        return _records(columns, rows, title, room)
    widths = _fit([max(len(text) for text in column) for column in cells], longest,
                  room - GAP * (len(columns) - 1))  # fmt: skip
    for index, name in enumerate(columns):
        grid.add_column(name, justify="right" if index in numeric else "left",
                        width=widths[index])  # fmt: skip
    for row in rows:
        grid.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=room, color_system=None, force_terminal=False,
            highlight=False, emoji=False, markup=False).print(grid)  # fmt: skip
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _fit(natural: list[int], least: list[int], room: int) -> list[int]:
    """Column widths that fit ``room``: each column as wide as it needs, and while too
    wide, the one that can give the most gives one more character (never below its
    longest word)."""
    widths = list(natural)
    while sum(widths) > room:
        slack = [w - low for w, low in zip(widths, least, strict=True)]
        widths[slack.index(max(slack))] -= 1
    return widths


def _records(
    columns: Sequence[str], rows: Sequence[Sequence[str]], title: str | None, room: int
) -> str:
    """Each row as its first cell, then one indented "column: value" line per other cell."""
    lines = [title] if title else []
    for row in rows:
        lines.append(f"{columns[0]}: {row[0]}" if columns[0] else row[0])
        for name, cell in zip(columns[1:], row[1:], strict=True):
            if cell:
                lines += textwrap.wrap(f"{name}: {cell}" if name else cell, max(room, 20),
                                       initial_indent="  ", subsequent_indent="    ")  # fmt: skip
    return "\n".join(lines)
