"""Faults with real processes: two builds at once, Ctrl-C, a full disk, a broken cache, a dying worker.

Each ends in one line on stderr and a known exit status, leaves every visible file whole, keeps
the finished work, and the same command run again completes the book.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import (
    LONG_STORIES,
    TITLE,
    check_complete,
    group_members,
    kill_group,
    run_build,
    snapshot,
    start_build,
    visible_files,
    write_book,
)

pytestmark = pytest.mark.slow


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    write_book(tmp_path)
    return tmp_path


@pytest.fixture()
def slow_root(tmp_path: Path) -> Path:
    """A book that takes a few seconds to build: the first of two builds is still running when the
    second one (a fresh process, a second or so to start and plan) reaches the lock."""
    write_book(tmp_path, LONG_STORIES)
    return tmp_path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with the book built uninterrupted: copied by tests that need a finished book."""
    root = tmp_path_factory.mktemp("built")
    write_book(root)
    assert run_build(root, root / "out").returncode == 0
    return root / "out"


def _copy_built(built: Path, output: Path) -> None:
    shutil.copytree(built, output, dirs_exist_ok=True)


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


def test_second_build_into_the_same_folder_refuses_naming_the_first(slow_root: Path) -> None:
    root = slow_root
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


def test_second_build_with_wait_runs_after_the_first(slow_root: Path) -> None:
    root = slow_root
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


def test_leftover_temporaries_in_the_cache_are_swept(root: Path, built: Path) -> None:
    output = root / "out"
    _copy_built(built, output)
    leftover = output / ".cache" / "clips" / "ab" / ".abcdef0123456789-x1y2z3.tmp"  # as a SIGKILL leaves them
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"RIFF")
    assert run_build(root, output).returncode == 0
    assert not leftover.exists()


# --- Ctrl-C ----------------------------------------------------------------------------------------


def test_ctrl_c_exits_130_with_one_line_and_keeps_finished_clips(slow_root: Path) -> None:
    root = slow_root  # a book of a few seconds: the small one can finish between the third clip and the Ctrl-C
    output = root / "out"
    build = start_build(root, output)
    try:
        _wait_for(lambda: _clips(output) >= 3 or build.poll() is not None)
        assert build.poll() is None, "the build ended before Ctrl-C"
        os.killpg(build.pid, signal.SIGINT)  # a terminal sends it to the whole foreground group
        _, stderr = build.communicate(timeout=60)
    finally:
        kill_group(build)
    assert build.returncode == 130
    assert _one_line_error(stderr) == (
        "error: interrupted: finished clips are cached; run the same command again to continue"
    )
    kept = _clips(output)
    assert kept >= 3
    _all_complete(output)
    again = run_build(root, output)
    assert again.returncode == 0, again.stderr
    assert _clip_counts(again.stdout)[1] >= kept


# --- disk full -------------------------------------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (the book needs about 2 MB); root only."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'not root'}): no real full disk to test")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Take up all the free space on `disk` but `leave_bytes`."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    size = stat.f_bavail * stat.f_frsize - leave_bytes
    if size > 0:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)
    return filler


def _grow(disk: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)


def test_disk_full_during_synthesis_then_rerun_continues(root: Path, small_disk: Path) -> None:
    output = small_disk / "out"
    failed = run_build(root, output)
    assert failed.returncode == 1
    message = _one_line_error(failed.stderr)
    assert "No space left on device" in message and "free disk space" in message, message
    kept = _clips(output)
    assert kept > 0
    _all_complete(output)
    _grow(small_disk, "16m")
    again = run_build(root, output)
    assert again.returncode == 0, again.stderr
    assert _clip_counts(again.stdout)[1] >= kept  # the clips made before the disk filled were kept
    _all_complete(output)


