"""Segment stage: split each paragraph of a `Story` into narration and dialogue runs.

Dialogue is text inside quotation marks: straight or curly double quotes, or single
quotes when the story uses them for speech (told apart from apostrophes). A quote may
run over several paragraphs (reopened on each, or opened once and closed on the last)
or never close (it then ends with its paragraph). Quoted words inside narration that
nobody says (scare quotes, signs, titles) stay narration.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .load import Story

Kind = Literal["narration", "dialogue"]

DOUBLE = {"open": "“", "close": "”", "either": '"'}
SINGLE = {"open": "‘", "close": "’", "either": "'"}
_TRAILING_PUNCT = ",.;:!?…"
_SENTENCE_END_INSIDE = re.compile(r"[.,!?…\-–—~]\W*$")
_SPEECH_LEAD_IN = re.compile(
    r"\b(?:said|says|say|asked|asks|ask|replied|replies|cried|cries|whispered|shouted|"
    r"muttered|called|answered|exclaimed|added|began|continued|yelled|screamed)\b[^.!?\"“”]{0,40}[,:]\s*$",
    re.IGNORECASE,
)
_WORD_AT = re.compile(r"\w+\b")
_ELIDED = frozenset({"tis", "twas", "em", "n", "cause", "til", "till", "round", "bout", "s"})
_LEAD_IN_CHARS = 60  # "whispered" and 40 more characters, and a comma
_DASH_OPENER = re.compile(r"[ \t]*(?:—|--|―|–)(?!-)")
_DASH_HEADING = re.compile(r"\s*(?:—|--|―|–)\s*[\w .]{1,24}?\s*(?:—|--|―|–)\s*")  # `— I —`: a heading, not speech
# A speech tag inside a dash paragraph: after , ! ? or . comes "he said quietly." / "Stephen said."
_DASH_TAG = re.compile(
    r"[,!?.…](?P<tag>\s+(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?|he|she|I|they|we)\s+(?:\w+ly\s+)?(?P<verb>[a-z]+)"
    r"\b[^.!?,;:—\n]{0,40}(?:[.!?:]|,(?=\s)|$))"
)
_DASH_VERBS = frozenset(
    "said says asked asks answered cried called shouted whispered muttered murmured exclaimed added began "
    "continued replied sighed laughed went repeated intoned told thought".split()
)
_CONTINUATION_LOOKAHEAD = 12  # paragraphs a quote opened once may run before it closes


@dataclass(frozen=True)
class Segment:
    """A run of a story's text that is all narration or all one quotation, by character offsets."""

    start: int  # offsets into Story.text; dialogue includes its quotation marks
    end: int
    kind: Kind
    paragraph: int  # index into Story.paragraphs
    continues: bool = False  # dialogue carrying on a quotation from an earlier paragraph


@dataclass(frozen=True)
class Segmentation:
    """A story cut into segments that tile its text, in order: the segment stage's result."""

    story: Story
    segments: tuple[Segment, ...]


class _Mark(NamedTuple):  # (a tuple: made for every quotation mark of a book, five times cheaper)
    pos: int
    role: Literal["open", "close"]


