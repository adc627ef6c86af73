"""The one task runner every experiment hands its work to: here, on a process pool, or on Dask.

A task is ``(key, argument)``; ``func(argument)`` runs wherever a worker is free and
the results come back in task order, whatever the backend and the number of workers,
so the outputs never depend on either. At most a few tasks per worker are in flight
or waiting for an earlier one, so memory does not grow with the number of tasks.
Results already known (a resumed run) are handed back without running again.

Backends: ``workers=1`` runs in this process; more use a fork pool of processes;
``scheduler`` (an address such as ``tcp://10.0.0.5:8786``, or ``local`` for a
``LocalCluster`` on this machine) sends the same tasks to a Dask cluster, which
reruns a task whose worker died (:mod:`.dask_runner`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import queue
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from dcsim.errors import DcsimError
from dcsim.experiments.dask_runner import SCHEDULER_VARIABLE, on_dask

_T = TypeVar("_T")
_R = TypeVar("_R")
_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies
IN_FLIGHT_PER_WORKER = 2  # tasks sent ahead per worker: enough to keep each one busy


def default_workers() -> int:
    return os.cpu_count() or 1


def on_local_pool(workers: int | None, scheduler: str | None) -> bool:
    """Whether tasks go to this machine's process pool: no Dask cluster, several workers
    (a run left with a single task runs it in this process all the same)."""
    return scheduler is None and (default_workers() if workers is None else workers) > 1


def scheduler_from_environment(scheduler: str | None) -> str | None:
    """``scheduler`` if given, else $DCSIM_SCHEDULER if set and not empty, else None."""
    return scheduler or os.environ.get(SCHEDULER_VARIABLE) or None


def execute(
    func: Callable[[_T], _R],
    tasks: Sequence[tuple[str, _T]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    known: Mapping[str, _R] | None = None,
    progress: Callable[[int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[tuple[str, _R]]:
    """``(key, func(argument))`` for every task, in task order.

    Tasks whose key is in ``known`` are not run; their known result is handed back
    in its place. ``progress`` is called with the number of tasks finished so far
    (known ones included). ``meanwhile`` is called once, when the first tasks are with
    the workers (here: before the first task): work the caller needs afterwards, done
    while this process would only wait. Ctrl-C, SIGTERM or an error stops every worker.
    """
    known = dict(known or {})  # as it is now: results saved while we run are not "known"
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise DcsimError(
            f"workers (--workers) must be at least 1 (got {workers}); leave it out to use"
            " every core."
        )
    todo = [(position, task) for position, task in enumerate(tasks) if task[0] not in known]
    finished = len(tasks) - len(todo)
    if progress is not None and finished:
        progress(finished)
    # The first position not yet handed back: the backends send no task more than a few
    # per worker beyond it, so results waiting for a slow earlier one stay few.
    handed = [0]
    if scheduler is not None:
        source: Iterator[tuple[int, _R]] = on_dask(
            func, todo, scheduler, workers, handed, meanwhile, IN_FLIGHT_PER_WORKER
        )
    elif on_local_pool(workers, scheduler) and len(todo) > 1:
        source = _on_pool(func, todo, workers, handed, meanwhile)
    else:
        if meanwhile is not None:
            meanwhile()
        source = _here(func, todo)
    waiting: dict[int, _R] = {}

    def ready() -> Iterator[tuple[str, _R]]:
        """Every result that can be handed back now, in order (known ones included)."""
        while handed[0] < len(tasks):
            key = tasks[handed[0]][0]
            if key in known:
                item = known[key]
            elif handed[0] in waiting:
                item = waiting.pop(handed[0])
            else:
                return
            handed[0] += 1
            yield key, item

    try:
        yield from ready()  # known results first: the window then starts at the first to run
        for done_position, result in source:
            waiting[done_position] = result
            del result  # held only where it waits: the next task's collection may free it
            finished += 1
            if progress is not None:
                progress(finished)
            yield from ready()
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # the pool or cluster ends now, not when the traceback is dropped
    yield from ready()  # only known results can be left


def _here(
    func: Callable[[_T], _R], todo: list[tuple[int, tuple[str, _T]]]
) -> Iterator[tuple[int, _R]]:
    """The tasks run in this process, each with the collector off (see collector_off)."""
    # Freeze only if nothing is frozen yet: unfreezing at the end must not hand back to
    # the collector what the caller froze itself.
    owner = gc.get_freeze_count() == 0
    try:
        for position, (_, argument) in todo:
            with collector_off(freeze=owner):
                result = func(argument)
            yield position, result
            del result  # not kept alive (and frozen) by this frame at the next task
    finally:
        if owner:
            gc.unfreeze()  # what this process had before the tasks is the collector's again


def _call_in_pool(func: Callable[[_T], _R], position: int, argument: _T) -> tuple[int, _R]:
    """``(position, func(argument))`` in a pool worker, with the collector off (see
    collector_off)."""
    with collector_off():
        return position, func(argument)


@contextlib.contextmanager
def collector_off(freeze: bool = True) -> Iterator[None]:
    """Run a task with Python's cyclic garbage collector off, in a process that runs one
    task at a time (a pool worker, or this process).

    A replication makes hundreds of thousands of objects, so the collector runs
    hundreds of times in one, and each of its full passes walks what lives on between
    tasks too: the store of evaluated states (tens of thousands of rows) among them;
    that was a tenth of a replication's time, and more the longer a worker ran. So
    before each task, one collection takes what the last one left in cycles, and what
    is still alive (modules, the scenario, the store) is frozen: no collection walks it
    again. Freed rows of the store still go by reference counting. A task's own
    garbage in cycles waits for the next task's collection: one replication's worth.
    A process whose collector is off already is left as it is; ``freeze=False`` leaves
    the frozen objects as they are (only the collection and the switch).
    """
    if not gc.isenabled():
        yield
        return
    try:
        gc.collect()
        if freeze:
            gc.freeze()
        gc.disable()
        yield
    finally:
        gc.enable()


def _worker_started() -> None:
    """In each pool worker: leave Ctrl-C to the parent, and die with it.

    A terminal sends Ctrl-C to the whole process group; the parent stops the
    pool, so a worker must not print a traceback of its own. If the parent is
    killed outright (SIGKILL), Linux ends the workers too.
    """
    # What the worker inherits from the parent lives as long as it does: frozen, the
    # collector never walks it (a tenth of a replication's time goes to collections
    # otherwise), nor writes to the memory pages the worker shares with the parent.
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above ran
            os._exit(1)


def _on_pool(
    func: Callable[[_T], _R],
    todo: list[tuple[int, tuple[str, _T]]],
    workers: int,
    handed: list[int],
    meanwhile: Callable[[], None] | None,
) -> Iterator[tuple[int, _R]]:
    """Results as they finish, with at most IN_FLIGHT_PER_WORKER tasks a worker ahead.

    A process pool from concurrent.futures, not multiprocessing.Pool: when a worker is
    killed (the kernel's out-of-memory killer, a stray ``kill -9``) the latter silently
    starts another and waits for the lost task forever; this one fails every task in
    flight, which ends the run with a message instead.
    """
    done: queue.SimpleQueue[Future[tuple[int, _R]]] = queue.SimpleQueue()
    pool = ProcessPoolExecutor(
        min(workers, len(todo)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_started,
    )
    ahead = IN_FLIGHT_PER_WORKER * workers
    sent = received = 0
    try:
        while received < len(todo):
            while (sent < len(todo) and sent - received < ahead
                   and todo[sent][0] < handed[0] + ahead):  # fmt: skip
                position, (_, argument) = todo[sent]
                try:
                    future = pool.submit(_call_in_pool, func, position, argument)
                except BrokenProcessPool:  # a worker died since the last result came
                    raise DcsimError(_WORKER_DIED) from None
                future.add_done_callback(done.put)
                sent += 1
            if meanwhile is not None:  # the workers are forked and busy: nothing else waits
                meanwhile()
                meanwhile = None
            future = _next(done)
            try:
                result = future.result()
            except BrokenProcessPool:
                raise DcsimError(_WORKER_DIED) from None
            received += 1
            yield result
    except BaseException:
        _stop(pool)
        # Not wait=True: with its workers gone, the executor's manager thread can be left
        # waiting on a queue no one reads, and the run would hang instead of ending.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


_WORKER_DIED = (
    "a worker process died before its replication finished (killed from outside, most often "
    "by the system when memory runs out). The replications already finished are kept where "
    "the command keeps them (a run folder continues with --resume); to use less memory, "
    "lower --workers or the number of replications in flight."
)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now, not when their tasks finish (Ctrl-C, an error).

    ``shutdown(cancel_futures=True)`` drops the tasks waiting but lets running ones run to
    the end; the executor offers no terminate, so its processes are signalled directly.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    # A worker that does not end within a few seconds is killed: an interrupted run
    # must end promptly, whatever state the worker was in.
    deadline = time.monotonic() + 3.0
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)


def _next(done: queue.SimpleQueue[Any]) -> Any:
    # A timeout, so that Ctrl-C is seen within a second even where a blocking get is not
    # interrupted by a signal.
    while True:
        with contextlib.suppress(queue.Empty):
            return done.get(timeout=1.0)
