"""The eSpeak helper process (zygote): the same bytes as the espeak-ng program, and what happens when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults import LONG_STORIES, TITLE, group_members, kill_group, run_build, snapshot, start_build, write_book

from audiobook.engine import Voice
from audiobook.errors import EngineError
from audiobook.zygote import SpeechProcess

VOICES = [Voice(), Voice("en-us+f3", 220, 70), Voice("en+m3", 120, 30, 0.5), Voice("en-gb-scotland+Annie")]
TEXT = "Is this exactly what espeak says? Yes, 42 times."


def cli_pcm(text: str, voice: Voice) -> bytes:
    command = ["espeak-ng", "-v", voice.voice_id, "-s", str(voice.rate_wpm), "-p", str(voice.pitch),
               "-a", str(round(voice.volume * 100)), "--stdout", text]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout[44:]


@pytest.fixture()
def helper():
    helper = SpeechProcess()
    yield helper
    helper.close()


def ended(pid: int) -> bool:
    """The process is gone, or dead and waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def wait_until_ended(pid: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not ended(pid):
        assert time.monotonic() < deadline, f"process {pid} still running after {timeout_s} s"
        time.sleep(0.01)


@pytest.mark.needs_espeak
def test_speech_is_byte_identical_to_the_espeak_ng_program(helper: SpeechProcess) -> None:
    for voice in [*VOICES, *VOICES]:  # each voice twice, after others: no state carried over
        assert helper.speak(TEXT, voice) == cli_pcm(TEXT, voice)


def test_errors_come_back_as_one_line(helper: SpeechProcess) -> None:
    with pytest.raises(EngineError) as error:
        helper.speak("Never spoken.", Voice("en-us+f9"))
    assert "'f9'" in str(error.value) and "\n" not in str(error.value)
    assert helper.speak("Still here.", Voice())  # the helper carries on


def test_a_killed_helper_is_replaced_and_the_speech_is_the_same(helper: SpeechProcess) -> None:
    first = helper.speak(TEXT, VOICES[1])
    old = helper.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    wait_until_ended(old)
    assert helper.speak(TEXT, VOICES[1]) == first
    assert helper.pid not in (None, old)


def test_a_helper_that_keeps_dying_gives_one_line(tmp_path: Path) -> None:
    helper = SpeechProcess([sys.executable, "-c", "import sys; sys.exit(3)"])
    try:
        with pytest.raises(EngineError) as error:
            helper.speak("Hello.", Voice())
    finally:
        helper.close()
    message = str(error.value)
    assert "\n" not in message and "died twice" in message and "exit status 3" in message and "run again" in message


def test_the_helper_ends_when_its_worker_ends_without_closing_it() -> None:
    """A worker that dies (or forgets close()) leaves no helper behind: its end closes the pipe."""
    worker = (
        "import os; from audiobook.engine import Voice; from audiobook.zygote import SpeechProcess; "
        "helper = SpeechProcess(); helper.speak('Hello.', Voice()); print(helper.pid, flush=True); os._exit(0)"
    )
    result = subprocess.run([sys.executable, "-c", worker], capture_output=True, text=True, timeout=60, check=True)
    wait_until_ended(int(result.stdout))


def _helpers(build_pid: int) -> list[int]:
    found = []
    for pid in group_members(build_pid):
        try:
            if b"audiobook.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_helpers_killed_mid_build_are_replaced_and_the_book_is_the_same(tmp_path: Path) -> None:
    write_book(tmp_path, LONG_STORIES)  # long enough that the build is surely still running when they are killed
    reference = run_build(tmp_path, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    build = start_build(tmp_path, tmp_path / "out")
    killed = 0
    try:
        while build.poll() is None and not killed:
            clips = list((tmp_path / "out" / ".cache").glob("clips/*/*.wav"))
            helpers = _helpers(build.pid)
            if len(clips) >= 2 and helpers:
                for pid in helpers:
                    os.kill(pid, signal.SIGKILL)
                killed = len(helpers)
        _, stderr = build.communicate(timeout=120)
    finally:
        kill_group(build)
    assert build.returncode == 0, stderr
    assert killed, "the build ended before its helpers could be killed"
    assert snapshot(tmp_path / "out" / TITLE) == snapshot(tmp_path / "reference" / TITLE)
