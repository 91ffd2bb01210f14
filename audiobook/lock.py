"""One build at a time per output folder: an advisory lock on ``OUTDIR/.audiobook.lock``.

The lock is ``flock(2)`` on an open file, so the kernel releases it when the holding process
ends in any way, SIGKILL included: there is never a stale lock to delete by hand. The file
itself stays; it holds the pid of the last build that took it, for the message a second
build gives.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AudiobookError

LOCK_NAME = ".audiobook.lock"


class BusyError(AudiobookError):
    """Another build is writing into the same output folder."""


def _holder(file) -> int | None:  # noqa: ANN001 - an open binary file
    """The pid written by the build holding the lock, if it got that far."""
    try:
        os.lseek(file.fileno(), 0, os.SEEK_SET)
        return int(os.read(file.fileno(), 32).decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


@contextmanager
def output_lock(
    output_dir: Path, wait: bool = False, on_wait: Callable[[int | None], None] | None = None
) -> Iterator[None]:
    """Hold the output folder's lock for the duration of the ``with`` block.

    If another build holds it: raise BusyError naming its pid, or, with ``wait``, call
    ``on_wait(pid)`` once and block until that build ends.
    """
    output_dir = Path(output_dir)
    path = output_dir / LOCK_NAME
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AudiobookError(
            f"{exc.filename or path}: cannot create the build lock: {exc.strerror}; check -o"
        ) from None
    with os.fdopen(fd, "r+b", buffering=0) as file:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(file)
            if not wait:
                who = f" (pid {pid})" if pid else ""
                raise BusyError(
                    f"another build is writing {output_dir}{who}: wait for it to finish, or pass --wait"
                ) from None
            if on_wait is not None:
                on_wait(pid)
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, the message just lacks the pid
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
