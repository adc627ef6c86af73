"""The task runner's Dask backend: the same tasks on a Dask cluster (``--scheduler``).

Dask is an optional extra: nothing here imports it until a run asks for a cluster.
:func:`on_dask` is what :func:`dcsim.experiments.tasks.execute` uses for
``scheduler`` (an address such as ``tcp://10.0.0.5:8786``, or ``local`` for a
``LocalCluster`` on this machine); the cluster reruns a task whose worker died.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from dcsim.errors import DcsimError

_T = TypeVar("_T")
_R = TypeVar("_R")
WORKER_WAIT_S = 60  # how long a cluster may take to have its first worker
SCHEDULER_VARIABLE = "DCSIM_SCHEDULER"  # the environment's default for --scheduler


def _call(func: Callable[[_T], _R], position: int, argument: _T) -> tuple[int, _R]:
    return position, func(argument)


def dask_setup(worker: object) -> None:
    """In each worker process of ``--scheduler local`` (Dask's preload hook): leave Ctrl-C
    to dcsim. A terminal sends it to the whole process group; dcsim then closes the
    cluster, which stops its workers, so a worker must not die of it on its own with a
    traceback (its nanny printed one per worker)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


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


@contextlib.contextmanager
def _level_restored(logger: logging.Logger) -> Iterator[logging.Logger]:
    level = logger.level
    try:
        yield logger
    finally:
        logger.setLevel(level)


def _preloads() -> list[str]:
    """The workers' preloads: the user's own from Dask's configuration (given a list of
    its own, a cluster no longer reads them), then this module's dask_setup."""
    import dask

    configured = dask.config.get("distributed.worker.preload", default=[]) or []
    return [*([configured] if isinstance(configured, str) else configured), __name__]


def _tell_dashboard(cluster: Any) -> None:
    """Where the cluster's dashboard is (a free port, chosen as it starts), on stderr."""
    if importlib.util.find_spec("bokeh") is None:
        note = " (it needs bokeh: pip install bokeh)"
    else:
        note = ""
    print(f"dcsim: Dask dashboard at {cluster.dashboard_link}{note}", file=sys.stderr)


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
            f"--scheduler (or ${SCHEDULER_VARIABLE}) needs Dask's distributed scheduler: pip"
            f" install 'dcsim[dask]' (or leave out --scheduler and unset ${SCHEDULER_VARIABLE}"
            " to use the local process pool)."
        ) from None


def on_dask(
    func: Callable[[_T], _R],
    todo: list[tuple[int, tuple[str, _T]]],
    scheduler: str,
    workers: int,
    handed: list[int],
    meanwhile: Callable[[], None] | None,
    in_flight_per_worker: int,
) -> Iterator[tuple[int, _R]]:
    """Results as they finish on a Dask cluster (``local``: a LocalCluster of ``workers``)."""
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        # Restored last, once the client and the cluster are closed (see the end).
        dask_logs = stack.enter_context(_level_restored(logging.getLogger("distributed")))
        if scheduler == "local":
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", preload=_preloads(),
                    # Errors only: a run stopped midway cancels its tasks, and each
                    # cancelled one was a warning from the worker that ran it.
                    silence_logs=logging.ERROR,
                )
            )  # fmt: skip
            address: Any = cluster
            _tell_dashboard(cluster)
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
            ahead = in_flight_per_worker * max(1, sum(client.nthreads().values()))
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
            # A run stopped midway: what the cluster logs as its tasks are cancelled and it
            # closes ("couldn't gather keys", a worker restarting) is noise after dcsim's word.
            dask_logs.setLevel(logging.CRITICAL)
            client.cancel(submitted)
            raise
