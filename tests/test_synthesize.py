"""The synthesize stage: worker processes, real eSpeak NG, the clip cache."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audiobook.engine import Voice, engine_id
from audiobook.errors import EngineError
from audiobook.synthesize import Clip, ClipRequest, clip_key, clip_path, synthesize

SENTENCES = [
    "The tower leaned into the wind.",
    "Are you coming, or not?",
    "She laughed; the sound echoed off the stones.",
    "Forty-two birds left at dawn.",
    "No!",
    "He whispered, \u201cwait for me.\u201d",
    "Rain again, and the road was gone.",
]
VOICES = [  # alternate base voices, variants, pitches and volumes
    Voice("en-us", pitch=50),
    Voice("en-us+f3", pitch=70),
    Voice("en+m3", pitch=35, volume=0.8),
    Voice("en-gb-scotland+Annie", pitch=55),
    Voice("en-us+klatt", pitch=45, volume=1.2),
]
RATES_WPM = [130, 175, 260]


def with_rate(voice: Voice, rate_wpm: int) -> Voice:
    return Voice(voice.voice_id, rate_wpm, voice.pitch, voice.volume)


def varied_requests(count: int) -> list[ClipRequest]:
    """Every clip differs from the previous one in voice and rate; all texts are distinct."""
    return [
        ClipRequest(
            f"{SENTENCES[i % len(SENTENCES)]} {i}.",
            with_rate(VOICES[i % len(VOICES)], RATES_WPM[i % len(RATES_WPM)]),
        )
        for i in range(count)
    ]


def wav_pcm(clip: Clip) -> bytes:
    with wave.open(str(clip.path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, clip.sample_rate_hz)
        assert wav.getnframes() == clip.samples
        return wav.readframes(wav.getnframes())


def cli_pcm(request: ClipRequest) -> bytes:
    """The espeak-ng program's speech for the request (a fresh process), without its WAV header."""
    voice = request.voice
    command = ["espeak-ng", "-v", voice.voice_id, "-s", str(voice.rate_wpm), "-p", str(voice.pitch),
               "-a", str(round(voice.volume * 100)), "--stdout", request.text]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout[44:]


