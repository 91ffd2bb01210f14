"""The normaliser, measured against eSpeak NG itself: `espeak-ng -q -x` prints the phonemes it would say.

For every rewrite, the table gives a phrase a person would write for the intended reading.
The test checks that eSpeak says the normalised text exactly as it says that phrase, and
that it would NOT have said the raw input that way (so each rule fixes a measured problem;
if a future eSpeak reads the raw text well, the test says so and the rule can go).
"""

from __future__ import annotations

import subprocess
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiobook.normalise import apply, normalise, rewrites
from audiobook.spoken import spoken_words

pytestmark = pytest.mark.needs_espeak


@cache
def phonemes(text: str) -> str:
    out = subprocess.run(["espeak-ng", "-q", "-x", "-v", "en", text], capture_output=True, text=True, check=True)
    # stress marks and word spacing dropped: what is said, not how it is stressed; "|": a clause break
    return " | ".join(
        "".join(line.split()).replace("'", "").replace(",", "") for line in out.stdout.strip().split("\n")
    )


FIXED = [
    ("Mr. Smith", "Mister Smith"),
    ("Mrs. Jones", "Missus Jones"),
    ("Ms. Jones", "Miz Jones"),
    ("Dr. Who", "Doctor Who"),
    ("St. Mary", "Saint Mary"),
    ("Sgt. Pepper", "Sergeant Pepper"),
    ("Prof. Oak", "Professor Oak"),
    ("Mt. Fuji", "Mount Fuji"),
    ("No. 5", "number 5"),
    ("#1", "number one"),
    ("in 1999", "in nineteen ninety nine"),
    ("since 1850", "since eighteen fifty"),
    ("the 1990s", "the nineteen nineties"),
    ("the '90s", "the nineties"),
    ("the 1800s", "the eighteen hundreds"),
    ("at 3:05", "at three oh five"),
    ("at 3:00", "at three o'clock"),
    ("$5", "five dollars"),
    ("$1", "one dollar"),
    ("$3.50", "three dollars fifty"),
    ("£20", "twenty pounds"),
    ("€100", "one hundred euros"),
    ("pages 2–3", "pages two to three"),
    ("L-Luka", "Lu- Luka"),
    ("y-you", "you- you"),
    ("W-what", "Wha- what"),
    ("s-stop", "sto- stop"),
    ("Kaito-nii", "Kaito-nee"),
    ("STOP IT NOW", "stop it now"),
    ("GIVE US IT", "give us it"),
    ("*sigh*", "sigh"),
    ("Miku~", "Miku"),
    ("a \u2764\ufe0f heart", "a heart"),
    ("thumbs \U0001f44d\U0001f3fd up", "thumbs up"),
]


@pytest.mark.parametrize(("raw", "intended"), FIXED, ids=[r for r, _ in FIXED])
def test_rewrites_fix_what_espeak_gets_wrong(raw: str, intended: str) -> None:
    assert phonemes(raw) != phonemes(intended), "eSpeak reads this well by itself now: drop the rule"
    assert phonemes(normalise(raw)) == phonemes(intended)


LEFT_ALONE = [
    ("7 cats", "seven cats"),
    ("1,000,000", "one million"),
    ("3.14", "three point one four"),
    ("23rd", "twenty third"),
    ("50%", "fifty percent"),
    ("9am", "nine AM"),
    ("Shiroshi-san", "Shiroshi-san"),
    ("Miku-chan", "Miku-chan"),
    ("Len-kun", "Len-kun"),
    ("Main St.", "Main Street"),
    ("I-it's", "I it's"),
    ("the FBI and NASA", "the FBI and NASA"),
    ("Henry VIII", "Henry VIII"),
    ("It was 1999 people", "It was 1999 people"),
]


@pytest.mark.parametrize(("raw", "intended"), LEFT_ALONE, ids=[r for r, _ in LEFT_ALONE])
def test_what_espeak_reads_well_is_left_alone(raw: str, intended: str) -> None:
    assert normalise(raw) == raw
    assert phonemes(raw) == phonemes(intended)


def test_ellipses_and_dashes_make_pauses() -> None:
    # eSpeak pauses at them by itself ("_:" is a pause, a line break a clause boundary)
    for text in ("no\u2014never", "wait... what", "wait\u2026what", "no--never"):
        said = subprocess.run(["espeak-ng", "-q", "-x", text], capture_output=True, text=True).stdout
        assert "_:" in said or said.strip().count("\n") >= 1, (text, said)
        assert normalise(text) == text
    assert (
        "\n"
        in subprocess.run(["espeak-ng", "-q", "-x", normalise("Wait.. what")], capture_output=True, text=True).stdout
    )


def test_pronunciations_are_whole_word_and_case_aware() -> None:
    table = {"Luka": "Looka", "gif": "jif", "Dr. Sato": "Doctor Sahto"}
    assert normalise("Luka met Lukas and luka.", table) == "Looka met Lukas and luka."
    assert normalise("A GIF, a gif, a Gif, gifs.", table) == "A Jif, a jif, a Jif, gifs."
    assert normalise("Ask Dr. Sato.", table) == "Ask Doctor Sahto."  # phrases, before the Dr. rule
    assert normalise("Luka", {}) == "Luka"


def test_originals_are_untouched_and_spans_map_back() -> None:
    text = "Mr. Kaito paid $5 at 3:05 in 1999. L-Luka said NO WAY."
    changes = rewrites(text)
    assert apply(text, changes) == normalise(text)
    assert [text[c.start : c.end] for c in changes] == ["Mr.", "$5", "3:05", "1999", "L-", "NO", "WAY"]


# --- the every-word property, for any text ---------------------------------------------------

ANY_TEXT = st.text(
    st.characters(codec=None, exclude_categories=()),  # any code point, lone surrogates included
    max_size=60,
) | st.lists(
    st.sampled_from(
        [
            "Mr.",
            " Smith",
            " $3.50",
            " 1999",
            " in",
            " the",
            " '90s",
            " 3:05",
            " L-Luka",
            " y-you",
            " IT",
            " US",
            " NOW",
            "*",
            "~",
            "\u200d",
            "\ud800",
            "\U0001f44d",
            "\u05e9\u05dc\u05d5\u05dd",
            " ",
            "\n",
            "-",
            "#2",
            "No.",
            " 5",
            "\u2013",
            "..",
            "Kaito-nii",
            " FBI",
            " VIII",
            "\u00e9",
            "s-",
            "Th-that",
        ]
    ),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_every_word_is_spoken_once_through_its_rewrite(text: str) -> None:
    """Each word of the text is passed through or inside exactly one rewrite, which says words."""
    changes = rewrites(text)
    pos = 0
    pieces: list[tuple[str, str]] = []  # (original, spoken)
    for c in changes:
        assert pos <= c.start < c.end <= len(text)  # ordered, non-overlapping
        pieces.append((text[pos : c.start], text[pos : c.start]))
        pieces.append((text[c.start : c.end], c.spoken))
        pos = c.end
    pieces.append((text[pos:], text[pos:]))
    # no rewrite cuts a word in half: the text's words are the pieces' words, in order
    assert [w for original, _ in pieces for w in spoken_words(original)] == spoken_words(text)
    # every piece with words is said with words; nothing is glued onto a neighbour
    for original, spoken in pieces:
        if spoken_words(original):
            assert spoken_words(spoken)
    normal = normalise(text)
    assert spoken_words(normal) == [w for _, spoken in pieces for w in spoken_words(spoken)]
    normal.encode("utf-8")  # what the engine is given always encodes: no lone surrogates
    assert "\u200d" not in normal and "*" not in normal
