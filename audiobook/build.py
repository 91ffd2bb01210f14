"""The whole pipeline: stories in, one tagged, chaptered MP3 per chapter out.

load -> segment -> attribute -> cast -> synthesize -> stitch and encode -> tag.
Every output is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from .attribute import Script, attribute
from .audio import Pauses, Piece, encode_mp3, require_ffmpeg
from .cast import Casting, cast
from .config import Config, load_config
from .engine import Voice, get_engine
from .errors import AudiobookError
from .load import Story, find_stories, load_story, title_from_filename
from .publish import check_publish_options, publish
from .segment import segment, speech_text
from .spoken import check_spoken
from .synthesize import Clip, ClipRequest, synthesize
from .tags import ChapterMark, Tags, write_tags
from .transcript import Cue

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
    base_url: str | None = None  # where the book folder is hosted, for the feed; None: `audiobook serve`
    cover: Path | None = None  # a JPEG or PNG; None: draw one


@dataclass(frozen=True)
class Utterance:
    """One clip to speak: a line of the script with its words and voice."""

    text: str
    voice: Voice
    paragraph: int
    section: int
    speaker: str = ""  # the role's name, for the transcript


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
    cues: tuple[Cue, ...] = ()  # one per spoken line, for the transcript


@dataclass(frozen=True)
class BuildResult:
    plan: Plan
    book_dir: Path
    chapters: tuple[ChapterResult, ...]
    clips_total: int
    clips_synthesized: int
    feed_path: Path | None = None

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


def safe_filename(name: str, limit: int = 120) -> str:
    """A file name that is safe on every system: no separators, controls or leading dots."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in name)
    name = re.sub(r'[/\\:*?"<>|]+', "-", name)
    name = re.sub(r"\s+", " ", name).strip(" .-")
    return name[:limit].rstrip(" .-") or "untitled"


def utterances(script: Script, casting: Casting) -> tuple[Utterance, ...]:
    story = script.story
    result = []
    for line in script.lines:
        role = casting.narrator if line.kind == "narration" else casting.role_for(line.speaker)
        paragraph = story.paragraphs[line.paragraph]
        text = speech_text(story.text[line.start : line.end])
        result.append(Utterance(text, role.voice, line.paragraph, paragraph.section, role.name))
    return tuple(result)


def plan(options: BuildOptions) -> Plan:
    """Read, segment, attribute and cast the book: no audio yet."""
    config = load_config(resolve_voices_path(options.voices_path))
    paths = story_paths(options.sources)
    stories = [load_story(p) for p in paths]
    scripts = [attribute(segment(s)) for s in stories]
    engine = get_engine()
    casting = cast(scripts, config, engine.check_voice)
    chapters = []
    for number, script in enumerate(scripts, 1):
        utts = utterances(script, casting)
        check_spoken(script.story.text, [u.text for u in utts], script.story.path)
        chapters.append(ChapterPlan(number, script.story.title, script, utts))
    title = book_title(options.sources, stories, config)
    return Plan(title, config.author or "Unknown author", config, tuple(chapters), casting)


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
    check_publish_options(options.base_url, options.cover)  # fail now, not after the synthesis
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
    result = BuildResult(book, book_dir, tuple(results), len(requests), synthesized)
    published = publish(result, options.base_url, options.cover)
    return replace(result, feed_path=published.feed_path)


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
    ends = [*encoded.starts_ms[1:], encoded.duration_ms]
    cues = tuple(
        Cue(start, max(start, end - piece.pause_after_ms), utt.speaker, utt.text)
        for utt, piece, start, end in zip(chapter.utterances, pieces, encoded.starts_ms, ends)
        if piece.clip is not None
    )
    return ChapterResult(chapter.number, chapter.title, final, encoded.duration_ms, marks, cues)
