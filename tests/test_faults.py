"""Faults with real processes: two builds at once, Ctrl-C, a full disk, a broken cache, a dying worker.

Each ends in one line on stderr and a known exit status, leaves every visible file whole, keeps
the finished work, and the same command run again completes the book.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults import (
    TITLE, _group_members, check_complete, kill_group, run_build, snapshot, start_build, visible_files, write_book,
)

pytestmark = pytest.mark.slow


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    write_book(tmp_path)
    return tmp_path


def _wait_for(condition, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _clips(output: Path) -> int:
    return sum(1 for _ in (output / ".cache").glob("clips/*/*.wav"))


def _clip_counts(stdout: str) -> tuple[int, int]:
    m = re.search(r"^Clips: \d+ \((\d+) synthesized, (\d+) from cache\)$", stdout, re.M)
    assert m, stdout
    return int(m.group(1)), int(m.group(2))


def _one_line_error(stderr: str) -> str:
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    return stderr.rstrip("\n")


def _all_complete(output: Path) -> None:
    for path in visible_files(output / TITLE):
        check_complete(path)


# --- two builds into one output folder ----------------------------------------------------------


def _holding_lock(output: Path, pid: int) -> bool:
    try:
        return (output / ".audiobook.lock").read_text().strip() == str(pid)
    except OSError:
        return False


def test_second_build_into_the_same_folder_refuses_naming_the_first(root: Path) -> None:
    output = root / "out"
    first = start_build(root, output)
    try:
        _wait_for(lambda: _holding_lock(output, first.pid) or first.poll() is not None)
        assert first.poll() is None, "the first build ended before the second started"
        second = run_build(root, output)
        assert second.returncode == 1
        assert _one_line_error(second.stderr) == (
            f"error: another build is writing {output} (pid {first.pid}): wait for it to finish, or pass --wait"
        )
        assert second.stdout == ""
        assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    finally:
        kill_group(first)
    _all_complete(output)
    again = run_build(root, output)  # the lock went with the first build
    assert again.returncode == 0 and _clip_counts(again.stdout)[0] == 0


def test_second_build_with_wait_runs_after_the_first(root: Path) -> None:
    output = root / "out"
    first = start_build(root, output)
    try:
        _wait_for(lambda: _holding_lock(output, first.pid) or first.poll() is not None)
        assert first.poll() is None, "the first build ended before the second started"
        second = run_build(root, output, "--wait")
        assert first.wait(timeout=120) == 0
    finally:
        kill_group(first)
    assert second.returncode == 0, second.stderr
    assert second.stderr == f"waiting: another build is writing {output} (pid {first.pid})\n"
    assert _clip_counts(second.stdout)[0] == 0  # it started when the first had made every clip
    _all_complete(output)


def test_builds_sharing_one_cache_do_not_disturb_each_other(root: Path) -> None:
    cache = root / "shared-cache"
    one = start_build(root, root / "one", "--cache", str(cache))
    two = start_build(root, root / "two", "--cache", str(cache))
    try:
        assert one.wait(timeout=120) == 0 and two.wait(timeout=120) == 0
    finally:
        kill_group(one)
        kill_group(two)
    assert snapshot(root / "one" / TITLE) == snapshot(root / "two" / TITLE)
    assert not list(cache.glob("*/*/.*.tmp"))


def test_leftover_temporaries_in_the_cache_are_swept(root: Path) -> None:
    output = root / "out"
    assert run_build(root, output).returncode == 0
    leftover = output / ".cache" / "clips" / "ab" / ".abcdef0123456789-x1y2z3.tmp"  # as a SIGKILL leaves them
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"RIFF")
    assert run_build(root, output).returncode == 0
    assert not leftover.exists()

