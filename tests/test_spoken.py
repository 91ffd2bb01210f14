"""Nothing lost: every word of every story is spoken exactly once, in order."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiobook.attribution import attribute
from audiobook.errors import AudiobookError
from audiobook.load import parse_story
from audiobook.segment import segment, speech_text
from audiobook.spoken import check_spoken, spoken_words

SEEDS = sorted((Path(__file__).parent.parent / "seeds").glob("*.txt"))


def spoken_texts(text: str, path: Path = Path("story.txt")) -> list[str]:
    script = attribute(segment(parse_story(path, text, "utf-8")))
    return [speech_text(text[line.start : line.end]) for line in script.lines]


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_every_seed_word_spoken_once_in_order(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    texts = spoken_texts(text, path)
    assert spoken_words(" ".join(texts)) == spoken_words(text)
    check_spoken(text, texts, path)


def test_check_spoken_catches_a_lost_or_doubled_word() -> None:
    with pytest.raises(AudiobookError, match="would not speak every word once"):
        check_spoken("one two three", ["one three"], "s.txt")
    with pytest.raises(AudiobookError, match="would not speak every word once"):
        check_spoken("one two", ["one two", "two"], "s.txt")


def test_segments_tile_in_order_without_overlap() -> None:
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        seg = segment(parse_story(path, text, "utf-8"))
        pos = 0
        for s in seg.segments:
            assert s.start >= pos and s.end > s.start
            assert text[pos : s.start].strip(" \n*") == ""  # only whitespace or break lines between runs
            pos = s.end


STORY_CHARS = st.sampled_from(list("ab Zé\"“”‘’'.,!?—-\n\n*") + ["Kaito ", "said ", "she ", "I ", "\n\n\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(STORY_CHARS, min_size=1, max_size=80).map("".join).filter(lambda t: any(c.isalpha() for c in t)))
def test_any_text_keeps_every_word(text: str) -> None:
    assert spoken_words(" ".join(spoken_texts(text))) == spoken_words(text)