def clip_files(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "clips").rglob("*.wav"))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program as the reference")
def test_500_clips_with_alternating_voices_are_complete_and_right(tmp_path: Path) -> None:
    """The issue's test: 500 clips, alternating voices and rates, 2 workers.

    Reference for each clip: the espeak-ng program run in its own fresh process with the same
    voice, rate, pitch and amplitude. The engine speaks every clip from a fresh eSpeak state, so
    the two must agree byte for byte: any truncated clip, lost setting or wrong voice shows up.
    """
    requests = varied_requests(500)
    finished: list[Clip] = []
    clips = synthesize(requests, tmp_path, jobs=2, on_clip=finished.append)

    assert len(clips) == len(finished) == 500
    assert not any(clip.cached for clip in clips)
    assert len(clip_files(tmp_path)) == 500
    with ThreadPoolExecutor(max_workers=4) as pool:
        references = list(pool.map(cli_pcm, requests))
    wrong = [
        (i, request.voice.voice_id, request.voice.rate_wpm, clip.samples, len(reference) // 2)
        for i, (request, clip, reference) in enumerate(zip(requests, clips, references))
        if wav_pcm(clip) != reference
    ]
    assert wrong == [], f"{len(wrong)} clips differ (index, voice, rate, samples, expected): {wrong[:10]}"
    # the comparison can tell the voices apart: one text, five voices, five different sounds
    same_text = [cli_pcm(ClipRequest("Which voice is this?", voice)) for voice in VOICES]
    assert len(set(same_text)) == len(VOICES)


def test_output_does_not_depend_on_order_or_workers(tmp_path: Path) -> None:
    requests = varied_requests(60)
    shuffled = random.Random(7).sample(requests, len(requests))
    parallel = synthesize(requests, tmp_path / "a", jobs=2)
    serial = synthesize(shuffled, tmp_path / "b", jobs=1)
    serial_pcm = {request: wav_pcm(clip) for request, clip in zip(shuffled, serial)}
    assert all(wav_pcm(clip) == serial_pcm[request] for request, clip in zip(requests, parallel))


def test_second_run_uses_the_cache_only(tmp_path: Path) -> None:
    requests = varied_requests(12)
    first = synthesize(requests, tmp_path, jobs=2)
    modified_ns = {clip.path: clip.path.stat().st_mtime_ns for clip in first}
    finished: list[Clip] = []
    second = synthesize(requests, tmp_path, jobs=2, on_clip=finished.append)

    assert all(clip.cached for clip in second) and all(clip.cached for clip in finished)
    assert len(finished) == len(requests)
    assert [(c.path, c.samples, c.sample_rate_hz) for c in second] == [
        (c.path, c.samples, c.sample_rate_hz) for c in first
    ]
    assert {clip.path: clip.path.stat().st_mtime_ns for clip in second} == modified_ns


def test_truncated_clip_is_detected_and_rebuilt(tmp_path: Path) -> None:
    requests = varied_requests(4)
    first = synthesize(requests, tmp_path, jobs=1)
    original = first[1].path.read_bytes()
    with first[1].path.open("r+b") as file:
        file.truncate(len(original) // 2)

    second = synthesize(requests, tmp_path, jobs=1)
    assert [clip.cached for clip in second] == [True, False, True, True]
    assert second[1].path.read_bytes() == original


@pytest.mark.parametrize("damage", ["garbage", "empty", "other_rate", "odd_length"])
def test_damaged_or_foreign_clip_is_rebuilt(tmp_path: Path, damage: str) -> None:
    requests = varied_requests(2)
    path = synthesize(requests, tmp_path, jobs=1)[0].path
    original = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a wav file at all" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "other_rate":
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(16000)
            wav.writeframes(original[44:])
    else:
        path.write_bytes(original + b"\x00")  # header no longer matches the file

    clips = synthesize(requests, tmp_path, jobs=1)
    assert [clip.cached for clip in clips] == [False, True]
    assert path.read_bytes() == original


def test_identical_requests_are_synthesized_once(tmp_path: Path) -> None:
    a, b = varied_requests(2)
    a_again = ClipRequest(a.text, Voice(a.voice.voice_id, a.voice.rate_wpm, a.voice.pitch, a.voice.volume))
    requests = [a, b, a, a_again, b]
    finished: list[Clip] = []
    clips = synthesize(requests, tmp_path, jobs=2, on_clip=finished.append)

    assert len(clip_files(tmp_path)) == 2
    assert len(finished) == len(requests)  # one call per request, for a progress bar
    assert clips[0] == clips[2] == clips[3] and clips[1] == clips[4]
    assert clips[0].path != clips[1].path
    assert not any(clip.cached for clip in clips)


def test_blank_text_gives_an_empty_clip(tmp_path: Path) -> None:
    (clip,) = synthesize([ClipRequest("  ", Voice())], tmp_path, jobs=1)
    assert clip.samples == 0 and wav_pcm(clip) == b""
    (again,) = synthesize([ClipRequest("  ", Voice())], tmp_path, jobs=1)
    assert again.cached


def test_no_requests_start_no_workers(tmp_path: Path) -> None:
    assert synthesize([], tmp_path, jobs=4) == []
    assert not (tmp_path / "clips").exists()


def test_clips_live_under_their_key(tmp_path: Path) -> None:
    request = varied_requests(1)[0]
    (clip,) = synthesize([request], tmp_path, jobs=1)
    key = clip_key(request, engine_id())
    assert clip.path == clip_path(tmp_path, key) == tmp_path / "clips" / key[:2] / f"{key}.wav"
    assert list(clip.path.parent.iterdir()) == [clip.path]  # no temporary files left behind


def test_clip_key_covers_engine_voice_and_text() -> None:
    request = ClipRequest("Hello.", Voice("en-us+f3", 175, 50, 1.0))
    key = clip_key(request, "espeak-ng 1.51 / pyttsx3 2.99")
    assert len(key) == 64 and int(key, 16) >= 0
    assert clip_key(request, "espeak-ng 1.51 / pyttsx3 2.99") == key
    assert clip_key(ClipRequest("Hello.", Voice("en-us+f3", 175, 50, 1)), "espeak-ng 1.51 / pyttsx3 2.99") == key
    others = [
        clip_key(request, "espeak-ng 1.52 / pyttsx3 2.99"),
        clip_key(ClipRequest("Hello!", request.voice), "espeak-ng 1.51 / pyttsx3 2.99"),
        clip_key(ClipRequest("Hello.", Voice("en-us+f4", 175, 50, 1.0)), "espeak-ng 1.51 / pyttsx3 2.99"),
        clip_key(ClipRequest("Hello.", Voice("en-us+f3", 176, 50, 1.0)), "espeak-ng 1.51 / pyttsx3 2.99"),
        clip_key(ClipRequest("Hello.", Voice("en-us+f3", 175, 51, 1.0)), "espeak-ng 1.51 / pyttsx3 2.99"),
        clip_key(ClipRequest("Hello.", Voice("en-us+f3", 175, 50, 1.1)), "espeak-ng 1.51 / pyttsx3 2.99"),
    ]
    assert len({key, *others}) == 1 + len(others)


def test_unknown_voice_fails_and_keeps_finished_clips(tmp_path: Path) -> None:
    good = varied_requests(3)
    bad = ClipRequest("Never spoken.", Voice("en-us+f9"))
    with pytest.raises(EngineError) as error:
        synthesize([*good, bad], tmp_path, jobs=1)
    assert "'f9'" in str(error.value) and "\n" not in str(error.value)
    assert all(clip.cached for clip in synthesize(good, tmp_path, jobs=1))


def test_dead_worker_becomes_engine_error_and_finished_clips_stay(tmp_path: Path) -> None:
    requests = varied_requests(200)
    finished: list[Clip] = []

    def kill_workers_after_first_clip(clip: Clip) -> None:
        finished.append(clip)
        if len(finished) == 1:
            for worker in multiprocessing.active_children():
                os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]

    with pytest.raises(EngineError) as error:
        synthesize(requests, tmp_path, jobs=2, on_clip=kill_workers_after_first_clip)
    assert "worker" in str(error.value) and "\n" not in str(error.value)

    clips = synthesize(requests, tmp_path, jobs=2)
    cached_paths = {clip.path for clip in clips if clip.cached}
    assert {clip.path for clip in finished} <= cached_paths
    for clip in clips:
        wav_pcm(clip)  # every clip is a complete WAV


@pytest.mark.parametrize("jobs", [0, -1])
def test_jobs_must_be_positive(tmp_path: Path, jobs: int) -> None:
    with pytest.raises(EngineError, match="jobs"):
        synthesize(varied_requests(1), tmp_path, jobs=jobs)
