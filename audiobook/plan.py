"""The plan stage: sources and options in, everything decided before any sound is made.

load -> segment -> attribute -> cast -> utterances: a :class:`Plan` says which clip each line
becomes, in which voice, and checks that every word of every story is spoken exactly once.
Rendering the plan into files is :mod:`audiobook.build`. The results a build returns
(:class:`BuildResult`) live here too, beside the plan they refer to, so every later stage
(publish, the command line) can use them without importing the renderer.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .attribution import NARRATOR, Script
from .attribution.seed import Fix
from .audio import Pauses
from .book import EPUB_SUFFIXES, Book, load_book
from .cast import Casting, Role, cast
from .casting_file import VOICES_FILE, CastingFile, choose_casting_file
from .config import Config, load_config
from .engine import Voice
from .engines import EngineOptions, check_voice, declared_gender
from .errors import InputError
from .loudness import DEFAULT_LOUDNESS_LUFS
from .matter import drop_matter, expected_text, skipped_sections
from .normalise import normalise
from .segment import speech_text
from .spoken import MAX_WORD_CHARS, check_spoken
from .tags import ChapterMark
from .transcript import Cue
from .user_cast import attribute_cast

DEFAULT_VOICES = Path(VOICES_FILE)


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how: the sources, where the book goes, and every choice the command line can make.

    Change one field with ``dataclasses.replace``; flags left as None fall back to voices.toml, then to defaults.
    """

    sources: tuple[Path, ...]
    output_dir: Path = Path("output")
    voices_path: Path | None = None  # None: the book's voices.toml (see casting_file), else built-in voices
    cache_dir: Path | None = None  # None: <output_dir>/.cache
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    bitrate_kbps: int = 64
    pauses: Pauses = Pauses()
    title: str | None = None  # these override voices.toml
    author: str | None = None
    narrator_voice: str | None = None
    piper_voices: Path | None = None
    base_url: str | None = None  # where the book folder is hosted, for the feed; None: `audiobook serve`
    cover: Path | None = None  # a JPEG or PNG; None: [book] cover in voices.toml, else drawn
    loudness_lufs: float | None = None  # None: [book] loudness_lufs in voices.toml, else -19
    m4b: bool = False  # also write the whole book as an M4B (AAC, chapters, cover) with ffmpeg
    wait: bool = False  # another build is writing into output_dir: wait for it (else refuse)
    overwrite: bool = False  # write into the book folder even if it holds another book (built from other sources)
    strict_lines: bool = True  # a [[lines]] quote matching no line or several is an error (False: a warning)
    ray: str | None = None  # a Ray cluster's address to make the clips on ("none": here); None: [build] ray, else here


@dataclass(frozen=True)
class Utterance:
    """One clip to speak: a line of the script with its words and voice."""

    text: str  # the words as written (quotation marks aside): transcripts show this
    voice: Voice
    paragraph: int
    section: int
    speaker: str = ""  # the role's name, for the transcript
    spoken: str = ""  # what the engine is given: numbers, abbreviations, pronunciations made speakable
    line: int = 0  # which line of the script: a long line is spoken as several clips


@dataclass(frozen=True)
class ChapterPlan:
    """One chapter as it will be spoken: its script and every clip in order."""

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
    published: datetime  # the newest story's modification time: the feed's date, stable across rebuilds
    source_cover: bytes | None = None  # an EPUB's own cover image
    warnings: tuple[str, ...] = ()  # about the sources, one line each
    skipped: tuple[str, ...] = ()  # sections left out of the audio (front_matter = "skip")
    casting_file: CastingFile | None = None  # which voices.toml cast the book, and why
    fixed: dict[tuple[int, int], Fix] = field(default_factory=dict)  # (chapter number, line start) -> its [[lines]]


@dataclass(frozen=True)
class ChapterResult:
    """One chapter file as written (or kept from the last build): its length, section marks and transcript."""

    number: int
    title: str
    path: Path
    duration_ms: int
    marks: tuple[ChapterMark, ...]
    cues: tuple[Cue, ...] = ()  # one per spoken line, for the transcript


