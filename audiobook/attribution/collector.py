"""Python's cycle collector paused while a book is attributed.

Attribution allocates millions of small objects (segments, mentions, decisions) and keeps most
of them until the book is done; the collector's passes over them, none of which finds a cycle
worth freeing, cost about a tenth of the stage's time. Objects freed by reference counting are
freed as usual while it is paused. Calls may nest and run in several threads at once (the
studio serves requests in threads): the collector is paused by the first that enters and
resumed by the last that leaves, and stays off if it was off before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
