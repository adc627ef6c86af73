"""The region queue a region's file asks for: serial or cluster studies."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from dcsim.input.spec import Region
from dcsim.model.event_log import Recorder
from dcsim.model.interconnection import ClusterQueue, RegionQueue
from dcsim.model.serial_queue import SerialQueue


def make_queue(
    env: simpy.Environment,
    spec: Region,
    recorder: Recorder,
    streams: Callable[[str], np.random.Generator],
    until: float = math.inf,
) -> RegionQueue:
    """The queue of ``spec``'s region; ``until``, the end of the run if known."""
    background = streams(f"region:{spec.name}/background")
    if spec.discipline == "cluster":
        return ClusterQueue(
            env, spec, recorder, background, streams(f"region:{spec.name}/clusters")
        )
    return SerialQueue(env, spec, recorder, background, until)