def _is_apostrophe(text: str, i: int) -> bool:
    """A single quote that belongs to a word: don't, rock 'n' roll, 'Tis, the twins' house."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if before.isalnum() and after.isalnum():
        return True  # don't, o'clock
    if not before.isalnum() and after.isalnum():
        word = _WORD_AT.match(text, i + 1, i + 8)  # the words looked for are short: a bounded slice
        return word is not None and (word.group(0).lower() in _ELIDED or word.group(0).isdigit())
    if before.isalnum() and not after.isalnum():
        # a plural possessive ("twins' house") or a dropped g ("nothin'")
        prev_word = text[max(0, i - 2) : i]
        following = text[i + 1 : i + 3]
        return prev_word.lower().endswith(("s", "in")) and following[:1] == " " and following[1:2].islower()
    return False


def _mark_positions(text: str, style: dict[str, str]) -> list[int]:
    """Where the style's quotation marks stand in `text`, in order: each kind found with
    `str.find`, which skips from one to the next faster than a pattern of the three."""
    positions: list[int] = []
    for mark in style.values():
        pos = text.find(mark)
        while pos >= 0:
            positions.append(pos)
            pos = text.find(mark, pos + 1)
    return sorted(positions)


def _paragraph_marks(story: Story, style: dict[str, str]) -> list[list[_Mark]]:
    """The quotation marks of each paragraph, each classified as opening or closing."""
    text = story.text
    positions = _mark_positions(text, style)
    marks = []
    for p in story.paragraphs:
        first = bisect_left(positions, p.start)
        marks.append(_marks(text, p.start, p.end, style, positions[first : bisect_left(positions, p.end, first)]))
    return marks


def _marks(text: str, start: int, end: int, style: dict[str, str], positions: list[int]) -> list[_Mark]:
    """The quotation marks of one paragraph, at `positions`, each classified as opening or closing."""
    marks = []
    opening, closing, either, single = style["open"], style["close"], style["either"], style is SINGLE
    for i in positions:
        ch = text[i]
        if ch == opening:
            marks.append(_Mark(i, "open"))
        elif ch == closing:
            if single and _is_apostrophe(text, i):
                continue
            marks.append(_Mark(i, "close"))
        elif ch == either:
            if single and _is_apostrophe(text, i):
                continue
            before = text[i - 1] if i > start else " "
            after = text[i + 1] if i + 1 < end else " "
            opens = (before.isspace() or before in "([{—–-/" or i == start) and not after.isspace()
            marks.append(_Mark(i, "open" if opens or (i == start) else "close"))
    return marks


def _quote_style(story: Story) -> dict[str, str]:
    """Single quotes are the speech marks when more paragraphs open with them than with doubles."""
    singles = doubles = 0
    for p in story.paragraphs:
        first = story.text[p.start]
        singles += first in "'‘"
        doubles += first in "\"“"
    return SINGLE if singles > doubles else DOUBLE


def _spans(marks: list[_Mark], start: int, end: int, open_at_start: bool) -> tuple[list[tuple[int, int]], bool]:
    """Quoted spans (including marks) in a paragraph, and whether a quote is still open at its end."""
    spans = []
    opened = start if open_at_start else None
    for m in marks:
        if m.role == "open":
            if opened is None:
                opened = m.pos
            # an opening mark inside an open quote is a nested or repeated mark: ignore
        elif opened is not None:
            spans.append((opened, m.pos + 1))
            opened = None
    if opened is not None:
        spans.append((opened, end))
        return spans, True
    return spans, False


def _is_speech(text: str, span: tuple[int, int], para_start: int, open_at_start: bool) -> bool:
    """Tell dialogue from a scare quote, a sign or a title inside narration."""
    s, e = span
    before = s  # the end of the narration before the quote, without its trailing spaces
    while before > para_start and text[before - 1].isspace():
        before -= 1
    if open_at_start or before == para_start:
        return True
    if text[before - 1] == ":":
        return True
    # only the last words before the quote can be a lead-in: a bounded slice, not the whole paragraph;
    # and a lead-in ends in its comma (or colon) right at `before`, which is no space
    if text[before - 1] == "," and _SPEECH_LEAD_IN.search(text, max(para_start, before - _LEAD_IN_CHARS), before):
        return True
    inner = text[s + 1 : e - 1].strip() if e - s > 1 else ""
    # (the words are counted only as far as asked: up to 3, or up to 8)
    if _SENTENCE_END_INSIDE.search(inner):
        return not (len(inner.split(None, 2)) <= 2 and inner[:1].islower())
    return len(inner.split(None, 7)) >= 8


def segment(story: Story) -> Segmentation:
    """Narration and dialogue runs for every paragraph, in text order."""
    text = story.text
    style = _quote_style(story)
    para_marks = _paragraph_marks(story, style)
    dashes = _dash_dialogue(story)
    segments: list[Segment] = []
    open_quote = False  # a quotation left open by the previous paragraph
    continued_through = -1  # paragraphs up to this index sit inside a quote opened earlier
    for index, p in enumerate(story.paragraphs):
        marks = para_marks[index]
        starts_inside = False
        if open_quote:
            first = marks[0] if marks else None
            if first is not None and first.pos == p.start and first.role == "open":
                starts_inside = True  # reopened: a multi-paragraph quotation
            elif first is not None and first.role == "close":
                starts_inside = True  # opened once, closed in this paragraph
            elif index <= continued_through:
                starts_inside = True
            elif first is None and _closes_later(para_marks, story, index):
                starts_inside = True
        if p.is_title:
            spans, open_quote = [], False
        elif dashes and _DASH_OPENER.match(text, p.start) and not _DASH_HEADING.fullmatch(text, p.start, p.end):
            spans, open_quote = _dash_spans(text, p.start, p.end), False
        else:
            spans, open_quote = _spans(marks, p.start, p.end, starts_inside)
            spans = [sp for sp in spans if _is_speech(text, sp, p.start, starts_inside and sp[0] == p.start)]
            if spans and open_quote and spans[-1][1] != p.end:
                open_quote = False  # the open quote was not speech
            if starts_inside and not marks and open_quote:
                continued_through = max(continued_through, index)
        segments.extend(_runs(text, p.start, p.end, spans, index, starts_inside))
    return Segmentation(story, tuple(segments))


def _dash_dialogue(story: Story) -> bool:
    """Em-dash dialogue (Joyce): several paragraphs open with a dash and few with quotation marks."""
    opened = sum(1 for p in story.paragraphs if _DASH_OPENER.match(story.text, p.start))
    quoted = sum(1 for p in story.paragraphs if story.text[p.start] in "\"“'‘«")
    return opened >= 2 and opened > quoted


def _dash_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A dash paragraph is speech, less any speech tag set inside it: `—Back! he said sternly. Come.`"""
    spans = []
    pos = start
    for m in _DASH_TAG.finditer(text, start, end):
        if m.group("verb").lower() not in _DASH_VERBS:
            continue
        spans.append((pos, m.start("tag")))
        pos = m.end("tag")
        while pos < end and text[pos].isspace():
            pos += 1
    if pos < end:
        spans.append((pos, end))
    return [(s, e) for s, e in spans if text[s:e].strip(" \n—-")]


