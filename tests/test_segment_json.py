"""The `segment --json-dir` output tiles the text: segments in order, no gaps, no overlap."""

import hashlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from audiobook.attribute import attribute
from audiobook.load import parse_story
from audiobook.script_json import script_json
from audiobook.segment import segment

SEEDS = sorted((Path(__file__).parent.parent / "seeds").glob("*.txt"))
PIECES = st.sampled_from(
    list("ab Zé\"“”‘’'.,!?—-\n*") + ["Kaito ", "said ", "she ", "I ", "\n\n", "\n\n\n", "—", "--", "'Tis ", "Mr. ", "\u200b", "𝄞"]
)


def assert_tiles(text: str) -> dict:
    data = script_json(attribute(segment(parse_story(Path("s.txt"), text, "utf-8"))), "s.txt")
    pos = 0
    for s in data["segments"]:
        assert s["start"] == pos and s["end"] > s["start"]
        assert s["kind"] in ("narration", "dialogue")
        if s["kind"] == "narration":
            assert s["speaker"] is None
        pos = s["end"]
    assert pos == len(text)
    assert data["text_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    return data


def test_seed_segments_tile_their_text() -> None:
    for path in SEEDS:
        data = assert_tiles(path.read_text(encoding="utf-8"))
        assert any(s["kind"] == "dialogue" for s in data["segments"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=120).map("".join).filter(lambda t: any(c.isalpha() for c in t)))
def test_any_text_tiles(text: str) -> None:
    assert_tiles(text)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=400).filter(lambda t: any(c.isalnum() for c in t) and "\x00" not in t))
def test_arbitrary_unicode_tiles(text: str) -> None:
    text = text.replace("\r", "\n")
    assert_tiles(text)


def test_very_long_paragraph_with_unbalanced_quotes() -> None:
    text = ('Kaito said, "yes and no ' * 4000) + "\n\n\u201cNever closed"
    assert_tiles(text)