@dataclass(frozen=True)
class Recast:
    """Lines that changed speaker since the last build, for one reason."""

    lines: int
    why: str  # "[[lines]] in voices.toml:41"


@dataclass(frozen=True)
class BuildResult:
    """What a build made: the plan it followed, the book folder and its files, and how many clips were new."""

    plan: Plan
    book_dir: Path
    chapters: tuple[ChapterResult, ...]
    clips_total: int
    clips_synthesized: int
    feed_path: Path | None = None
    whole_book: Path | None = None  # <Book Title>.mp3: every chapter in one file
    m4b: Path | None = None
    recast: tuple[Recast, ...] = ()  # lines read by someone else than in the last build, by cause

    @property
    def duration_ms(self) -> int:
        return sum(c.duration_ms for c in self.chapters)


def books_of(sources: Sequence[Path]) -> list[tuple[Path, ...]]:
    """The books that a command line's sources are: several folders or EPUBs are a book each; story
    files (or one folder or EPUB) are one book. InputError for folders and story files together."""
    whole = [source for source in sources if source.is_dir() or source.suffix.lower() in EPUB_SUFFIXES]
    if len(whole) < 2:
        return [tuple(sources)]
    if len(whole) < len(sources):
        loose = next(source for source in sources if source not in whole)
        raise InputError(
            f"{loose}: a story file among several books (folders or EPUBs): "
            "put it in its book's folder, or build it on its own"
        )
    return [(source,) for source in sources]


def resolve_voices_path(path: Path | None) -> Path | None:
    """The casting file to read when there is no book to match it with (a preview of a voice):
    the one given, else ./voices.toml if there is one, else None (built-in voices)."""
    if path is not None:
        return path
    return DEFAULT_VOICES if DEFAULT_VOICES.is_file() else None


def with_overrides(config: Config, options: BuildOptions) -> Config:
    """Command-line flags win over voices.toml, which wins over built-in defaults."""
    narrator = replace(config.narrator, voice=options.narrator_voice or config.narrator.voice)
    loudness_lufs = config.loudness_lufs if options.loudness_lufs is None else options.loudness_lufs
    return replace(
        config, title=options.title or config.title, author=options.author or config.author, narrator=narrator,
        loudness_lufs=loudness_lufs, piper_voices=options.piper_voices or config.piper_voices,
        ray=options.ray or config.ray,
    )


def engine_options(config: Config) -> EngineOptions:
    """How the engines are set up for this book (the Piper voices folder)."""
    return EngineOptions(piper_voices=config.piper_voices)


def loudness_target(config: Config) -> float:
    return DEFAULT_LOUDNESS_LUFS if config.loudness_lufs is None else config.loudness_lufs


def book_config(options: BuildOptions) -> Config:
    """voices.toml (or built-in defaults) with the command line's overrides, without a book to match it with."""
    return with_overrides(load_config(resolve_voices_path(options.voices_path)), options)


def narration_role(script: Script, casting: Casting, config: Config) -> Role:
    """Who reads a chapter's narration: a first-person narrator known by name reads it in their
    own voice (as a human audiobook would be cast), unless voices.toml turns that off."""
    if config.narrator_character_voice and script.narrator and script.narrator != NARRATOR:
        return casting.role_for(script.narrator)
    return casting.narrator


def utterances(script: Script, casting: Casting, config: Config) -> tuple[Utterance, ...]:
    story = script.story
    narration = narration_role(script, casting, config)
    result = []
    for index, line in enumerate(script.lines):
        speaks_as_narrator = line.kind == "narration" or line.speaker == NARRATOR  # "I said", unnamed narrator
        role = narration if speaks_as_narrator else casting.role_for(line.speaker)
        paragraph = story.paragraphs[line.paragraph]
        for text in clip_texts(speech_text(story.text[line.start : line.end])):
            spoken = normalise(text, config.pronunciations)
            result.append(Utterance(text, role.voice, line.paragraph, paragraph.section, role.name, spoken, index))
    return tuple(result)


MAX_CLIP_CHARS = 600  # about 40 s of speech: a longer run is spoken as several clips


