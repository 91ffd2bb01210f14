"""Making clips the way builds make them (produce): worker processes, real eSpeak NG, the clip and part caches."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audiobook.encode import part_path
from audiobook.engine import SAMPLE_RATE_HZ, Voice, engine_id
from audiobook.errors import AudiobookError, EngineError
from audiobook.produce import PartRequest, Produced, ProduceOptions, Reports, part_requests, produce
from audiobook.synthesize import ClipRequest, clip_key, clip_path

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


PAUSE_MS = 250
BITRATE_KBPS = 64


def make(
    clips: list[ClipRequest], cache_dir: Path, jobs: int, on_clip=None, on_part=None
) -> tuple[list[PartRequest], list[Produced]]:
    """Produce a part for every clip with the same pause after each, as a build would."""
    requests = part_requests([(clip, PAUSE_MS) for clip in clips], BITRATE_KBPS)
    return requests, produce(requests, ProduceOptions(cache_dir, BITRATE_KBPS), jobs, Reports(on_clip, on_part))


def wav_of(cache_dir: Path, request: PartRequest) -> Path:
    assert request.clip_key is not None
    return clip_path(cache_dir, request.clip_key)


def wav_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE_HZ)
        return wav.readframes(wav.getnframes())


def cli_pcm(request: ClipRequest) -> bytes:
    """The espeak-ng program's speech for the request (a fresh process), without its WAV header."""
    voice = request.voice
    command = ["espeak-ng", "-v", voice.voice_id, "-s", str(voice.rate_wpm), "-p", str(voice.pitch),
               "-a", str(round(voice.volume * 100)), "--stdout", request.text]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout[44:]


def clip_files(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "clips").rglob("*.wav"))


def part_files(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "mp3").rglob("*.mp3"))


