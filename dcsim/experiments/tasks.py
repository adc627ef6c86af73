"""The one task runner every experiment hands its work to: here, on a process pool, or on Dask.

A task is ``(key, argument)``; ``func(argument)`` runs wherever a worker is free and
the results come back in task order, whatever the backend and the number of workers,
so the outputs never depend on either. At most a few tasks per worker are in flight
or waiting for an earlier one, so memory does not grow with the number of tasks.
Results already known (a resumed run) are handed back without running again.

Backends: ``workers=1`` runs in this process; more use a fork pool of processes;
``scheduler`` (an address such as ``tcp://10.0.0.5:8786``, or ``local`` for a
``LocalCluster`` on this machine) sends the same tasks to a Dask cluster, which
reruns a task whose worker died.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import multiprocessing
import os
import queue
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from dcsim.errors import DcsimError

_T = TypeVar("_T")
_R = TypeVar("_R")
_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies
SCHEDULER_VARIABLE = "DCSIM_SCHEDULER"  # the environment's default for --scheduler
IN_FLIGHT_PER_WORKER = 2  # tasks sent ahead per worker: enough to keep each one busy
WORKER_WAIT_S = 60  # how long a cluster may take to have its first worker


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
        source: Iterator[tuple[int, _R]] = _on_dask(
            func, todo, scheduler, workers, handed, meanwhile
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


def _call(func: Callable[[_T], _R], position: int, argument: _T) -> tuple[int, _R]:
    return position, func(argument)


def _call_in_pool(func: Callable[[_T], _R], position: int, argument: _T) -> tuple[int, _R]:
    """_call in a pool worker: the task runs with the collector off (see collector_off)."""
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


def _reachable(scheduler: str) -> None:
    """Fail at once, not after Dask's connect timeout, on an address that is not one or
    where nothing listens (TCP; another protocol is left for Dask to judge)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        protocol, location = parse_address(scheduler)
        host, port = parse_host_port(location)
    except ValueError as exc:
        raise DcsimError(
            f"--scheduler {scheduler}: not an address ({exc}); give the one `dask scheduler`"
            " prints, such as tcp://10.0.0.5:8786, or 'local'."
        ) from None
    if protocol != "tcp":
        return
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise DcsimError(
            f"--scheduler {scheduler}: nothing answers there ({exc.strerror or exc}). Start a"
            " scheduler with `dask scheduler` and workers with `dask worker ADDRESS`, or use"
            " --scheduler local."
        ) from None


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a --scheduler that cannot work (no Dask installed, nothing at the address)
    before a run touches its folder."""
    if scheduler is None:
        return
    _distributed()
    if scheduler != "local":
        _reachable(scheduler)


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")  # an optional extra
    except ImportError:
        raise DcsimError(
            "--scheduler needs Dask's distributed scheduler: pip install 'dcsim[dask]'"
            " (or leave --scheduler out to use the local process pool)."
        ) from None


def _on_dask(
    func: Callable[[_T], _R],
    todo: list[tuple[int, tuple[str, _T]]],
    scheduler: str,
    workers: int,
    handed: list[int],
    meanwhile: Callable[[], None] | None,
) -> Iterator[tuple[int, _R]]:
    """Results as they finish on a Dask cluster (``local``: a LocalCluster of ``workers``)."""
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
                )
            )
            address: Any = cluster
        else:
            address = scheduler
            _reachable(scheduler)
        try:
            client = stack.enter_context(distributed.Client(address, timeout="20s"))
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise DcsimError(
                f"--scheduler {scheduler}: no Dask scheduler with workers there ({exc}). Start"
                " one with `dask scheduler` and workers with `dask worker ADDRESS`, or use"
                " --scheduler local."
            ) from None
        futures = distributed.as_completed()
        sent = 0
        submitted = []

        def send() -> None:
            nonlocal sent
            position, (_, argument) = todo[sent]
            future = client.submit(_call, func, position, argument, pure=False)
            submitted.append(future)
            futures.add(future)
            sent += 1

        def fill() -> None:
            # Workers that join later get tasks too: the window is counted at each result.
            ahead = IN_FLIGHT_PER_WORKER * max(1, sum(client.nthreads().values()))
            while (sent < len(todo) and futures.count() < ahead
                   and todo[sent][0] < handed[0] + ahead):  # fmt: skip
                send()

        try:
            fill()
            if meanwhile is not None:
                meanwhile()
            for future in futures:
                try:
                    result = future.result()
                except Exception as exc:  # a task that failed, or killed its workers
                    raise DcsimError(
                        f"--scheduler {scheduler}: a replication failed on the cluster"
                        f" ({type(exc).__name__}: {exc}). Finished replications are kept:"
                        " fix the cause, then run the same command with --resume."
                    ) from None
                future.release()
                yield result
                fill()
        except BaseException:
            client.cancel(submitted)
            raise
