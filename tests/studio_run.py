"""The studio as a user runs it, for the server and browser tests: `audiobook studio` in a process
of its own on a copy of the seed book, on a free port of 127.0.0.1, stopped (with every process it
started) when the test is done."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

try:
    import starlette  # noqa: F401
    import tomlkit  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:
    STUDIO_MISSING: str | None = f"the studio extra is not installed ({exc.name}): pip install -e '.[studio]'"
else:
    STUDIO_MISSING = None
needs_studio = pytest.mark.skipif(STUDIO_MISSING is not None, reason=STUDIO_MISSING or "")


@dataclass(frozen=True)
class RunningStudio:
    root: Path  # the folder it runs in: seeds/, voices.toml, output/
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def voices(self) -> Path:
        return self.root / "voices.toml"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def request(self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None,
                host: str = "127.0.0.1") -> tuple[int, bytes]:
        """One request to the studio (at 127.0.0.1, whatever Host header it carries): status and body."""
        connection = http.client.HTTPConnection(host, self.port, timeout=120)
        try:
            sent = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                sent.setdefault("Content-Type", "application/json")
            connection.request(method, path, data, sent)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def get_json(self, path: str) -> dict:
        status, body = self.request("GET", path)
        assert status == 200, body
        return json.loads(body)


def copy_seed_book(root: Path) -> Path:
    """seeds/ and the casting file beside it, as a user's book folder."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "seeds", root / "seeds")
    shutil.copy2(ROOT / "voices.toml", root / "voices.toml")
    return root


@contextmanager
def running_studio(root: Path, *extra: str) -> Iterator[RunningStudio]:
    """`audiobook studio seeds` run in `root`; stopped, with its workers, on leaving."""
    command = [sys.executable, "-m", "audiobook.cli", "studio", "seeds", "--port", "0", "-j", "2", *extra]
    process = subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        if not found:
            rest = process.stdout.read() if process.poll() is not None else ""
            raise AssertionError(f"the studio did not start: {first}{rest}")
        yield RunningStudio(root, int(found.group(1)), process)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """End the studio and every process of its session (build workers, the eSpeak helper)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # workers it started may take a moment to go
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
