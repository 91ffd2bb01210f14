"""Front matter: author's notes and disclaimers read under their own mark, or skipped."""

from pathlib import Path

import pytest

from audiobook.attribution import attribute
from audiobook.load import load_story
from audiobook.matter import drop_matter, expected_text, skipped_sections
from audiobook.segment import segment, speech_text
from audiobook.spoken import check_spoken, spoken_words

SEEDS = Path(__file__).parent.parent / "seeds"


def test_front_matter_skip_drops_notes_but_keeps_title_and_story() -> None:
    story = load_story(SEEDS / "01 - The Act of Leaving.txt")  # title, two scenes, an author's note
    script = attribute(segment(story))
    assert drop_matter(script, "read") is script
    skipped = drop_matter(script, "skip")
    kinds = {story.sections[story.paragraphs[line.paragraph].section].kind for line in skipped.lines}
    assert kinds == {"scene"}
    assert skipped.lines[0].paragraph == 0  # the title line is still read
    spoken = [speech_text(story.text[line.start : line.end]) for line in skipped.lines]
    check_spoken(expected_text(story, "skip"), spoken, story.path)  # nothing else lost
    assert len(spoken_words(expected_text(story, "skip"))) < len(spoken_words(story.text))
    assert skipped_sections(story, "skip") == ("Author's note",)
    assert skipped_sections(story, "read") == ()


def test_front_matter_at_the_start_is_skipped_too() -> None:
    story = load_story(SEEDS / "04 - Shiroshi.txt")
    script = drop_matter(attribute(segment(story)), "skip")
    first = story.text[script.lines[0].start : script.lines[0].end]
    assert "Author" not in first
    with pytest.raises(ValueError):
        drop_matter(script, "sometimes")  # type: ignore[arg-type]