def clip_texts(text: str) -> list[str]:
    """A run's text in clips of at most MAX_CLIP_CHARS, split between sentences; a longer sentence
    between clauses (at commas), a longer clause between words, and a word longer than
    MAX_WORD_CHARS letters in pieces of that many (as the every-word check counts it).

    Clips stay small whatever a story's punctuation and paragraphs are like (a 500-word paragraph
    is a few minutes of audio, and 2 MB without a full stop is days of it), so the memory a
    worker needs, and the work lost to one changed word, stay bounded.
    """
    if len(text) <= MAX_CLIP_CHARS:
        return [text]
    clips: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        for piece in _pieces(sentence):
            if clips and len(clips[-1]) + 1 + len(piece) <= MAX_CLIP_CHARS:
                clips[-1] += " " + piece
            else:
                clips.append(piece)
    return clips


_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")
_CLAUSE_END = re.compile(r"(?<=[,–—])\s+")
_SPACE = re.compile(r"\s+")
_WORD_PIECE = re.compile(rf"[^\W_]{{1,{MAX_WORD_CHARS}}}|[\W_]{{1,{MAX_WORD_CHARS}}}")


def _pieces(sentence: str) -> list[str]:
    """A sentence as pieces no longer than MAX_CLIP_CHARS: itself, its clauses, its words, or parts of a word."""
    if len(sentence) <= MAX_CLIP_CHARS:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        if len(clause) <= MAX_CLIP_CHARS:
            pieces.append(clause)
            continue
        for word in _SPACE.split(clause):
            if len(word) <= MAX_CLIP_CHARS:
                pieces.append(word)
                continue
            part = ""  # a word longer than a clip: cut only where the word check cuts it too
            for m in _WORD_PIECE.finditer(word):
                if len(part) + len(m.group(0)) > MAX_CLIP_CHARS:
                    pieces.append(part)
                    part = ""
                part += m.group(0)
            pieces.append(part)
    return pieces


def speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def unspeakable_warning(path: Path, utts: Sequence[Utterance]) -> list[str]:
    """A warning for lines written with something but no word to say (emoji only): they are left silent.

    Lines of punctuation alone ("...") are silent without a warning: nothing is lost.
    """
    silent = [
        u.text for u in utts
        if not speakable(u.spoken) and any(unicodedata.category(ch)[0] not in "PZC" for ch in u.text)
    ]
    if not silent:
        return []
    example = " ".join(silent[0].split())[:40]
    lines = "line" if len(silent) == 1 else "lines"
    return [f"{path}: {len(silent)} {lines} with nothing speakable left silent, such as {example!r}"]


def book_and_casting(options: BuildOptions) -> tuple[Book, CastingFile, Config]:
    """The book's chapters, the casting file that is the book's (see casting_file) and the
    settings with the command line's overrides: what every command reading a book starts from."""
    loaded = load_book(options.sources)
    casting_file = choose_casting_file(
        options.voices_path, options.sources, options.title or loaded.title, [story.text for story in loaded.chapters]
    )
    return loaded, casting_file, with_overrides(casting_file.config, options)


def casting_of(scripts: Sequence[Script], config: Config) -> Casting:
    """Every speaker's voice, checked by the engine that speaks it (see `cast`)."""
    options = engine_options(config)
    return cast(
        scripts, config, lambda voice: check_voice(voice, options), lambda voice: declared_gender(voice, options)
    )


