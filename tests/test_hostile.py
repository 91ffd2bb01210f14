"""Hostile names and text: safe file names, and any Unicode through load, segment, attribute, normalise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audiobook.attribution import attribute
from audiobook.book import load_book
from audiobook.build import safe_filename
from audiobook.errors import InputError
from audiobook.load import parse_story
from audiobook.matter import expected_text
from audiobook.normalise import normalise
from audiobook.segment import segment, speech_text
from audiobook.spoken import spoken_words

NAMES = [
    "a/b",
    "../../etc/passwd",
    "..",
    ".",
    "",
    "   ",
    ".hidden",
    "-rf --no-preserve-root",
    "a\x00b\x1fc\x7fd",
    "x" * 300,
    "\U0001f600" * 300,
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",  # right-to-left
    "invoice\u202egnp.exe",  # a right-to-left override hiding the real extension
    "\U0001f469\u200d\U0001f469\u200d\U0001f467 family",  # zero-width joiners
    "a\ud800b",  # a lone surrogate
    "CON",
    "nul.txt",
    "Title.",
    'a\\b:c*?"<>|d',
    "tab\there\nnewline\u2028sep",
    "\u200b",
    "e\u0301t\u00e9",  # decomposed and composed accents
    "\u30dc\u30fc\u30ab\u30ed\u30a4\u30c9 " * 40,  # long Japanese title
]


@pytest.mark.parametrize("name", NAMES, ids=[repr(n[:12]) for n in NAMES])
def test_safe_filename_makes_a_usable_file_name(tmp_path: Path, name: str) -> None:
    safe = safe_filename(name)
    assert safe and safe == safe.strip(" .-")
    assert not {"/", "\\", "\x00"} & set(safe) and safe not in (".", "..")
    assert all(ch.isprintable() and ch not in "\u200b\u200d\u202e" for ch in safe)
    assert len(safe.encode("utf-8")) <= 200
    assert safe.split(".")[0].strip().upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert safe_filename(safe) == safe  # stable
    # the longest name the build makes from it can really be created, and lands in tmp_path
    partial = tmp_path / f".999 - {safe}.mp3.partial"
    partial.write_bytes(b"")
    assert partial.parent == tmp_path and os.listdir(tmp_path) == [partial.name]


def test_safe_filename_keeps_what_it_can() -> None:
    assert safe_filename("Chapter 1: The Storm / Part 2") == "Chapter 1- The Storm - Part 2"
    assert safe_filename("\u05e9\u05dc\u05d5\u05dd") == "\u05e9\u05dc\u05d5\u05dd"
    assert safe_filename("e\u0301t\u00e9") == "\u00e9t\u00e9"  # NFC
    assert safe_filename("invoice\u202egnp.exe") == "invoicegnp.exe"
    assert safe_filename("x" * 300) == "x" * 200
    assert safe_filename("\U0001f600" * 300) == "\U0001f600" * 50  # cut on a character boundary


# --- any text through the text stages --------------------------------------------------------

UNICODE_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(codec=None), max_size=8),  # anything, lone surrogates and controls too
        st.sampled_from(
            ["\n", "\n\n", "\n\n\n", '"', "\u201c", "\u201d", "'", " said ", "Kaito", " Miku", " she ", "* * *",
             "\u200d", "\u200f", "\u202e", "\U0001f600", "\u05e9\u05dc\u05d5\u05dd",
             "\u0627\u0644\u0633\u0644\u0627\u0645",
             "Mr.", " $5", " 1999", " L-Luka", " IT", "\ud800", "\ufeff", "\r\n", "\u2028", "Chapter 1\n\n"]
        ),
    ),
    max_size=30,
).map("".join)


def _without_dividers(text: str) -> str:
    """`text` with every line that would be a scene divider on its own blanked."""
    lines = text.splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            alone = parse_story(Path("line.txt"), f"Words.\n\n{line.strip()}\n\nWords.", "utf-8")
        except InputError:
            alone = None
        kept.append(" " * len(line) if alone is not None and alone.dividers else line)
    return "".join(kept)


def _tile(text: str, script) -> None:
    pos = 0
    for s in script.segmentation.segments:
        assert pos <= s.start < s.end <= len(text)
        assert not spoken_words(text[pos : s.start])  # nothing with words falls between runs
        pos = s.end
    assert not spoken_words(text[pos:])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(UNICODE_TEXT)
@example("000")  # a divider alone: an empty story
@example('Anna went.\n\nxXx\n\n"Wait," said Ben.')  # a divider between scenes is not spoken
def test_any_unicode_text_survives_the_text_stages(text: str) -> None:
    try:
        story = parse_story(Path("hostile.txt"), text, "utf-8")
    except InputError as exc:
        # empty: no words at all, or only scene dividers ("000", "xXx"), which are breaks, not words
        assert str(exc) == "hostile.txt: the story is empty: it has no words to read"
        assert not spoken_words(_without_dividers(text))
        return
    script = attribute(segment(story))
    heard = expected_text(story, "read")  # the text with its scene dividers blanked
    _tile(heard, script)
    spoken = [speech_text(text[line.start : line.end]) for line in script.lines]
    assert spoken_words(" ".join(spoken)) == spoken_words(heard)  # every word once, in order
    for line in spoken:
        said = normalise(line)
        said.encode("utf-8")  # the engine can always be given it
        if spoken_words(line):
            assert spoken_words(said)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_any_bytes_load_or_fail_with_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bytes.txt"
    path.write_bytes(data)
    try:
        book = load_book(path)
    except InputError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    for story in book.chapters:
        attribute(segment(story))