@pytest.mark.parametrize(
    ("extra", "free_bytes", "where"),
    [
        (("--author", "Bob"), 0, ".01 - The Gate.mp3.partial"),  # every chapter is re-tagged: no room for it
        (("--base-url", "https://example.org/book/"), 0, ".audiobook.json"),  # only the feed changes
        (("--base-url", "https://example.org/book/"), 16384, "cover.jpg"),  # room for the manifest only
    ],
)
def test_disk_full_while_rewriting_keeps_the_old_files_whole(
    root: Path, built: Path, small_disk: Path, extra: tuple[str, ...], free_bytes: int, where: str
) -> None:
    _grow(small_disk, "16m")
    output = small_disk / "out"
    _copy_built(built, output)
    before = snapshot(output / TITLE)
    filler = _fill(small_disk, free_bytes)
    failed = run_build(root, output, *extra)
    assert failed.returncode == 1, where
    message = _one_line_error(failed.stderr)
    assert "No space left on device" in message, message
    assert f"{output / TITLE / where}: " in message, message  # names the file it could not write
    after = snapshot(output / TITLE)
    assert sorted(after) == sorted(before)  # no temporary left behind, nothing lost
    _all_complete(output)
    filler.unlink()
    again = run_build(root, output, *extra)
    assert again.returncode == 0, again.stderr
    assert _clip_counts(again.stdout)[0] == 0


# --- a broken cache --------------------------------------------------------------------------------


def test_cache_that_is_a_file(root: Path) -> None:
    cache = root / "cache"
    cache.write_text("not a folder")
    failed = run_build(root, root / "out", "--cache", str(cache))
    assert failed.returncode == 1
    assert _one_line_error(failed.stderr) == (
        f"error: {cache}: cannot use it as the clip cache: File exists; remove what is there or pass another --cache"
    )


def test_cache_with_a_file_where_its_clips_folder_goes(root: Path) -> None:
    cache = root / "cache"
    cache.mkdir()
    (cache / "clips").write_text("not a folder")
    failed = run_build(root, root / "out", "--cache", str(cache))
    assert failed.returncode == 1
    message = _one_line_error(failed.stderr)
    assert str(cache / "clips") in message and "Not a directory" in message, message


# --- a worker dies ---------------------------------------------------------------------------------


def _workers(build_pid: int) -> list[int]:
    """The pool's worker processes (and their eSpeak children): forked by the forkserver, not the build."""
    found = []
    for pid in group_members(build_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if b"forkserver" in cmdline and ppid != build_pid:
            found.append(pid)
    return found


def test_workers_killed_mid_build_give_one_line_and_a_rerun_finishes(slow_root: Path) -> None:
    root = slow_root  # the small book can finish before its workers are found
    output = root / "out"
    build = start_build(root, output)
    try:
        _wait_for(lambda: _clips(output) >= 2 or build.poll() is not None)
        assert build.poll() is None, "the build ended before its workers could be killed"
        for pid in _workers(build.pid):
            os.kill(pid, signal.SIGKILL)
        _, stderr = build.communicate(timeout=60)
    finally:
        kill_group(build)
    assert build.returncode == 1
    message = _one_line_error(stderr)
    assert "run again" in message or "try another voice" in message, message
    _all_complete(output)
    kept = _clips(output)
    again = run_build(root, output)
    assert again.returncode == 0, again.stderr
    assert _clip_counts(again.stdout)[1] >= kept


# --- hostile text ----------------------------------------------------------------------------------

HOSTILE = (
    'Emoji 🎤🔥👩‍👩‍👧\n\nMiku waved. "Hello 👋🏽 world!" she said. \u202bمرحبا بالعالم\u202c and שלום.\n\n'
    '"Zero\u200dwidth\u200bjoin\u2066ers\u2069," Kaito said. 🏳️‍🌈\n\n'
    '"🎉🎉🎉" Miku sang.\n\n\u202e reversed text \u202c here.\n\nA broken byte: '
).encode("utf-8") + b"\xff\xfe caf\xe9 \xed\xa0\x80 done.\n"  # invalid UTF-8, an encoded lone surrogate


def test_a_story_of_emoji_rtl_zwj_and_broken_bytes_builds_with_warnings(tmp_path: Path) -> None:
    write_book(tmp_path, {"01.txt": "placeholder"})
    (tmp_path / "stories" / "01.txt").write_bytes(HOSTILE)
    output = tmp_path / "out"
    result = run_build(tmp_path, output)
    assert result.returncode == 0, result.stderr
    assert "undecodable characters skipped" in result.stdout
    assert "1 line with nothing speakable left silent, such as '🎉🎉🎉'" in result.stdout
    _all_complete(output)
    [vtt] = (output / TITLE).glob("*.vtt")
    transcript = vtt.read_text(encoding="utf-8")
    assert "Hello 👋🏽 world!" in transcript and "שלום" in transcript
    again = run_build(tmp_path, output)
    assert again.returncode == 0 and _clip_counts(again.stdout)[0] == 0
