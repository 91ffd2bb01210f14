"""The studio's session without a browser: what a save does to the book as `build` reads it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from studio_run import copy_seed_book, needs_studio

from audiobook.config import Config
from audiobook.errors import AudiobookError, ConfigError

pytestmark = needs_studio


@pytest.fixture
def studio(tmp_path: Path):  # noqa: ANN201 - a Studio
    from audiobook.studio.session import Studio, StudioOptions

    root = copy_seed_book(tmp_path)
    return Studio(StudioOptions((root / "seeds",), root / "voices.toml", root / "output", 1))


def rows(studio) -> dict:  # noqa: ANN001
    return {row.name: row for row in studio.book().cast}


def test_merge_gives_the_lines_to_the_first(studio) -> None:  # noqa: ANN001
    before = rows(studio)
    revision = studio.book().revision
    studio.save(revision, [{"op": "merge", "name": "a voice", "into": "Kaito"}])
    after = rows(studio)
    assert "a voice" not in after
    assert after["Kaito"].lines == before["Kaito"].lines + before["a voice"].lines
    assert studio.book().revision != revision


def test_gender_decides_an_automatic_voice(studio) -> None:  # noqa: ANN001
    before = rows(studio)["a voice"]
    assert before.gender is None and before.source == "auto"
    studio.save(studio.book().revision, [{"op": "gender", "name": "a voice", "gender": "female"}])
    after = rows(studio)["a voice"]
    assert after.gender == "female"
    assert after.voice.id != before.voice.id
    assert after.voice.id in Config().pools["female"]


def test_a_voice_change_is_the_row_and_the_lines_voice(studio) -> None:  # noqa: ANN001
    voice = {"id": "en-us+m7", "rate": 190, "pitch": 35}
    studio.save(studio.book().revision, [{"op": "voice", "name": "Kaito", "voice": voice}])
    kaito = rows(studio)["Kaito"]
    assert (kaito.voice.id, kaito.voice.rate, kaito.voice.pitch, kaito.source) == ("en-us+m7", 190, 35, "voices.toml")
    book, _ = studio.plan()
    voices = {u.voice for c in book.chapters for u in c.utterances if u.speaker == "Kaito"}
    assert [(v.voice_id, v.rate_wpm, v.pitch) for v in voices] == [("en-us+m7", 190, 35)]


def test_an_unknown_voice_is_not_saved(studio) -> None:  # noqa: ANN001
    text = (studio.casting_path).read_bytes()
    with pytest.raises(ConfigError, match=r"^Kaito's voice: .*m99.*\(nothing was saved\)$"):
        voice = {"id": "en-us+m99", "rate": 170, "pitch": 40}
        studio.save(studio.book().revision, [{"op": "voice", "name": "Kaito", "voice": voice}])
    assert studio.casting_path.read_bytes() == text
    assert not list(studio.casting_path.parent.glob(".voices.toml.*"))  # no temporary left


def test_narration_and_missing_lines_cannot_change_speaker(studio) -> None:  # noqa: ANN001
    book = studio.book()
    narration = next(line for line in book.chapters[0].lines if line.kind == "narration")
    revision = book.revision
    with pytest.raises(ConfigError, match="only a line of dialogue"):
        studio.save(revision, [{"op": "line", "chapter": 1, "line": narration.index, "speaker": "Miku"}])
    with pytest.raises(ConfigError, match="no line 9999 in chapter 1"):
        studio.save(revision, [{"op": "line", "chapter": 1, "line": 9999, "speaker": "Miku"}])
    with pytest.raises(ConfigError, match="incomplete"):
        studio.save(revision, [{"op": "voice", "name": "Kaito"}])


@pytest.mark.skipif("not_characters" not in {f.name for f in fields(Config)},
                    reason="needs [not_characters] in voices.toml (issue #12, not on this branch yet)")
def test_not_a_character_leaves_the_cast(studio) -> None:  # noqa: ANN001
    assert "one man" in rows(studio)
    studio.save(studio.book().revision, [{"op": "not_character", "name": "one man"}])
    assert "one man" not in rows(studio)


@pytest.mark.needs_espeak
def test_a_preview_of_someone_who_never_speaks_is_refused(studio) -> None:  # noqa: ANN001
    with pytest.raises(AudiobookError, match="no line to speak"):
        studio.preview("Nobody")
