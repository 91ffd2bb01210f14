"""The casting workflow through the real CLI: cast, cast --write, voices, preview."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiobook.cli import app
from audiobook.config import load_config

STORY = """Rin met Len at the gate. He was holding two tickets.

"Where are we going?" Rin asked.

"The fair," Len said.

"Tonight?" Rin asked.

"Tonight, and the fireworks too," Len said.
"""


@pytest.fixture()
def story(tmp_path: Path) -> Path:
    path = tmp_path / "gate.txt"
    path.write_text(STORY, encoding="utf-8")
    (tmp_path / "voices.toml").write_text(
        '[characters.Rin]\ngender = "female"\nvoice = "en-us+f2"\n\n[characters.Gakupo]\nvoice = "en-us+m1"\n',
        encoding="utf-8",
    )
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cast_table_and_unmentioned_warning(story: Path) -> None:
    voices = story.parent / "voices.toml"
    result = invoke("cast", str(story), "--voices", str(voices))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "narrator: en rate 165 pitch 45 (default)"
    assert lines[1].split() == ["name", "aliases", "gender", "lines", "words", "voice", "from", "first", "line"]
    rin = lines[2].split()
    assert rin[:5] == ["Rin", "-", "female", "2", "5"] and "en-us+f2" in rin and "voices.toml" in rin
    len_row = lines[3].split()
    assert len_row[0] == "Len" and len_row[3:5] == ["2", "7"] and "auto" in len_row
    assert result.stderr == f"warning: {voices}:5: Gakupo is never mentioned in the stories: a typo?\n"


def test_cast_write_makes_a_valid_voices_toml_that_keeps_the_voices(story: Path) -> None:
    voices, written = story.parent / "voices.toml", story.parent / "starter.toml"
    first = invoke("cast", str(story), "--voices", str(voices), "--write", str(written))
    assert first.exit_code == 0 and first.stdout.endswith(f"Wrote {written}\n")
    config = load_config(written)
    assert [c.name for c in config.characters] == ["Rin", "Len"]
    again = invoke("cast", str(story), "--voices", str(written))
    table = lambda out: [line.split()[:7] for line in out.splitlines()[2:4]]  # noqa: E731
    assert [row[:5] + row[6:] for row in table(again.stdout)] == [row[:5] + row[6:] for row in table(first.stdout)]
    refused = invoke("cast", str(story), "--voices", str(voices), "--write", str(written))
    assert refused.exit_code == 1
    assert refused.stderr == f"error: {written}: already exists: choose another file name, or delete it first\n"


def test_voices_lists_languages_and_variants_with_gender() -> None:
    result = invoke("voices", "--language", "en")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Voices:"
    assert any(line.split()[0] == "en-us" for line in lines)
    f3 = next(line for line in lines if line.split()[0] == "+f3")
    assert f3.split()[1] == "female"
    assert not any(line.split()[0] == "fr" for line in lines[1:] if line.startswith("  "))


def test_preview_speaks_the_characters_own_lines(story: Path, tmp_path: Path) -> None:
    out = tmp_path / "rin.mp3"
    result = invoke(
        "preview", "Rin", str(story), "--voices", str(story.parent / "voices.toml"), "-o", str(out), "--no-play"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Rin: en-us+f2 rate 170 pitch 50", "  Where are we going?", "  Tonight?", f"Wrote {out}",
    ]
    info = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(out)],
        capture_output=True, text=True, check=True).stdout)
    assert info["streams"][0]["codec_name"] == "mp3" and 1.0 < float(info["format"]["duration"]) < 10


def test_preview_of_someone_who_never_speaks(story: Path, tmp_path: Path) -> None:
    result = invoke(
        "preview", "Gakupo", str(story), "--voices", str(story.parent / "voices.toml"), "-o", str(tmp_path / "g.mp3")
    )
    assert result.exit_code == 1
    assert result.stderr == "error: no character called 'Gakupo' speaks in this book: choose one of Rin, Len\n"


def test_cast_gives_a_speaker_of_unknown_gender_the_narrators_voice_at_another_pitch(tmp_path: Path) -> None:
    story = tmp_path / "knock.txt"
    story.write_text(
        'The door creaked open.\n\n"Who goes there?" called a voice from the dark.\n\n'
        'Tom lifted his lamp. "Only me," he said.\n',
        encoding="utf-8",
    )
    voices = tmp_path / "narrator.toml"
    voices.write_text('[narrator]\nvoice = "en-gb-scotland"\npitch = 40\n', encoding="utf-8")
    result = invoke("cast", str(story), "--voices", str(voices))
    assert result.exit_code == 0, result.output
    rows = {row[:7].strip(): row[7:].split() for row in result.stdout.splitlines()[2:]}
    gender, _lines, _words, voice, _, _rate, _, pitch = rows["a voice"][1:9]
    assert gender == "?" and voice == "en-gb-scotland"  # the narrator's voice, checked by eSpeak NG...
    assert int(pitch) != 40  # ...at a pitch of its own
    assert rows["Tom"][1] == "male" and rows["Tom"][4] != "en-gb-scotland"


def test_a_creature_the_story_calls_it_gets_a_neutral_voice(tmp_path: Path) -> None:
    """A speaker called "it" (not he or she) keeps no gender, and draws from `[pools] other`, the
    voices the user chose as neutral, never from the women's or the men's."""
    story = tmp_path / "wood.txt"
    story.write_text(
        "Wren walked into the wood. She found a Beetle sitting on a stump. The Beetle waved its feelers "
        "at her and folded its wings.\n\n"
        '"Who are you?" said the Beetle.\n\n"I am Wren," said Wren. She sat down beside it.\n\n'
        '"Then sit still," said the Beetle, and it closed its eyes.\n',
        encoding="utf-8",
    )
    voices = tmp_path / "wood.toml"
    pools = '[pools]\nother = ["en-us+klatt"]\nfemale = ["en-us+f2"]\nmale = ["en-us+m3"]\n'
    voices.write_text(pools, encoding="utf-8")
    result = invoke("cast", str(story), "--voices", str(voices))
    assert result.exit_code == 0, result.output
    rows = {row.split()[0]: row.split()[1:] for row in result.stdout.splitlines()[2:]}
    assert rows["Beetle"][1] == "?" and rows["Beetle"][4] == "en-us+klatt"
    assert rows["Wren"][1] == "female" and rows["Wren"][4] == "en-us+f2"
