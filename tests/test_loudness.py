"""Loudness: every file at the target and every voice as loud as the others, read by ffmpeg's EBU R128 meter."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy
import pytest
import soxr
from conftest import ebur128
from pydub import AudioSegment
from typer.testing import CliRunner

from audiobook import loudness
from audiobook.cli import app

STORY = """The Two Voices

"I am very quiet, and I always speak softly when the night comes over the hills," whispered Mira.

"And I am very loud, and I always shout across the whole valley when the sun is up," shouted Bram.

Mira nodded. "Yes," she said.

"Then we shall take turns, you and I, until the morning light returns to the hills," said Bram.

"Tell me again about the river and the old mill beside it, and the miller's white cat," said Mira.

"The river runs fast in spring, and the mill wheel turns all day long," said Bram.
"""

VOICES = """[book]
title = "Loud Book"
author = "Tester"

[characters.Mira]
gender = "female"
voice = "en-us+f3"
volume = 0.3

[characters.Bram]
gender = "male"
voice = "en-us+m3"
volume = 1.8
"""


def write_wav(path: Path, samples: numpy.ndarray, rate_hz: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(numpy.clip(numpy.round(samples * 32768), -32768, 32767).astype(numpy.int16).tobytes())
    return path


def espeak(tmp_path: Path, text: str, voice: str, amplitude: int) -> numpy.ndarray:
    path = tmp_path / f"{voice}-{amplitude}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-a", str(amplitude), "-w", str(path), text], check=True)
    audio = AudioSegment.from_wav(path)
    return numpy.frombuffer(audio.raw_data, dtype=numpy.int16).astype(numpy.float32) / 32768


def build(root: Path, *extra: str) -> Path:
    (root / "stories").mkdir(parents=True)
    (root / "stories" / "01.txt").write_text(STORY, encoding="utf-8")
    (root / "voices.toml").write_text(VOICES, encoding="utf-8")
    args = ["build", str(root / "stories"), "-o", str(root / "out"), "--voices", str(root / "voices.toml"), "-j", "2"]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return root / "out" / "Loud Book"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("loud"))


def test_our_meter_reads_what_ffmpeg_reads(tmp_path: Path) -> None:
    for text, voice, amplitude in [("Is it raining? Not yet, said Kaito, and he smiled at her.", "en-us+f3", 180),
                                   ("Yes.", "en+m3", 30)]:  # the second is shorter than a 400 ms block
        samples = espeak(tmp_path, text, voice, amplitude)
        path = write_wav(tmp_path / "clip.wav", samples, 22_050)
        if len(samples) >= 0.4 * 22_050:
            assert abs(loudness.integrated_lufs(samples, 22_050) - ebur128(path).integrated_lufs) < 0.1
        assert abs(loudness.true_peak_dbtp(samples, 22_050) - ebur128(path).true_peak_dbtp) < 0.2


def test_a_clip_is_brought_to_the_target_and_held_under_the_ceiling(tmp_path: Path) -> None:
    samples = soxr.resample(
        espeak(tmp_path, "The river runs fast in spring, all day long.", "en-us+m3", 200), 22_050, 44_100
    )
    for target in (-19.0, -13.0):  # at -13 the limiter must work hard: eSpeak's peaks sit about 15 dB over its loudness
        result = loudness.level(samples, 44_100, target)
        assert (
            loudness.true_peak_dbtp(result.samples, 44_100)
            <= loudness.PEAK_LIMIT_DBTP - loudness.CODEC_HEADROOM_DB + 0.01
        )
        silence = numpy.zeros(round(0.4 * 44_100), dtype=numpy.float32)
        measured = loudness.integrated_lufs(numpy.concatenate((silence, result.samples, silence)), 44_100)
        assert abs(measured - target) < (0.1 if result.limited_db == 0 else 1.0), (target, measured)
    assert loudness.level(samples, 44_100, -19.0).limited_db == 0
    assert loudness.level(samples, 44_100, -13.0).limited_db > 0


def test_the_limiters_peaks_are_the_meters_where_they_matter(tmp_path: Path) -> None:
    """The limiter interpolates peaks only next to loud samples: there they must agree with the full 8x meter."""
    samples = espeak(tmp_path, "Shall we go down to the river, and sing as loudly as we can?", "en-us+f3", 200)
    samples = samples * (0.5 / numpy.abs(samples).max())
    level = 0.25
    interpolated = loudness.peaks_over(samples, 22_050, level)
    metered = loudness.true_peak(samples, 22_050)
    assert abs(20 * numpy.log10(interpolated.max() / metered.max())) < 0.05
    near = numpy.abs(samples) > level
    assert near.sum() > 100 and (interpolated[near] > numpy.abs(samples[near])).any()  # it did interpolate
    assert numpy.abs(20 * numpy.log10(interpolated[near] / metered[near])).max() < 0.2
    assert (interpolated[:-1][~(near[:-1] | near[1:])] == numpy.abs(samples[:-1][~(near[:-1] | near[1:])])).all()


def test_silence_is_left_alone() -> None:
    silence = numpy.zeros(44_100, dtype=numpy.float32)
    result = loudness.level(silence, 44_100, -19.0)
    assert result.gain_db == 0 and not result.samples.any()
    assert loudness.integrated_lufs(silence, 44_100) == float("-inf")


def test_the_file_is_at_the_target_with_its_true_peak_under_the_limit(book: Path) -> None:
    measured = ebur128(book / "01 - The Two Voices.mp3")
    assert abs(measured.integrated_lufs - loudness.DEFAULT_LOUDNESS_LUFS) <= 1.0, measured
    assert measured.true_peak_dbtp <= loudness.PEAK_LIMIT_DBTP, measured


def speaker_loudness(book: Path, name: str, tmp_path: Path) -> dict[str, float]:
    """Each speaker's lines cut from the finished MP3 (by the transcript's cue times), measured by ffmpeg."""
    mp3 = book / name
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = numpy.frombuffer(pcm, dtype=numpy.int16).astype(numpy.float32) / 32768
    cues = json.loads((book / ".audiobook.json").read_text(encoding="utf-8"))["files"][name]["cues"]
    gap = numpy.zeros(round(0.5 * 44_100), dtype=numpy.float32)
    lines: dict[str, list[numpy.ndarray]] = {}
    for start_ms, end_ms, speaker, _ in cues:
        lines.setdefault(speaker, []).extend([samples[start_ms * 441 // 10 : end_ms * 441 // 10], gap])
    return {
        speaker: ebur128(write_wav(tmp_path / f"{speaker}.wav", numpy.concatenate(parts), 44_100)).integrated_lufs
        for speaker, parts in lines.items()
    }


def test_every_voice_is_equally_loud(book: Path, tmp_path: Path) -> None:
    """Mira speaks at eSpeak volume 0.3 and Bram at 1.8 (about 15 dB apart as synthesized): not after levelling."""
    levels = speaker_loudness(book, "01 - The Two Voices.mp3", tmp_path)
    assert set(levels) == {"Mira", "Bram", "narrator"}
    assert max(levels.values()) - min(levels.values()) <= 1.0, levels
    assert abs(levels["Mira"] - levels["Bram"]) <= 1.0, levels


def test_the_target_can_be_set(tmp_path: Path) -> None:
    louder = build(tmp_path / "flag", "--loudness", "-16")
    assert abs(ebur128(louder / "01 - The Two Voices.mp3").integrated_lufs + 16) <= 1.0
    root = tmp_path / "toml"
    (root / "stories").mkdir(parents=True)
    (root / "stories" / "01.txt").write_text(STORY, encoding="utf-8")
    (root / "voices.toml").write_text(VOICES.replace('author = "Tester"', 'author = "Tester"\nloudness_lufs = -23'))
    args = ["build", str(root / "stories"), "-o", str(root / "out"), "--voices", str(root / "voices.toml"), "-j", "2"]
    assert CliRunner().invoke(app, args).exit_code == 0
    quieter = ebur128(root / "out" / "Loud Book" / "01 - The Two Voices.mp3")
    assert abs(quieter.integrated_lufs + 23) <= 1.0 and quieter.true_peak_dbtp <= loudness.PEAK_LIMIT_DBTP
