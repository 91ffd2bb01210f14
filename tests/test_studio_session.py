"""The studio's session without a browser: what a save does to the book as `build` reads it."""

from __future__ import annotations

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


def test_a_merge_takes_the_other_names_it_was_known_by(studio) -> None:  # noqa: ANN001
    before = rows(studio)
    assert before["Kaito"].aliases and not studio.book().cast[0].name == "Kaito"
    names = before["Kaito"].aliases
    studio.save(studio.book().revision, [{"op": "merge", "name": "Kaito", "into": "Luka"}])
    after = rows(studio)
    assert "Kaito" not in after and not set(names) & set(after)
    assert {"Kaito", *names} <= set(after["Luka"].aliases)


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


def test_not_a_character_leaves_the_cast(studio) -> None:  # noqa: ANN001
    assert "Len" in rows(studio)
    studio.save(studio.book().revision, [{"op": "not_character", "name": "Len"}])
    assert "Len" not in rows(studio)
    text = studio.casting_path.read_text(encoding="utf-8")
    assert "[characters.Len]" not in text and text.endswith('[not_characters]\nnames = ["Len"]\n')


def test_a_description_is_not_marked_not_a_character(studio) -> None:  # noqa: ANN001
    text = studio.casting_path.read_bytes()
    assert not rows(studio)["one man"].named and rows(studio)["Len"].named
    with pytest.raises(ConfigError, match="^'one man' is how the story describes a speaker, not a name: give"):
        studio.save(studio.book().revision, [{"op": "not_character", "name": "one man"}])
    assert studio.casting_path.read_bytes() == text


def line_of(studio, words: str):  # noqa: ANN001, ANN201 - (chapter number, LineView)
    return next((c.number, line) for c in studio.book().chapters for line in c.lines if words in line.text)


def test_a_line_fix_is_a_lines_entry_build_finds(studio) -> None:  # noqa: ANN001
    number, line = line_of(studio, "Why can't you sing anything right anymore?")
    assert line.speaker != "Luka"
    studio.save(studio.book().revision, [{"op": "line", "chapter": number, "line": line.index, "speaker": "Luka"}])
    text = studio.casting_path.read_text(encoding="utf-8")
    assert text.endswith('\n[[lines]]\nquote = "Why can\'t you sing"\nspeaker = "Luka"\n')
    assert line_of(studio, "Why can't you sing anything right anymore?")[1].speaker == "Luka"
    book, _ = studio.plan()
    assert [f.quote for f in book.fixed.values()] == ["Why can't you sing"]
    # the same line again: its entry changes, no second one
    studio.save(studio.book().revision, [{"op": "line", "chapter": number, "line": line.index, "speaker": "Miku"}])
    text = studio.casting_path.read_text(encoding="utf-8")
    assert text.count("[[lines]]") == 1 and text.endswith('quote = "Why can\'t you sing"\nspeaker = "Miku"\n')
    assert line_of(studio, "Why can't you sing anything right anymore?")[1].speaker == "Miku"


def test_a_quote_is_long_enough_to_find_one_line(tmp_path: Path) -> None:
    from audiobook.studio.session import Studio, StudioOptions

    story = tmp_path / "story.txt"
    story.write_text(
        "The Pony\n\n"
        '"Where did the pony go?" Ann asked.\n\n'
        '"Where did the pony go, Tom?" Ben asked.\n\n'
        '"Yes," Tom said.\n\n'
        '"Yes," Ann said.\n',
        encoding="utf-8",
    )
    voices = tmp_path / "voices.toml"
    voices.write_text("# mine\n", encoding="utf-8")
    studio = Studio(StudioOptions((story,), voices, tmp_path / "output", 1))
    _, line = line_of(studio, "Where did the pony go, Tom?")
    studio.save(studio.book().revision, [{"op": "line", "chapter": 1, "line": line.index, "speaker": "Tom"}])
    written = voices.read_text(encoding="utf-8")
    assert written == '# mine\n\n[[lines]]\nquote = "Where did the pony go,"\nspeaker = "Tom"\n'
    assert line_of(studio, "Where did the pony go, Tom?")[1].speaker == "Tom"
    assert line_of(studio, "Where did the pony go?")[1].speaker == "Ann"
    _, yes = line_of(studio, "Yes,")
    with pytest.raises(ConfigError, match="^the words 'Yes,' are said more than once in the book"):
        studio.save(studio.book().revision, [{"op": "line", "chapter": 1, "line": yes.index, "speaker": "Ben"}])


def test_a_lines_entry_that_finds_no_line_is_a_warning_on_the_page(studio) -> None:  # noqa: ANN001
    with studio.casting_path.open("a", encoding="utf-8") as file:
        file.write('\n[[lines]]\nquote = "Words nobody says"\nspeaker = "Miku"\n')
    warnings = studio.book().warnings
    assert len(warnings) == 1 and 'quote "Words nobody says" matches no line of dialogue' in warnings[0]


@pytest.mark.needs_espeak
def test_a_preview_of_someone_who_never_speaks_is_refused(studio) -> None:  # noqa: ANN001
    with pytest.raises(AudiobookError, match="no line to speak"):
        studio.preview("Nobody")


def test_a_casting_file_not_made_yet_is_made_by_the_first_save(tmp_path: Path) -> None:
    from audiobook.studio.session import Studio, StudioOptions

    root = copy_seed_book(tmp_path)
    new = root / "new.toml"
    studio = Studio(StudioOptions((root / "seeds",), new, root / "output", 1))
    assert not new.exists() and studio.casting_path == new
    kaito = rows(studio)["Kaito"]
    assert kaito.source == "auto" and not kaito.listed  # the built-in voices, not voices.toml beside the book
    studio.save(studio.book().revision, [{"op": "gender", "name": "Kaito", "gender": "male"}])
    assert new.read_text(encoding="utf-8") == '[characters.Kaito]\ngender = "male"\n'
    assert rows(studio)["Kaito"].listed
