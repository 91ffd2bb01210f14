"""No orphans: the build's helper processes end when the process that started them dies.

A build's processes form a chain: the command, the forkserver it starts, the workers the
forkserver forks, and each worker's eSpeak helper. Each link asks the kernel to kill it when its
parent dies (Linux's ``PR_SET_PDEATHSIG``; elsewhere a thread watches the parent's pid), so a
SIGKILL of the command alone leaves nothing running. Importing this module in the forkserver
(it is first in ``workers.PRELOAD``) covers the forkserver itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """End this process (SIGKILL) as soon as its parent dies, including if it already has."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent or parent == 1:  # the parent died before the kernel was asked
                    os._exit(1)
                return
        except OSError:
            pass
    if parent == 1:
        os._exit(1)

    def watch() -> None:  # where there is no PR_SET_PDEATHSIG
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()


if any("multiprocessing.forkserver" in arg for arg in getattr(sys, "orig_argv", ())):
    die_with_parent()  # imported while the forkserver preloads: it ends with the build
