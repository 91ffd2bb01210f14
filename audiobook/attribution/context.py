"""What the passes of the attribution sieve share: the story's segments by paragraph, the cast,
the resolver, and the decisions made so far (`Decision`: a speaker, the `Rule` that chose it,
and how sure it is)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..segment import Segment, Segmentation
from .characters import Cast
from .referents import Resolver

Rule = Literal[
    "fixed",  # the user's word: a `[[lines]]` entry in voices.toml
    "continued-quote",  # a quotation running on from the previous paragraph
    "speech-verb",  # `said Kaito`, `Haku said`, `she asked`, `said the old man`
    "speech-tag",  # any verb in tag position after an open-ended quote: `"…," Big Medicine stated`
    "self-introduction",  # `"I'm Miku!"`
    "same-paragraph",  # another quote of the paragraph is tagged
    "action-beat",  # the subject of a sentence around the quote: `Haku sighed.`
    "introduced",  # the narration before leads into the quote: `Luka stepped forward and spoke.`
    "vocative",  # the one addressed by name in the line before answers
    "turn-taking",  # speakers alternate in a run of dialogue paragraphs
    "memory",  # a remembered voice in a first-person story
    "last-mentioned",  # nothing else: the last character named
    "first-person",  # nothing else, in a first-person story: the narrator
    "unknown",  # nobody at all
]


@dataclass(frozen=True)
class Decision:
    """Who speaks a quote, the rule that says so, and how sure that rule is (0 to 1)."""

    speaker: str
    rule: Rule
    confidence: float


@dataclass(frozen=True)
class Chapter:
    """Where a chapter's segmentation sits in the book's joined text, paragraphs and segments."""

    segmentation: Segmentation
    text_start: int  # its Story.text starts here in Context.text
    first_paragraph: int  # its paragraph 0 is this paragraph of the book
    first_segment: int  # its segment 0 is this index into Context.segs


@dataclass
class Context:
    """One book (or story) while it is attributed: built once, read and filled in by every pass.
    The chapters are joined into one text, with one cast; paragraph numbers leave a gap between
    chapters, so that a conversation never runs on from one chapter into the next."""

    text: str
    segs: tuple[Segment, ...]
    by_paragraph: dict[int, list[int]]  # paragraph -> indices of its segments, in order
    cast: Cast
    resolver: Resolver  # whose `narrator` is the first-person narrator's name, None in a third-person story
    chapters: tuple[Chapter, ...]
    decided: dict[int, Decision] = field(default_factory=dict)  # segment index -> who speaks it
    vocatives: dict[int, list[str]] = field(default_factory=dict)  # paragraph -> characters addressed in it
    named: dict[int, set[str]] = field(default_factory=dict)  # paragraph -> characters its quotes talk about
    introduced_as: dict[int, str] = field(default_factory=dict)  # `"I'm Miku!"`: quote -> who its speaker says they are
    answered: dict[int, str] = field(default_factory=dict)  # paragraph -> the name it gives when asked (`"Nell."`)
    narration_only: dict[int, list[int]] = field(default_factory=dict)  # paragraph without quotes -> its segments
    last_quote: int | None = None  # the last quote of the paragraphs attributed so far
    fixed: dict[int, str] = field(default_factory=dict)  # quote -> its speaker, by the user's word (`[[lines]]`)
    _quotes: dict[int, list[int]] = field(default_factory=dict, repr=False)  # quotes(), found once a paragraph
    _starts: list[int] | None = field(default=None, repr=False)  # starts(), listed once
    # `turns.runs`: the runs of dialogue paragraphs (static), found once for the passes that ask
    turn_runs: tuple[list[list[int]], dict[int, int]] | None = field(default=None, repr=False)

    @property
    def narrator(self) -> str | None:
        """The first-person narrator's name (`NARRATOR` while unknown), None in a third-person story."""
        return self.resolver.narrator

    def said(self, i: int) -> str:
        """The text of segment `i`."""
        return self.text[self.segs[i].start : self.segs[i].end]

    def narration_text(self, p: int) -> str:
        """The text of a paragraph of narration only (`narration_only`): its segments, joined by spaces."""
        return " ".join(self.said(i) for i in self.narration_only[p])

    def starts(self) -> list[int]:
        """Where each segment starts, in order (for bisecting a position to its segment)."""
        if self._starts is None:
            self._starts = [s.start for s in self.segs]
        return self._starts

    def is_quote(self, i: int) -> bool:
        return self.segs[i].kind == "dialogue"

    def quotes(self, p: int) -> list[int]:
        """The dialogue segments of paragraph `p` (a list of the caller's own)."""
        if p not in self._quotes:
            self._quotes[p] = [i for i in self.by_paragraph.get(p, []) if self.segs[i].kind == "dialogue"]
        return list(self._quotes[p])

    def neighbour(self, i: int, step: int) -> Segment | None:
        """The segment `step` (+1 or -1) away from `i`, if it is in the same paragraph."""
        j = i + step
        if 0 <= j < len(self.segs) and self.segs[j].paragraph == self.segs[i].paragraph:
            return self.segs[j]
        return None

    def speaker(self, i: int) -> str | None:
        decision = self.decided.get(i)
        return decision.speaker if decision else None


@dataclass
class Paragraph:
    """A paragraph with quotes while the sieve works on it."""

    index: int
    members: list[int]  # its segments
    quotes: list[int]  # its dialogue segments
    exclude: set[str]  # who cannot speak here: those addressed, listeners of a tag, the one just answered
    tags: dict[int, Decision] = field(default_factory=dict)  # quotes a rule of their own decided
    speaker: Decision | None = None  # the paragraph's speaker, for quotes without a tag of their own
