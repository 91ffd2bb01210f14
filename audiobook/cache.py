"""The clip cache in use: a shared lock while a build reads and writes it, a sweep when alone.

Clips and encoded parts are written to hidden temporary files (``.<key>-XXXX.tmp``) and renamed
into place, so a killed build can leave a temporary behind but never a half-written clip. Those
leftovers are removed at the start of a build, but only when no other build is using the cache
(several output folders may share one ``--cache``): every build holds a shared ``flock`` on
``CACHE/.lock``; the sweep needs it exclusively. The kernel drops the lock when a build dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from .atomic import replace_file
from .errors import AudiobookError

LOCK_NAME = ".lock"
TEMPORARY = "*/*/.*.tmp"  # what synthesize and encode write before renaming


class CacheError(AudiobookError):
    """The cache folder cannot be used."""


def write_file(path: Path, pieces: Sequence[bytes]) -> None:
    """Write a cache file: a hidden temporary in its folder (made if missing), renamed into place.

    Raises OSError. The folder is made only when the temporary cannot be created without it: a
    build writes hundreds of files into the same 256 folders, and on some file systems asking
    for a folder that exists costs a tenth of a millisecond a time.
    """
    prefix = f".{path.stem[:16]}-"
    try:
        replace_file(path, pieces, prefix, ".tmp")
    except FileNotFoundError:
        if path.parent.is_dir():
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, pieces, prefix, ".tmp")


def sweep(cache_dir: Path) -> int:
    """Remove temporaries left by killed builds; how many. Only call while holding the cache alone."""
    removed = 0
    for leftover in Path(cache_dir).glob(TEMPORARY):
        with suppress(FileNotFoundError):
            leftover.unlink()
            removed += 1
    return removed


@contextmanager
def cache_in_use(cache_dir: Path) -> Iterator[None]:
    """Create the cache folder if needed and hold it (shared) for the ``with`` block."""
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(cache_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise CacheError(
            f"{cache_dir}: cannot use it as the clip cache: {exc.strerror}; "
            "remove what is there or pass another --cache"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another build is using the cache: its temporaries may be in flight
        else:
            sweep(cache_dir)
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
