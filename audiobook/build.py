"""The whole pipeline: stories in, one tagged, chaptered MP3 per chapter out.

load -> segment -> attribute -> cast -> synthesize -> stitch and encode -> tag.
Every output is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .attribute import Script, attribute
from .book import load_book
from .audio import Pauses, Piece, encode_mp3, require_ffmpeg
from .cast import Casting, cast
from .config import Config, load_config
from .engine import Voice, get_engine
from .errors import AudiobookError
from .load import Story, find_stories, load_story, title_from_filename
from .segment import segment, speech_text
from .spoken import check_spoken
from .synthesize import Clip, ClipRequest, synthesize
from .tags import ChapterMark, Tags, write_tags

DEFAULT_VOICES = Path("voices.toml")


@dataclass(frozen=True)
class BuildOptions:
    sources: tuple[Path, ...]
    output_dir: Path = Path("output")
    voices_path: Path | None = None  # None: ./voices.toml if it exists, else built-in voices
    cache_dir: Path | None = None  # None: <output_dir>/.cache
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    bitrate_kbps: int = 64
    pauses: Pauses = Pauses()


@dataclass(frozen=True)
class Utterance:
    """One clip to speak: a line of the script with its words and voice."""

    text: str
    voice: Voice
    paragraph: int
    section: int


@dataclass(frozen=True)
class ChapterPlan:
    number: int
    title: str
    script: Script
    utterances: tuple[Utterance, ...]


@dataclass(frozen=True)
class Plan:
    """Everything decided before any sound is made."""

    title: str
    author: str
    config: Config
    chapters: tuple[ChapterPlan, ...]
    casting: Casting


@dataclass(frozen=True)
class ChapterResult:
    number: int
    title: str
    path: Path
    duration_ms: int
    marks: tuple[ChapterMark, ...]


@dataclass(frozen=True)
class BuildResult:
    plan: Plan
    book_dir: Path
    chapters: tuple[ChapterResult, ...]
    clips_total: int
    clips_synthesized: int

    @property
    def duration_ms(self) -> int:
        return sum(c.duration_ms for c in self.chapters)


@dataclass(frozen=True)
class Progress:
    stage: Literal["synthesize", "encode"]
    done: int
    total: int


def resolve_voices_path(path: Path | None) -> Path | None:
    if path is not None:
        return path
    return DEFAULT_VOICES if DEFAULT_VOICES.is_file() else None


def story_paths(sources: Sequence[Path]) -> list[Path]:
    paths: list[Path] = []
    for source in sources:
        paths.extend(find_stories(source))
    return paths


def book_title(sources: Sequence[Path], stories: Sequence[Story], config: Config) -> str:
    if config.title:
        return config.title
    if len(sources) == 1 and sources[0].is_dir():
        return title_from_filename(sources[0].resolve())
    return stories[0].title


_RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)


def safe_filename(name: str, limit_bytes: int = 200) -> str:
    """A file name that is safe on every system: no separators, controls or leading dots,
    no reserved Windows device name, and at most `limit_bytes` of UTF-8 (file systems allow
    255, and the chapter number, ``.mp3`` and a ``.partial`` suffix must fit too)."""
    name = unicodedata.normalize("NFC", name)
    kept = []
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue  # zero-width joiners, bidi overrides: invisible, so dropped
        kept.append(" " if category[0] in "CZ" and ch != " " else ch)
    name = "".join(kept)
    name = re.sub(r'[/\\:*?"<>|]+', "-", name)
    name = re.sub(r"\s+", " ", name).strip(" .-")
    encoded = name.encode("utf-8")
    if len(encoded) > limit_bytes:
        name = encoded[:limit_bytes].decode("utf-8", errors="ignore")
    name = name.rstrip(" .-")
    stem, dot, rest = name.partition(".")
    if stem.strip().upper() in _RESERVED_NAMES:  # "nul.txt" is the device too, on Windows
        name = f"{stem}_{dot}{rest}"
    return name or "untitled"


def utterances(script: Script, casting: Casting) -> tuple[Utterance, ...]:
    story = script.story
    result = []
    for line in script.lines:
        voice = casting.narrator.voice if line.kind == "narration" else casting.role_for(line.speaker).voice
        paragraph = story.paragraphs[line.paragraph]
        result.append(Utterance(speech_text(story.text[line.start : line.end]), voice, line.paragraph, paragraph.section))
    return tuple(result)


def plan(options: BuildOptions) -> Plan:
    """Read, segment, attribute and cast the book: no audio yet."""
    config = load_config(resolve_voices_path(options.voices_path))
    loaded = load_book(options.sources)
    stories = list(loaded.chapters)
    scripts = [attribute(segment(s)) for s in stories]
    engine = get_engine()
    casting = cast(scripts, config, engine.check_voice)
    chapters = []
    for number, script in enumerate(scripts, 1):
        utts = utterances(script, casting)
        check_spoken(script.story.text, [u.text for u in utts], script.story.path)
        chapters.append(ChapterPlan(number, script.story.title, script, utts))
    title = config.title or loaded.title
    return Plan(title, config.author or loaded.author or "Unknown author", config, tuple(chapters), casting)


def _pieces_and_marks(chapter: ChapterPlan, clips: Sequence[Clip | None], pauses: Pauses) -> tuple[list[Piece], list[int]]:
    """Pieces with the pause that follows each, and the index of the first piece of each section."""
    pieces: list[Piece] = []
    section_starts: list[int] = []
    utts = chapter.utterances
    for i, (utt, clip) in enumerate(zip(utts, clips)):
        if i == 0 or utt.section != utts[i - 1].section:
            section_starts.append(i)
        if i + 1 == len(utts):
            pause = 0
        elif utts[i + 1].section != utt.section:
            pause = pauses.between_sections_ms
        elif utts[i + 1].paragraph != utt.paragraph:
            pause = pauses.between_paragraphs_ms
        else:
            pause = pauses.within_paragraph_ms
        pieces.append(Piece(clip.path if clip else None, pause))
    return pieces, section_starts


def build(options: BuildOptions, on_progress: Callable[[Progress], None] | None = None) -> BuildResult:
    """Build the audiobook described by `options` into `<output_dir>/<book title>/`."""
    require_ffmpeg()
    book = plan(options)
    book_dir = options.output_dir / safe_filename(book.title)
    cache_dir = options.cache_dir or options.output_dir / ".cache"
    try:
        book_dir.mkdir(parents=True, exist_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudiobookError(f"{exc.filename}: cannot create folder: {exc.strerror}") from None
    for stale in book_dir.glob(".*.partial"):  # left by a build that was killed mid-chapter
        stale.unlink(missing_ok=True)

    requests: list[ClipRequest] = []
    index: list[list[int | None]] = []
    for chapter in book.chapters:
        row = []
        for utt in chapter.utterances:
            if any(ch.isalnum() for ch in utt.text):
                row.append(len(requests))
                requests.append(ClipRequest(utt.text, utt.voice))
            else:
                row.append(None)  # nothing to say: punctuation only
        index.append(row)
    done = 0

    def clip_done(_: Clip) -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(Progress("synthesize", done, len(requests)))

    if on_progress:
        on_progress(Progress("synthesize", 0, len(requests)))
    clips = synthesize(requests, cache_dir, options.jobs, on_clip=clip_done)
    if on_progress:
        on_progress(Progress("encode", 0, len(book.chapters)))
    results = []
    for n, chapter in enumerate(book.chapters):
        chapter_clips = [clips[i] if i is not None else None for i in index[n]]
        results.append(_write_chapter(book, chapter, chapter_clips, book_dir, options))
        if on_progress:
            on_progress(Progress("encode", n + 1, len(book.chapters)))
    synthesized = sum(1 for c in clips if not c.cached)
    return BuildResult(book, book_dir, tuple(results), len(requests), synthesized)


def _write_chapter(book: Plan, chapter: ChapterPlan, clips: Sequence[Clip | None], book_dir: Path, options: BuildOptions) -> ChapterResult:
    width = max(2, len(str(len(book.chapters))))
    final = book_dir / f"{chapter.number:0{width}d} - {safe_filename(chapter.title)}.mp3"
    partial = final.with_name(f".{final.name}.partial")
    pieces, section_starts = _pieces_and_marks(chapter, clips, options.pauses)
    rate = next((c.sample_rate_hz for c in clips if c), 22_050)
    try:
        encoded = encode_mp3(pieces, partial, rate, options.bitrate_kbps)
        sections = chapter.script.story.sections
        starts = [encoded.starts_ms[i] for i in section_starts]
        marks = tuple(
            ChapterMark(
                sections[chapter.utterances[i].section].title,
                start,
                starts[k + 1] if k + 1 < len(starts) else encoded.duration_ms,
            )
            for k, (i, start) in enumerate(zip(section_starts, starts))
        )
        write_tags(
            partial,
            Tags(
                title=chapter.title,
                artist=book.author,
                album=book.title,
                track=chapter.number,
                track_total=len(book.chapters),
                chapters=marks,
            ),
        )
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return ChapterResult(chapter.number, chapter.title, final, encoded.duration_ms, marks)
