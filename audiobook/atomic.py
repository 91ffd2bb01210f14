"""Write a file under a temporary name in the same folder, then rename it into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import PublishError


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never part."""
    path = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise PublishError(f"{path}: cannot write: {exc.strerror}; check the folder exists and is writable") from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except OSError as exc:
        raise PublishError(f"{path}: cannot write: {exc.strerror}; free disk space or check permissions, then run again") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
