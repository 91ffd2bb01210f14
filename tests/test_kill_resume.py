"""A build SIGKILLed at any moment and started again ends byte-identical to an uninterrupted one.

Real processes and real signals: `audiobook build` runs in its own process group and the whole
group (the build, its worker pools, the forkserver, eSpeak's children) is killed at once, at
moments chosen by what appears on disk (first clip, first encoded part, a chapter being
assembled, the cover being published) and at random delays. After every kill each visible file
in the book folder must be complete; after the last, the same command must finish the book.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from faults import TITLE, check_complete, kill_group, run_build, snapshot, start_build, visible_files, write_book

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], float]:
    """The stories, the uninterrupted build's files, and how long it took."""
    root = tmp_path_factory.mktemp("kill")
    write_book(root)
    started = time.monotonic()
    result = run_build(root, root / "reference")
    assert result.returncode == 0, result.stderr
    return root, snapshot(root / "reference" / TITLE), time.monotonic() - started


def _count(folder: Path, pattern: str) -> int:
    return sum(1 for _ in folder.glob(pattern)) if folder.is_dir() else 0


def _kill_when(root: Path, output: Path, happened: Callable[[], bool], label: str, *extra: str) -> bool:
    """Start a build, SIGKILL it the moment `happened()` is true; False if it finished first."""
    process = start_build(root, output, *extra)
    while process.poll() is None:
        if happened():
            kill_group(process)
            return True
        time.sleep(0.002)
    kill_group(process)  # reap anything left, though it finished
    assert process.returncode == 0, f"{label}: {process.stderr.read() if process.stderr else ''}"
    return False


def _kill_after(root: Path, output: Path, delay_s: float, *extra: str) -> None:
    process = start_build(root, output, *extra)
    try:
        process.wait(timeout=delay_s)
    except Exception:  # noqa: BLE001 - still running: the moment has come
        pass
    kill_group(process)


def _assert_visible_files_complete(book_dir: Path, after: str) -> None:
    for path in visible_files(book_dir):
        try:
            check_complete(path)
        except Exception as error:  # noqa: BLE001 - report which file and which kill
            raise AssertionError(f"after {after}: {path.name} is not complete: {error!r}") from error


def _resume_and_compare(root: Path, output: Path, expected: dict[str, bytes]) -> None:
    result = run_build(root, output)
    assert result.returncode == 0, result.stderr
    book_dir = output / TITLE
    got = snapshot(book_dir)
    assert sorted(got) == sorted(expected)
    for name, data in expected.items():
        assert got[name] == data, f"{name} differs from the uninterrupted build"
    leftovers = [p.name for p in book_dir.iterdir() if p.name.endswith((".partial", ".tmp"))]
    leftovers += [p.name for p in (output / ".cache").glob("*/*/.*.tmp")]  # swept when the build starts
    assert not leftovers, leftovers


def test_killed_at_each_stage_then_resumed_is_identical(reference, tmp_path: Path) -> None:
    root, expected, _ = reference
    output = tmp_path / "out"
    book_dir = output / TITLE
    cache = output / ".cache"

    def more(pattern: str) -> Callable[[], bool]:
        """True once more files match `pattern` in the cache than now: this run made one."""
        before = _count(cache, pattern)
        return lambda: _count(cache, pattern) > before

    moments: dict[str, Callable[[], Callable[[], bool]]] = {
        "synthesis": lambda: more("clips/*/*.wav"),
        "encoding": lambda: more("mp3/*/*.mp3"),
        "assembly": lambda: lambda: _count(book_dir, ".*.mp3.partial") > 0,
        "publish": lambda: lambda: (book_dir / "cover.jpg").exists(),
    }
    killed = []
    for stage, moment in moments.items():
        if _kill_when(root, output, moment(), stage):
            killed.append(stage)
        _assert_visible_files_complete(book_dir, f"a kill during {stage}")
    assert {"synthesis", "encoding"} <= set(killed), killed  # the later stages are quick: best effort
    _resume_and_compare(root, output, expected)


def test_killed_at_random_moments_then_resumed_is_identical(reference, tmp_path: Path) -> None:
    root, expected, duration_s = reference
    seed = int(os.environ.get("KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    output = tmp_path / "out"
    for kill in range(4):
        delay = rng.uniform(0.2, duration_s)
        _kill_after(root, output, delay)
        _assert_visible_files_complete(output / TITLE, f"kill {kill} at {delay:.2f} s (KILL_SEED={seed})")
    _resume_and_compare(root, output, expected)


def test_killed_while_rewriting_a_finished_book_then_resumed_is_identical(reference, tmp_path: Path) -> None:
    """A recast rebuild killed halfway leaves old or new files, each whole; the original comes back."""
    root, expected, duration_s = reference
    output = tmp_path / "out"
    shutil.copytree(root / "reference", output)  # the finished book, with its cache
    rng = random.Random(6)
    for kill in range(3):
        delay = rng.uniform(0.5, duration_s)
        _kill_after(root, output, delay, "--narrator-voice", "en+m3")
        _assert_visible_files_complete(output / TITLE, f"kill {kill} of a rebuild at {delay:.2f} s")
    _resume_and_compare(root, output, expected)