def _closes_later(para_marks: list[list[_Mark]], story: Story, index: int) -> bool:
    """Paragraphs with no marks after an unclosed quote, then one whose first mark closes it."""
    section = story.paragraphs[index].section
    for j in range(index, min(len(para_marks), index + _CONTINUATION_LOOKAHEAD)):
        if story.paragraphs[j].section != section:
            return False
        if para_marks[j]:
            return para_marks[j][0].role == "close"
    return False


def _runs(
    text: str, start: int, end: int, spans: list[tuple[int, int]], paragraph: int, starts_inside: bool
) -> list[Segment]:
    """Cut a paragraph into narration and dialogue segments, trimmed of outer whitespace."""
    runs: list[Segment] = []

    def narration(s: int, e: int) -> None:
        while s < e and text[s].isspace():  # (trimmed where it lies: no copies of a long paragraph)
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            runs.append(Segment(s, e, "narration", paragraph))

    pos = start
    for s, e in spans:
        narration(pos, s)
        # punctuation right after the closing mark belongs with the quote: "Hello". -> one clip
        while e < end and text[e] in _TRAILING_PUNCT:
            e += 1
        runs.append(Segment(s, e, "dialogue", paragraph, continues=starts_inside and s == start))
        pos = e
    narration(pos, end)
    return runs


def speech_text(text: str) -> str:
    """What is read aloud for a run: its text without quotation marks."""
    out = []
    for i, ch in enumerate(text):
        if ch in "\"“”«»„":
            out.append(" ")
        elif ch in "'‘’‚" and not _is_apostrophe(text, i):
            out.append(" ")
        else:
            out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip()
