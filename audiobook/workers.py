"""Worker processes for the heavy stages (speech, MP3 encoding), across all cores.

Pools start with "forkserver" (or "spawn"), never a plain fork: forking a process that has
used pyttsx3 can hang. Workers ignore Ctrl-C, so the parent handles it and cancels the rest.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import AudiobookError

if TYPE_CHECKING:
    from concurrent.futures import Future

K = TypeVar("K", bound=Hashable)

# What the workers import: the forkserver imports it once before it forks any worker, instead of
# every worker importing it again.
PRELOAD = ("audiobook.orphans", "__main__", "audiobook.produce", "numpy", "soxr", "lameenc", "pydub")
# Read by numpy's BLAS when it loads: one thread per worker, since there is a worker per core (and
# idle BLAS threads spin, taking time from the other workers).
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def ignore_interrupts() -> None:
    """Pool initializer: Ctrl-C is the parent's to handle, and the worker ends if its parent dies."""
    from .orphans import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def at_exit(callback: Callable[[], None]) -> None:
    """In a worker: call `callback` when the worker process ends normally (pool workers end with
    os._exit, which skips atexit; multiprocessing's own finalizers still run)."""
    from multiprocessing import util

    util.Finalize(None, callback, exitpriority=10)


def start_forkserver() -> Any:
    """The multiprocessing context for pools, with its forkserver started now (where there is one).

    Starting it returns at once: the server process boots and imports :data:`PRELOAD` while this
    one goes on; starting it again does nothing. A build starts it before planning only when
    it probably has audio to make (``build._likely_to_make_audio``): started for nothing, it
    holds the build's stderr open until its imports are done, and a rebuild with nothing
    changed took ~0.1 s longer for whoever reads its output to the end.
    """
    import multiprocessing  # here, not at the top: a build with nothing to make never needs them

    for variable in _ONE_THREAD:  # a worker is one core's work: numpy's BLAS must not start threads of its own
        os.environ.setdefault(variable, "1")
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    forkserver.ensure_running()
    return context


def run(
    tasks: Mapping[K, tuple[Any, ...]],
    function: Callable[..., Any],
    jobs: int,
    on_result: Callable[[K, Any], None],
    initializer: Callable[[], None] = ignore_interrupts,
    died: AudiobookError | None = None,
) -> None:
    """Call ``function(*args)`` for every task in up to ``jobs`` processes; report each result.

    ``on_result(key, result)`` runs in this process as results arrive. A worker that dies
    raises ``died`` (an AudiobookError saying what to do); work finished before stays done.
    """
    for key, result in results(tasks, function, jobs, initializer, died):
        on_result(key, result)


def results(
    tasks: Mapping[K, tuple[Any, ...]],
    function: Callable[..., Any],
    jobs: int,
    initializer: Callable[[], None] = ignore_interrupts,
    died: AudiobookError | None = None,
) -> Iterator[tuple[K, Any]]:
    """``(key, function(*args))`` for every task, as each finishes in one of up to ``jobs`` processes.

    A worker that dies raises ``died``; closing the iterator early cancels the tasks not started.
    """
    if not tasks:
        return
    from concurrent.futures import (  # here: a build with nothing to make never loads them
        ProcessPoolExecutor,
        as_completed,
    )
    from concurrent.futures.process import BrokenProcessPool

    context = start_forkserver()
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context, initializer=initializer)
    try:
        futures: dict[Future[Any], K] = {executor.submit(function, *args): key for key, args in tasks.items()}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BrokenProcessPool as error:
        raise (died or AudiobookError("a worker process died unexpectedly: run again to resume")) from error
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
