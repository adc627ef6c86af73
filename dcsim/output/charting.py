"""What every chart shares: the layers' colours and how a figure becomes PNG bytes."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display needed, and the same pictures everywhere

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from dcsim.model.layers import LAYERS

COLORS = {layer.name: layer.color for layer in LAYERS}


def png(fig: Figure) -> bytes:
    """The figure as PNG (closed afterwards, so a long report holds no figures)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def day_zero(start: pd.Timestamp) -> float:
    """matplotlib's date number of ``start``: day_zero + days puts days on a calendar axis
    (in days, so an area under a line is MW x days)."""
    return float(mdates.date2num(start.to_pydatetime()))  # type: ignore[no-untyped-call]


def calendar_axis(axis: Any, most: int = 10) -> None:
    """Dates on ``axis`` (an x axis of date numbers), as short as they can be read.

    Three ticks at least: with matplotlib's default of five, a range of three to five
    years finds neither years (too few) nor months (too many) and warns.
    """
    locator = mdates.AutoDateLocator(minticks=3, maxticks=most)  # type: ignore[no-untyped-call]
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