def plan(options: BuildOptions) -> Plan:
    """Read, segment, attribute and cast the book: no audio yet."""
    loaded, casting_file, config = book_and_casting(options)
    problems: list[str] | None = None if options.strict_lines else []
    from .build import heard_cues  # the last build's times, for a [[lines]] entry's nearest lines

    heard = heard_cues(options.output_dir, config.title or loaded.title)
    attributed, fixed = attribute_cast(loaded, config, problems, heard)  # as `audiobook segment`
    scripts = [drop_matter(script, config.front_matter) for script in attributed]
    casting = casting_of(scripts, config)
    chapters = []
    skipped = []
    warnings = list(loaded.warnings) + (problems or [])
    titles = unique_titles([script.story.title for script in scripts])
    for number, (script, chapter_title) in enumerate(zip(scripts, titles, strict=True), 1):
        utts = utterances(script, casting, config)
        story = script.story
        check_spoken(expected_text(story, config.front_matter), [u.text for u in utts], story.path)
        chapters.append(ChapterPlan(number, chapter_title, script, utts))
        warnings += unspeakable_warning(story.path, utts)
        skipped += [f"{title} in {story.title}" for title in skipped_sections(story, config.front_matter)]
    title = config.title or loaded.title
    author = config.author or loaded.author or "Unknown author"
    # Stable across rebuilds: the newest story's modification time, not the time of the build.
    newest_s = max((int(script.story.path.stat().st_mtime) for script in scripts), default=0)
    published = datetime.fromtimestamp(newest_s, UTC)
    return Plan(
        title, author, config, tuple(chapters), casting, published, loaded.cover, tuple(warnings), tuple(skipped),
        casting_file, fixed,
    )


def unique_titles(titles: Sequence[str]) -> list[str]:
    """Chapter titles a podcast app can tell apart: a title met again gets " (2)", " (3)"..."""
    seen: dict[str, int] = {}
    taken = {title.casefold() for title in titles}
    unique = []
    for title in titles:
        count = seen[title.casefold()] = seen.get(title.casefold(), 0) + 1
        candidate, n = title, count
        while count > 1 and (candidate.casefold() in taken or candidate == title):
            candidate = f"{title} ({n})"
            n += 1
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def format_duration(ms: int) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def summary(result: BuildResult) -> str:
    """One screen: chapters, duration, who reads what, where the files are."""
    plan = result.plan
    lines = [
        f"Built \"{plan.title}\" by {plan.author}: {len(result.chapters)} chapters, "
        f"{format_duration(result.duration_ms)}",
    ]
    for chapter in result.chapters:
        lines.append(
            f"  {chapter.path.name}  {format_duration(chapter.duration_ms)}  "
            f"{_plural(len(chapter.marks), 'chapter mark')}"
        )
    if plan.casting_file is not None:
        lines.append(f"Casting: {plan.casting_file.describe()}")
    lines.append("Voices:")
    roles = [plan.casting.narrator, *plan.casting.roles]
    width = max(len(r.name) for r in roles)
    voice_width = max(16, *(len(r.voice.voice_id) for r in roles))  # Piper's ids are longer than eSpeak's
    for role in roles:
        v = role.voice
        pitch = f"{v.pitch:>2}" if v.engine == "espeak" else " -"  # only eSpeak NG has a pitch to set
        voice = f"  {role.name:<{width}}  {v.voice_id:<{voice_width}} rate {v.rate_wpm:>3}  pitch {pitch}  "
        if role is plan.casting.narrator:
            lines.append(f"{voice}{role.source}")
        else:
            lines.append(f"{voice}{role.source:<11}  {_plural(role.lines, 'line')}")
    for planned in plan.chapters:
        if narration_role(planned.script, plan.casting, plan.config) is not plan.casting.narrator:
            lines.append(f"  {planned.script.narrator} narrates {planned.title} (first person)")
    for skipped in plan.skipped:
        lines.append(f"Skipped (front_matter = \"skip\"): {skipped}")
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    if result.whole_book is not None:
        lines.append(f"Whole book: {result.whole_book.name}" + (f" and {result.m4b.name}" if result.m4b else ""))
    if result.feed_path is not None:
        lines.append(f"Feed: {result.feed_path}  (listen in a podcast app: audiobook serve {result.book_dir.parent})")
    if result.recast:
        changed = sum(r.lines for r in result.recast)
        causes = "; ".join(f"{_plural(r.lines, 'line')}: {r.why}" for r in result.recast)
        lines.append(f"Speakers changed: {_plural(changed, 'line')} ({causes})")
    cached = result.clips_total - result.clips_synthesized
    lines.append(f"Clips: {result.clips_total} ({result.clips_synthesized} synthesized, {cached} from cache)")
    lines.append(f"Files: {result.book_dir}{os.sep}")
    return "\n".join(lines)