@pytest.mark.needs_espeak
def test_500_clips_with_alternating_voices_are_complete_and_right(tmp_path: Path) -> None:
    """500 clips, alternating voices and rates, 2 workers, through the path builds use.

    Reference for each clip: the espeak-ng program run in its own fresh process with the same
    voice, rate, pitch and amplitude. The engine speaks every clip from a fresh eSpeak state, so
    the two must agree byte for byte: any truncated clip, lost setting or wrong voice shows up.
    """
    clips = varied_requests(500)
    spoken: list[object] = []
    parts: list[object] = []
    requests, produced = make(clips, tmp_path, jobs=2, on_clip=spoken.append, on_part=parts.append)

    assert len(produced) == len(spoken) == len(parts) == 500
    assert all(p.synthesized and not p.part.cached and p.part.frames > 0 for p in produced)
    assert len(clip_files(tmp_path)) == len(part_files(tmp_path)) == 500
    assert [p.part.path for p in produced] == [part_path(tmp_path, r.key) for r in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        references = list(pool.map(cli_pcm, clips))
    wrong = [
        (i, clip.voice.voice_id, clip.voice.rate_wpm, len(wav_pcm(wav_of(tmp_path, r))) // 2, len(reference) // 2)
        for i, (clip, r, reference) in enumerate(zip(clips, requests, references, strict=True))
        if wav_pcm(wav_of(tmp_path, r)) != reference
    ]
    assert wrong == [], f"{len(wrong)} clips differ (index, voice, rate, samples, expected): {wrong[:10]}"
    # the comparison can tell the voices apart: one text, five voices, five different sounds
    same_text = [cli_pcm(ClipRequest("Which voice is this?", voice)) for voice in VOICES]
    assert len(set(same_text)) == len(VOICES)


def test_output_does_not_depend_on_order_or_workers(tmp_path: Path) -> None:
    clips = varied_requests(60)
    shuffled = random.Random(7).sample(clips, len(clips))
    requests, parallel = make(clips, tmp_path / "a", jobs=2)
    shuffled_requests, serial = make(shuffled, tmp_path / "b", jobs=1)
    serial_bytes = {
        r.key: (wav_pcm(wav_of(tmp_path / "b", r)), p.part.path.read_bytes())
        for r, p in zip(shuffled_requests, serial, strict=True)
    }
    assert len(serial_bytes) == 60
    for r, p in zip(requests, parallel, strict=True):
        assert (wav_pcm(wav_of(tmp_path / "a", r)), p.part.path.read_bytes()) == serial_bytes[r.key]


def test_second_run_uses_the_cache_only(tmp_path: Path) -> None:
    clips = varied_requests(12)
    _, first = make(clips, tmp_path, jobs=2)
    files = [*clip_files(tmp_path), *part_files(tmp_path)]
    modified_ns = {path: path.stat().st_mtime_ns for path in files}
    spoken: list[object] = []
    _, second = make(clips, tmp_path, jobs=2, on_clip=spoken.append)

    assert not any(p.synthesized for p in second) and all(p.part.cached for p in second)
    assert len(spoken) == len(clips)  # a progress bar still reaches the end
    assert [(p.part.path, p.part.frames) for p in second] == [(p.part.path, p.part.frames) for p in first]
    assert {path: path.stat().st_mtime_ns for path in files} == modified_ns


def test_truncated_clip_is_detected_and_rebuilt(tmp_path: Path) -> None:
    """A clip is read again only when one of its parts is missing: then a truncated WAV is spoken again."""
    clips = varied_requests(4)
    requests, first = make(clips, tmp_path, jobs=1)
    wav = wav_of(tmp_path, requests[1])
    original, original_part = wav.read_bytes(), first[1].part.path.read_bytes()
    with wav.open("r+b") as file:
        file.truncate(len(original) // 2)
    first[1].part.path.unlink()

    _, second = make(clips, tmp_path, jobs=1)
    assert [p.synthesized for p in second] == [False, True, False, False]
    assert [p.part.cached for p in second] == [True, False, True, True]
    assert wav.read_bytes() == original and second[1].part.path.read_bytes() == original_part


def test_truncated_part_is_encoded_again_from_its_cached_clip(tmp_path: Path) -> None:
    clips = varied_requests(3)
    _, first = make(clips, tmp_path, jobs=1)
    path = first[2].part.path
    original = path.read_bytes()
    with path.open("r+b") as file:
        file.truncate(len(original) - 1)

    _, second = make(clips, tmp_path, jobs=1)
    assert [p.part.cached for p in second] == [True, True, False]
    assert not any(p.synthesized for p in second)  # its WAV was whole: encoded, not spoken
    assert path.read_bytes() == original


@pytest.mark.parametrize("damage", ["garbage", "empty", "other_rate", "odd_length"])
def test_damaged_or_foreign_clip_is_rebuilt(tmp_path: Path, damage: str) -> None:
    clips = varied_requests(2)
    requests, first = make(clips, tmp_path, jobs=1)
    path = wav_of(tmp_path, requests[0])
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
    first[0].part.path.unlink()  # so the clip is needed again

    _, produced = make(clips, tmp_path, jobs=1)
    assert [p.synthesized for p in produced] == [True, False]
    assert path.read_bytes() == original


def test_identical_requests_are_synthesized_once(tmp_path: Path) -> None:
    a, b = varied_requests(2)
    a_again = ClipRequest(a.text, Voice(a.voice.voice_id, a.voice.rate_wpm, a.voice.pitch, a.voice.volume))
    clips = [a, b, a, a_again, b]
    spoken: list[object] = []
    parts: list[object] = []
    _, produced = make(clips, tmp_path, jobs=2, on_clip=spoken.append, on_part=parts.append)

    assert len(clip_files(tmp_path)) == len(part_files(tmp_path)) == 2
    assert len(spoken) == len(parts) == len(clips)  # one call per request, for a progress bar
    assert produced[0] == produced[2] == produced[3] and produced[1] == produced[4]
    assert produced[0].part.path != produced[1].part.path
    assert all(p.synthesized for p in produced)


def test_same_clip_with_different_pauses_is_spoken_once(tmp_path: Path) -> None:
    (clip,) = varied_requests(1)
    requests = part_requests([(clip, 0), (clip, 700), (None, 700)], BITRATE_KBPS)
    produced = produce(requests, ProduceOptions(tmp_path, BITRATE_KBPS))
    assert len(clip_files(tmp_path)) == 1 and len(part_files(tmp_path)) == 3
    short, long, pause = (p.part.frames for p in produced)
    frame_ms = 1152 / 44.1  # one MPEG-1 Layer III frame at 44.1 kHz
    assert 600 <= (long - short) * frame_ms <= 700 + frame_ms  # the same speech, then 700 ms more of silence
    assert 600 <= pause * frame_ms <= 700 + frame_ms  # (less LAME's delay, which the speech already holds)
    assert produced[2].synthesized is False


def test_blank_text_gives_an_empty_clip(tmp_path: Path) -> None:
    requests, (produced,) = make([ClipRequest("  ", Voice())], tmp_path, jobs=1)
    assert produced.synthesized and wav_pcm(wav_of(tmp_path, requests[0])) == b""
    _, (again,) = make([ClipRequest("  ", Voice())], tmp_path, jobs=1)
    assert again.part.cached and not again.synthesized


def test_no_requests_start_no_workers(tmp_path: Path) -> None:
    assert produce([], ProduceOptions(tmp_path, BITRATE_KBPS), 4) == []
    assert not (tmp_path / "clips").exists()


def test_clips_and_parts_live_under_their_keys(tmp_path: Path) -> None:
    clip = varied_requests(1)[0]
    (request,), (produced,) = make([clip], tmp_path, jobs=1)
    key = clip_key(clip, engine_id())
    assert request.clip_key == key
    wav = wav_of(tmp_path, request)
    assert wav == tmp_path / "clips" / key[:2] / f"{key}.wav" and wav.is_file()
    assert produced.part.path == tmp_path / "mp3" / request.key[:2] / f"{request.key}.mp3"
    assert list(wav.parent.iterdir()) == [wav]  # no temporary files left behind
    assert list(produced.part.path.parent.iterdir()) == [produced.part.path]


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
        make([*good, bad], tmp_path, jobs=1)
    assert "'f9'" in str(error.value) and "\n" not in str(error.value)
    _, again = make(good, tmp_path, jobs=1)
    assert all(p.part.cached for p in again)


def test_dead_worker_becomes_one_line_error_and_finished_clips_stay(tmp_path: Path) -> None:
    clips = varied_requests(200)
    finished: list[object] = []

    def kill_workers_after_first_part(part: object) -> None:
        finished.append(part)
        if len(finished) == 1:
            for worker in multiprocessing.active_children():
                os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]

    with pytest.raises(AudiobookError) as error:
        make(clips, tmp_path, jobs=2, on_part=kill_workers_after_first_part)
    assert "worker" in str(error.value) and "\n" not in str(error.value)

    requests, produced = make(clips, tmp_path, jobs=2)
    cached = {p.part.path for p in produced if p.part.cached}
    assert {part.path for part in finished} <= cached  # type: ignore[attr-defined]
    assert len(cached) < len(clips)  # the build really was cut short
    for request in requests:
        wav_pcm(wav_of(tmp_path, request))  # every clip is a complete WAV


@pytest.mark.parametrize("jobs", [0, -1])
def test_jobs_must_be_positive(tmp_path: Path, jobs: int) -> None:
    with pytest.raises(EngineError, match="jobs"):
        make(varied_requests(1), tmp_path, jobs=jobs)
