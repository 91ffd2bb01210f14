"""The book's lines as a listener looks for them: chapter, time in the chapter, who reads it and
the rule that decided it; and, after a rebuild, which lines changed speaker and why.

A listener hears a wrong voice at 12:34 in chapter 3; `audiobook segment --find "the pony"`
shows the line with its time and speaker, a `[[lines]]` entry in voices.toml fixes it, and the
next build says what the fix changed ("3 lines: [[lines]] in voices.toml:41").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .attribution import Rule
from .attribution.seed import plain
from .audio import Pauses
from .build import pauses_after
from .plan import ChapterPlan, Plan, Recast, speakable
from .segment import Kind
from .timeline import DEFAULT_PAUSES, When, line_times, speaking_ms
from .transcript import Cue


@dataclass(frozen=True)
class Row:
    """One line of the script: where it is heard, who reads it, and why."""

    chapter: int  # chapter number, from 1
    chapter_title: str
    when: When
    speaker: str  # the voice that reads it: a character, or the narrator
    kind: Kind
    rule: Rule | None  # for dialogue, the rule that chose the speaker
    text: str  # as the transcript shows it
    start: int  # offset of the line in its chapter's text


def chapter_rows(
    book: Plan, chapter: ChapterPlan, cues: Sequence[Cue] = (), pauses: Pauses = DEFAULT_PAUSES
) -> list[Row]:
    """Every line of a chapter; times from `cues` (the last build's) when they still fit."""
    script = chapter.script
    texts = ["" for _ in script.lines]
    speakers = ["" for _ in script.lines]
    durations = [0] * len(script.lines)
    after_ms = [0] * len(script.lines)
    for utt, pause in zip(chapter.utterances, pauses_after(chapter.utterances, pauses), strict=True):
        if speakable(utt.spoken):
            texts[utt.line] = f"{texts[utt.line]} {utt.text}".strip()
            durations[utt.line] += speaking_ms(utt.spoken, utt.voice.rate_wpm)
        speakers[utt.line] = utt.speaker
        after_ms[utt.line] += pause
    times = line_times(texts, durations, after_ms, cues)
    text = script.story.text
    return [
        Row(chapter.number, chapter.title, when, speakers[k] or book.casting.narrator.name, line.kind,
            line.rule if line.kind == "dialogue" else None, texts[k] or " ".join(text[line.start : line.end].split()),
            line.start)
        for k, (line, when) in enumerate(zip(script.lines, times, strict=True))
    ]


def book_rows(book: Plan, cues: Mapping[int, Sequence[Cue]] | None = None) -> list[Row]:
    """Every line of the book, chapter by chapter; `cues` by chapter number."""
    cues = cues or {}
    return [row for chapter in book.chapters for row in chapter_rows(book, chapter, cues.get(chapter.number, ()))]


def find(rows: Sequence[Row], words: str) -> list[Row]:
    """The lines holding `words` (quotation marks, spacing and case aside)."""
    wanted = plain(words)
    return [row for row in rows if wanted and wanted in plain(row.text)]


def speaker_changes(
    book: Plan, old: Mapping[int, Sequence[Cue]], pauses: Pauses = DEFAULT_PAUSES
) -> tuple[Recast, ...]:
    """Lines read by someone else than in the last build (`old`: its cues by chapter number),
    counted by cause: a `[[lines]]` fix (with the untagged lines that follow it), a listed
    character, `[not_characters]`, or anything else."""
    reasons: Counter[str] = Counter()
    for chapter in book.chapters:
        before = [c for c in old.get(chapter.number, ()) if c.text.strip()]
        if not before:
            continue
        rows = [r for r in chapter_rows(book, chapter, (), pauses) if plain(r.text)]
        matcher = SequenceMatcher(None, [plain(c.text) for c in before], [plain(r.text) for r in rows], autojunk=False)
        for a, b, size in matcher.get_matching_blocks():
            for k in range(size):
                if before[a + k].speaker != rows[b + k].speaker:
                    reasons[_why(book, chapter, rows[b + k], before[a + k].speaker)] += 1
    return tuple(Recast(n, why) for why, n in reasons.most_common())


def _why(book: Plan, chapter: ChapterPlan, row: Row, was: str) -> str:
    fixed = _fix_of(book, chapter, row)
    if fixed:
        return f"[[lines]] in {fixed}"
    config = book.config
    listed = {c.name for c in config.characters}
    if row.speaker in listed and was not in listed:  # a name found in the story merged into a listed character
        return f'[characters."{row.speaker}"] in {config.where("characters", row.speaker)}'
    if any(plain(was) == plain(n) for n in config.not_characters):
        return f"[not_characters] in {config.where('not_characters', 'names')}"
    return "other changes to the casting or the stories"


def _fix_of(book: Plan, chapter: ChapterPlan, row: Row) -> str | None:
    """The `[[lines]]` entry behind a line: its own, or that of a fixed line in the same run of
    dialogue paragraphs (turn-taking follows a fix)."""
    fix = book.fixed.get((chapter.number, row.start))
    if fix:
        return fix.where
    if row.kind != "dialogue":
        return None
    lines = chapter.script.lines
    k = next(i for i, line in enumerate(lines) if line.start == row.start)
    with_quotes = sorted({line.paragraph for line in lines if line.kind == "dialogue"})
    paragraph = lines[k].paragraph
    run = {paragraph}
    i = with_quotes.index(paragraph)
    for step in (-1, 1):
        j = i
        while 0 <= j + step < len(with_quotes) and abs(with_quotes[j + step] - with_quotes[j]) == 1:
            j += step
            run.add(with_quotes[j])
    anchors = [line for line in lines if line.rule == "fixed" and line.paragraph in run]
    if not anchors:
        return None
    nearest = min(anchors, key=lambda line: abs(line.paragraph - paragraph))
    found = book.fixed.get((chapter.number, nearest.start))
    return found.where if found else None
