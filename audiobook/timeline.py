"""When each line is heard in its chapter, to find a line heard in a podcast app in the text.

After a build the times are the transcript's (the cues the build wrote); before one, or where
the text changed since, they are estimated from the words and each voice's speaking rate, and
shown with a `~`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .audio import Pauses
from .load import Story
from .transcript import Cue

_WORD = re.compile(r"[^\W_][\w'’]*")  # a word, apostrophes and all: one quantifier, nothing nested
DEFAULT_WPM = 165
DEFAULT_PAUSES = Pauses()


@dataclass(frozen=True)
class When:
    """A line's start in its chapter; `exact` when it is the built transcript's."""

    start_ms: int
    exact: bool

    def __str__(self) -> str:
        return ("" if self.exact else "~") + clock(self.start_ms)


def clock(ms: int) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def speaking_ms(text: str, wpm: int) -> int:
    return round(len(_WORD.findall(text)) * 60_000 / max(1, wpm))


def estimate(story: Story, offset: int, wpm: int = DEFAULT_WPM, pauses: Pauses = DEFAULT_PAUSES) -> When:
    """Roughly when the text at `offset` is heard: the words before it at `wpm`, and a pause per
    paragraph before it."""
    paragraphs = sum(1 for p in story.paragraphs if p.end <= offset)
    return When(speaking_ms(story.text[:offset], wpm) + paragraphs * pauses.between_paragraphs_ms, False)


def line_times(
    texts: Sequence[str], durations_ms: Sequence[int], pauses_ms: Sequence[int], cues: Sequence[Cue] = ()
) -> list[When]:
    """The start of each line of a chapter: `texts` as the transcript shows them (empty for a line
    with nothing to say), their estimated lengths and the pauses after them. When `cues` (the
    last build's) say the same words in the same order, their times are used instead."""
    spoken = [" ".join(t.split()) for t in texts if t.strip()]
    if cues and [" ".join(c.text.split()) for c in cues] == spoken:
        starts = iter(c.start_ms for c in cues)
        out: list[When] = []
        last = 0
        for t in texts:
            last = next(starts) if t.strip() else last
            out.append(When(last, True))
        return out
    out = []
    at = 0
    for duration, pause in zip(durations_ms, pauses_ms, strict=True):
        out.append(When(at, False))
        at += duration + pause
    return out
