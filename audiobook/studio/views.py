"""What the studio page shows, as plain frozen dataclasses (sent as JSON): the cast, the script
chapter by chapter, and the voices every engine offers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..attribution import NARRATOR, Script
from ..cast import cast_entries
from ..engine import Voice
from ..engines import EngineOptions
from ..errors import AudiobookError
from ..plan import Plan, narration_role

LOW_CONFIDENCE = 0.6  # dialogue attributed with less than this stands out in the script


@dataclass(frozen=True)
class VoiceView:
    id: str  # with its speaker for a multi-speaker model: "piper:NAME#3"
    rate: int
    pitch: int


def voice_view(voice: Voice) -> VoiceView:
    return VoiceView(voice.voice_id, voice.rate_wpm, voice.pitch)


@dataclass(frozen=True)
class CastRow:
    """One character (or the narrator) as the cast table shows it."""

    name: str
    aliases: tuple[str, ...]
    gender: str | None
    lines: int
    words: int
    first_line: str
    voice: VoiceView
    source: str  # "voices.toml" (the casting file gives the voice), "auto" or "default"
    listed: bool  # the casting file has a table for them
    named: bool  # a name ("Kaito"), not a description the story gives ("a voice", "the old man")
    first_person: bool = False  # the "I" who narrates chapters told in the first person


@dataclass(frozen=True)
class LineView:
    """One line of the script: narration, or dialogue with who says it, the rule that decided and how sure it is."""

    index: int  # in its chapter's script
    kind: str  # "narration" or "dialogue"
    speaker: str  # the role that reads it
    rule: str | None
    confidence: float | None
    low: bool  # dialogue attributed with low confidence
    text: str


@dataclass(frozen=True)
class ChapterView:
    number: int
    title: str
    lines: tuple[LineView, ...]


@dataclass(frozen=True)
class BookView:
    """Everything the page shows of the book, and the casting file's revision it was read from."""

    title: str
    author: str
    casting_file: str
    revision: str
    narrator: CastRow
    cast: tuple[CastRow, ...]
    chapters: tuple[ChapterView, ...]
    speakers: tuple[str, ...]  # whom a line can be given to
    low_confidence: float
    warnings: tuple[str, ...]  # about the stories and the casting file, one line each


def book_view(plan: Plan, casting_file: str, revision: str) -> BookView:
    scripts = [chapter.script for chapter in plan.chapters]
    listed = {entry.name.casefold() for entry in plan.config.characters}
    rows = tuple(
        CastRow(e.name, e.aliases, e.gender, e.lines, e.words, e.first_line, voice_view(e.voice), e.source,
                e.name.casefold() in listed, is_name(e.name), e.first_person)
        for e in sorted(cast_entries(scripts, plan.casting), key=lambda e: -e.lines)  # most lines first
    )
    narrator = plan.casting.narrator
    narration = [_text(s, line.start, line.end) for s in scripts for line in s.lines if line.kind == "narration"]
    words = sum(len(_WORDS.findall(text)) for text in narration)
    narrator_row = CastRow(narrator.name, (), None, len(narration), words, narration[0] if narration else "",
                           voice_view(narrator.voice), narrator.source, plan.config.narrator.voice is not None, False)
    chapters = tuple(_chapter_view(plan, chapter.number - 1) for chapter in plan.chapters)
    speakers = tuple(sorted({row.name for row in rows} | {e.name for e in plan.config.characters}, key=str.casefold))
    return BookView(plan.title, plan.author, casting_file, revision, narrator_row, rows, chapters,
                    (narrator.name, *speakers), LOW_CONFIDENCE, plan.warnings)


_WORDS = re.compile(r"[^\W_]+")


def is_name(speaker: str) -> bool:
    """A speaker called by a name ("Kaito", "Mrs. Bennet"), which `[not_characters]` can rule out; not one
    the story only describes ("a voice", "the old man"), someone new each time it says it."""
    return speaker[:1].isupper()


def _text(script: Script, start: int, end: int) -> str:
    return " ".join(script.story.text[start:end].split())


def _chapter_view(plan: Plan, index: int) -> ChapterView:
    chapter = plan.chapters[index]
    script = chapter.script
    narration = narration_role(script, plan.casting, plan.config).name
    lines = []
    for k, line in enumerate(script.lines):
        dialogue = line.kind == "dialogue"
        by_narrator = not dialogue or line.speaker == NARRATOR
        speaker = narration if by_narrator else plan.casting.role_for(line.speaker).name
        confidence = round(line.confidence, 2) if dialogue else None
        low = dialogue and line.confidence < LOW_CONFIDENCE
        lines.append(LineView(k, line.kind, speaker, line.rule if dialogue else None, confidence, low,
                              _text(script, line.start, line.end)))
    return ChapterView(chapter.number, chapter.title, tuple(lines))


@dataclass(frozen=True)
class VoiceChoice:
    id: str  # "en-us", "piper:en_US-joe-medium"; a variant's is "+f3"
    name: str
    gender: str | None
    speakers: int  # more than one: a multi-speaker model


@dataclass(frozen=True)
class EngineVoices:
    """One engine's voices (and, for eSpeak NG, the variants any voice takes), or why it has none here."""

    engine: str
    voices: tuple[VoiceChoice, ...]
    variants: tuple[VoiceChoice, ...] = ()
    unavailable: str | None = None


def engine_voices(names: Sequence[str], language: str, options: EngineOptions) -> tuple[EngineVoices, ...]:
    """Every engine's voices for `language`: the voice picker's choices."""
    from .. import engines

    found = []
    for name in names:
        try:
            infos = engines.get(name, options).voices(language)
        except AudiobookError as exc:
            found.append(EngineVoices(name, (), (), str(exc)))
            continue
        voices = tuple(VoiceChoice(v.voice_id, v.name, v.gender, v.speakers) for v in infos if v.kind == "voice")
        variants = tuple(VoiceChoice(v.voice_id, v.name, v.gender, 1) for v in infos if v.kind == "variant")
        found.append(EngineVoices(name, voices, variants))
    return tuple(found)
