"""The eSpeak helper process (zygote): the same bytes as the espeak-ng program, and what happens when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from audiobook.engine import Voice
from audiobook.errors import EngineError
from audiobook.zygote import Speaker

from faults import LONG_STORIES, TITLE, run_build, snapshot, start_build, kill_group, write_book, _group_members

VOICES = [Voice(), Voice("en-us+f3", 220, 70), Voice("en+m3", 120, 30, 0.5), Voice("en-gb-scotland+Annie")]
TEXT = "Is this exactly what espeak says? Yes, 42 times."


def cli_pcm(text: str, voice: Voice) -> bytes:
    command = ["espeak-ng", "-v", voice.voice_id, "-s", str(voice.rate_wpm), "-p", str(voice.pitch),
               "-a", str(round(voice.volume * 100)), "--stdout", text]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout[44:]


@pytest.fixture()
def speaker():
    speaker = Speaker()
    yield speaker
    speaker.close()


@pytest.mark.needs_espeak
def test_speech_is_byte_identical_to_the_espeak_ng_program(speaker: Speaker) -> None:
    for voice in [*VOICES, *VOICES]:  # each voice twice, after others: no state carried over
        assert speaker.speak(TEXT, voice) == cli_pcm(TEXT, voice)


def test_errors_come_back_as_one_line(speaker: Speaker) -> None:
    with pytest.raises(EngineError) as error:
        speaker.speak("Never spoken.", Voice("en-us+f9"))
    assert "'f9'" in str(error.value) and "\n" not in str(error.value)
    assert speaker.speak("Still here.", Voice())  # the helper carries on


def test_a_killed_helper_is_replaced_and_the_speech_is_the_same(speaker: Speaker) -> None:
    first = speaker.speak(TEXT, VOICES[1])
    assert speaker._process is not None
    old = speaker._process.pid
    os.kill(old, signal.SIGKILL)
    speaker._process.wait()
    assert speaker.speak(TEXT, VOICES[1]) == first
    assert speaker._process.pid != old


def test_a_helper_that_keeps_dying_gives_one_line(tmp_path: Path) -> None:
    speaker = Speaker([sys.executable, "-c", "import sys; sys.exit(3)"])
    try:
        with pytest.raises(EngineError) as error:
            speaker.speak("Hello.", Voice())
    finally:
        speaker.close()
    message = str(error.value)
    assert "\n" not in message and "died twice" in message and "exit status 3" in message and "run again" in message


def test_the_helper_ends_when_its_worker_closes_the_pipe() -> None:
    speaker = Speaker()
    speaker.speak("Hello.", Voice())
    process = speaker._process
    assert process is not None and process.stdin is not None
    process.stdin.close()
    assert process.wait(timeout=30) == 0


def _helpers(build_pid: int) -> list[int]:
    found = []
    for pid in _group_members(build_pid):
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
