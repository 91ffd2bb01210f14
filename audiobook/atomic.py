"""Write a file under a temporary name in the same folder, then rename it into place."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from .errors import PublishError

_FOLDER_ERRORS = {errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.EROFS}


def replace_file(path: Path, pieces: Iterable[bytes], prefix: str, suffix: str, mode: int | None = None) -> None:
    """Write `pieces` to a temporary file beside `path` (named `prefix`…`suffix`), then rename it
    over `path`: readers see the old file or the whole new one. Raises OSError; no temporary stays."""
    fd, temporary = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            for piece in pieces:
                file.write(piece)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never part."""
    path = Path(path)
    try:
        replace_file(path, [data], prefix=f".{path.name}.", suffix=".partial", mode=0o644)
    except OSError as exc:
        if exc.errno in _FOLDER_ERRORS:
            raise PublishError(
                f"{path}: cannot write: {exc.strerror}; check the folder exists and is writable"
            ) from None
        raise PublishError(
            f"{path}: cannot write: {exc.strerror}; free disk space or check permissions, then run again"
        ) from None
