"""Worker processes for the heavy stages (speech, MP3 encoding), across all cores.

Pools start with "forkserver" (or "spawn"), never a plain fork: forking a process that has
used pyttsx3 can hang. Workers ignore Ctrl-C, so the parent handles it and cancels the rest.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import AudiobookError

if TYPE_CHECKING:
    from concurrent.futures import Future

K = TypeVar("K", bound=Hashable)


def ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run(
    tasks: Mapping[K, tuple[Any, ...]],
    function: Callable[..., Any],
    jobs: int,
    on_result: Callable[[K, Any], None],
    initializer: Callable[[], None] = ignore_interrupts,
    died: AudiobookError | None = None,
    preload: Sequence[str] = (),
) -> None:
    """Call ``function(*args)`` for every task in up to ``jobs`` processes; report each result.

    ``on_result(key, result)`` runs in this process as results arrive. A worker that dies
    raises ``died`` (an AudiobookError saying what to do); work finished before stays done.
    ``preload`` names modules the workers need: the forkserver imports them once, before it
    forks any worker, instead of every worker importing them itself.
    """
    if not tasks:
        return
    import multiprocessing  # here, not at the top: a build with nothing to make never loads them
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    )
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["__main__", *preload])  # takes effect when the forkserver starts
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context, initializer=initializer)
    try:
        futures: dict[Future[Any], K] = {executor.submit(function, *args): key for key, args in tasks.items()}
        for future in as_completed(futures):
            on_result(futures[future], future.result())
    except BrokenProcessPool as error:
        raise (died or AudiobookError("a worker process died unexpectedly: run again to resume")) from error
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
