"""One studio session: a book, its casting file and its output folder, shared by every tab.

It reads the book as `build` does (:func:`audiobook.plan.plan`), speaks previews and single
lines through the build's clip cache, saves edits into the casting file (refusing a save made
from an older revision of it), and runs the ordinary build in a thread, reporting progress.

What it writes: the casting file (through a temporary beside it, renamed into place) and the
output folder (the book's folder, and the clip cache with the previews in it). Nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..cast import cast_entries
from ..casting_file import VOICES_FILE
from ..config import load_config
from ..engine import Voice
from ..errors import AudiobookError, ConfigError
from ..plan import BuildOptions, BuildResult, Plan, Utterance, engine_options, loudness_target, plan, speakable
from ..segment import speech_text
from .edits import Edit, FixLine, Merge, NotCharacter, SetGender, SetVoice, apply_edits
from .views import BookView, EngineVoices, book_view, engine_voices, is_name

PREVIEW_LINES = 3
PREVIEWS = "studio"  # the folder in the clip cache holding previews (NAME.mp3, named by what they hold)


class StaleError(AudiobookError):
    """A save made from an older revision of the casting file than the one on disk."""


class BusyError(AudiobookError):
    """A build is already running."""


@dataclass(frozen=True)
class StudioOptions:
    sources: tuple[Path, ...]
    voices_path: Path | None = None  # None: the book's casting file, as `build` chooses it
    output_dir: Path = Path("output")
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    piper_voices: Path | None = None  # None: [engines.piper] voices in the casting file, else Piper's default folder

    @property
    def cache_dir(self) -> Path:
        return self.output_dir / ".cache"


@dataclass(frozen=True)
class BuiltChapter:
    number: int
    title: str
    duration_ms: int


@dataclass(frozen=True)
class BuildStatus:
    """How the studio's build is going: "idle", "running", "done" or "failed"."""

    state: str
    number: int = 0  # builds started by this studio, this one included
    stage: str | None = None  # "synthesize", "encode", "write"
    done: int = 0
    total: int = 0
    error: str | None = None
    clips_total: int = 0
    clips_synthesized: int = 0
    chapters: tuple[BuiltChapter, ...] = ()
    recast: tuple[str, ...] = ()  # "3 lines: [[lines]] in voices.toml:41"


def revision_of(path: Path) -> str:
    """A digest of the casting file as it is now ("" if there is none)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        return ""


def casting_path_for(options: StudioOptions, chosen: Path | None) -> Path:
    """Where the studio saves: the given or chosen casting file, else a new voices.toml in the book's
    folder (or beside its story file)."""
    if options.voices_path is not None:
        return options.voices_path
    if chosen is not None:
        return chosen
    first = options.sources[0]
    return (first if first.is_dir() else first.parent) / VOICES_FILE


class Studio:
    """The book being cast. Thread-safe: the server calls it from several threads at once."""

    def __init__(self, options: StudioOptions) -> None:
        self.options = options
        self._lock = threading.RLock()  # the plan and the casting file
        self._speaking = threading.Lock()  # one preview at a time: it is one engine process
        self._plan: Plan | None = None
        self._planned: tuple[str, tuple[int, ...]] | None = None  # (revision, sources' mtimes) of _plan
        self._build_thread: threading.Thread | None = None
        self._status = BuildStatus("idle")
        self._result: BuildResult | None = None
        given = options.voices_path
        used = Path(os.devnull) if given is not None and not given.exists() else given
        first = self._read_plan(used)
        chosen = first.casting_file.path if first.casting_file is not None else None
        self.casting_path = casting_path_for(options, chosen)
        if chosen is None and self.casting_path.exists():
            note = first.casting_file.note if first.casting_file else None
            raise ConfigError(
                f"{self.casting_path}: is not this book's casting file{f' ({note})' if note else ''}: "
                "pass --voices FILE to choose the file to edit"
            )
        if self._voices_now() in (used, chosen):  # the book as the page will show it: not read twice
            self._plan, self._planned = first, self._stamp()

    # -- the book ---------------------------------------------------------------------------------

    def _build_options(self, voices_path: Path | None) -> BuildOptions:
        opts = self.options
        return BuildOptions(opts.sources, opts.output_dir, voices_path, jobs=opts.jobs, piper_voices=opts.piper_voices)

    def _read_plan(self, voices_path: Path | None) -> Plan:
        """The book as `build` reads it, but a `[[lines]]` entry that no longer finds its line is a
        warning on the page (the build still refuses it), so the page opens and the entry can be fixed."""
        return plan(replace(self._build_options(voices_path), strict_lines=False))

    def _voices_now(self) -> Path | None:
        """The casting file to read the book with: the studio's, or, until the first save makes it,
        an empty one (--voices FILE not made yet) or the built-in voices."""
        if self.casting_path.is_file() or self.options.voices_path is None:
            return self.casting_path if self.casting_path.is_file() else None
        return Path(os.devnull)

    def _stamp(self) -> tuple[str, tuple[int, ...]]:
        mtimes = []
        for source in self.options.sources:
            for path in (source, *(sorted(source.iterdir()) if source.is_dir() else ())):
                try:
                    mtimes.append(path.stat().st_mtime_ns)
                except OSError:
                    mtimes.append(0)
        return revision_of(self.casting_path), tuple(mtimes)

    def plan(self) -> tuple[Plan, str]:
        """The book as the casting file has it now, and that file's revision."""
        with self._lock:
            stamp = self._stamp()
            if self._plan is None or self._planned != stamp:
                self._plan = self._read_plan(self._voices_now())
                self._planned = stamp
            return self._plan, stamp[0]

    def book(self) -> BookView:
        book, revision = self.plan()
        return book_view(book, str(self.casting_path), revision)

    def voices(self) -> tuple[EngineVoices, ...]:
        from .. import engines

        book, _ = self.plan()
        return engine_voices(engines.NAMES, book.config.language, engine_options(book.config))

    # -- listening ----------------------------------------------------------------------------------

    def preview(self, name: str, voice: Voice | None = None) -> Path:
        """A few of `name`'s own lines in `voice` (else their voice now), as an MP3 in the cache."""
        book, _ = self.plan()
        utts = [u for chapter in book.chapters for u in chapter.utterances if u.speaker == name and speakable(u.spoken)]
        if not utts:
            raise AudiobookError(f"{name} has no line to speak in this book: choose another character")
        early = utts[: PREVIEW_LINES * 5]  # their fullest lines among the first few: enough words to judge a voice
        fullest = set(sorted(range(len(early)), key=lambda i: -len(early[i].spoken.split()))[:PREVIEW_LINES])
        chosen = [u for i, u in enumerate(early) if i in fullest]
        return self._speak(chosen, voice)

    def line_audio(self, chapter: int, index: int) -> Path:
        """One line of the script in the voice that reads it, as an MP3 in the cache."""
        book, _ = self.plan()
        if not 1 <= chapter <= len(book.chapters):
            raise AudiobookError(f"no chapter {chapter}: the book has {len(book.chapters)}")
        utts = [u for u in book.chapters[chapter - 1].utterances if u.line == index and speakable(u.spoken)]
        if not utts:
            raise AudiobookError(f"line {index} of chapter {chapter} has nothing to say")
        return self._speak(utts, None)

    def _speak(self, utts: Sequence[Utterance], voice: Voice | None) -> Path:
        from ..engines import check_voice
        from ..preview import make_preview

        book, _ = self.plan()
        texts = [u.spoken for u in utts]
        voices = [voice or u.voice for u in utts]
        loudness = loudness_target(book.config)
        engines = engine_options(book.config)
        if voice is not None:
            check_voice(voice, engines)
        key = json.dumps([[repr(v) for v in voices], texts, loudness, repr(engines)], ensure_ascii=False)
        path = self.previews_dir / f"{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}.mp3"
        with self._speaking:
            if not path.is_file():  # the second play of the same lines is the file made the first time
                make_preview("studio", voices[0], texts, path, self.options.cache_dir, engine_options=engines,
                             voices=voices, loudness_lufs=loudness)
        return path

    @property
    def previews_dir(self) -> Path:
        return self.options.cache_dir / PREVIEWS

    # -- saving -------------------------------------------------------------------------------------

    def save(self, revision: str, changes: Sequence[dict[str, Any]]) -> str:
        """Apply the page's `changes` to the casting file, if it is still at `revision`; the new revision.

        StaleError if the file changed since (another tab saved, or an editor): nothing is written.
        """
        with self._lock:
            current = revision_of(self.casting_path)
            if revision != current:
                raise StaleError(
                    f"{self.casting_path} was changed since this page read it (saved from another tab or an "
                    "editor): nothing was saved; reload the page to see the changes, then make yours again"
                )
            book, _ = self.plan()
            edits = [self._edit(book, change) for change in changes]
            self._check_voices(book, edits)
            path = self.casting_path
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            self._write_checked(path, apply_edits(text, edits, str(path)))
            return revision_of(path)

    def _edit(self, book: Plan, change: dict[str, Any]) -> Edit:
        """The edit a change from the page asks for; ConfigError (one line) if it is not one."""
        try:
            op = change["op"]
            if op == "voice":
                voice = change["voice"]
                return SetVoice(str(change["name"]), str(voice["id"]), int(voice["rate"]), int(voice["pitch"]))
            if op == "gender":
                gender = change.get("gender")
                return SetGender(str(change["name"]), str(gender) if gender else None)
            if op == "merge":
                name = str(change["name"])
                found = next((e for e in cast_entries([c.script for c in book.chapters], book.casting)
                              if e.name == name), None)
                return Merge(name, str(change["into"]), found.aliases if found else ())
            if op == "not_character":
                return self._not_character(str(change["name"]))
            if op == "line":
                return self._line_fix(book, int(change["chapter"]), int(change["line"]), str(change["speaker"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"a change the page sent is incomplete ({exc}): reload the page") from None
        raise ConfigError(f"unknown change {op!r}: reload the page")

    @staticmethod
    def _not_character(name: str) -> NotCharacter:
        if not is_name(name):
            raise ConfigError(
                f"'{name}' is how the story describes a speaker, not a name: give their lines to someone with "
                "'same person as', or change each line's speaker in the script"
            )
        return NotCharacter(name)

    @staticmethod
    def _check_voices(book: Plan, edits: Sequence[Edit]) -> None:
        """Each voice an edit picks must be one its engine can speak as set: checked before anything is written."""
        from ..engines import check_voice

        for edit in edits:
            if isinstance(edit, SetVoice):
                try:
                    check_voice(Voice(edit.voice, edit.rate_wpm, edit.pitch), engine_options(book.config))
                except AudiobookError as exc:
                    raise ConfigError(f"{edit.name}'s voice: {exc} (nothing was saved)") from None

    @staticmethod
    def _line_fix(book: Plan, chapter: int, index: int, speaker: str) -> FixLine:
        """The `[[lines]]` entry that gives line `index` of `chapter` to `speaker`: the entry already
        fixing it, or a new one quoting the fewest words (four at least) that `build` finds in that
        line alone, as it locates every entry (:func:`audiobook.attribution.seed.locate`)."""
        from ..attribution.seed import Fix, UserCast, locate

        if not 1 <= chapter <= len(book.chapters) or not 0 <= index < len(book.chapters[chapter - 1].script.lines):
            raise ConfigError(f"no line {index} in chapter {chapter}: reload the page")
        script = book.chapters[chapter - 1].script
        line = script.lines[index]
        if line.kind != "dialogue":
            raise ConfigError("only a line of dialogue can change speaker: narration is the narrator's")
        fixed = book.fixed.get((chapter, line.start))
        if fixed is not None:
            return FixLine(fixed.quote, speaker, replaces=fixed.quote)
        said = speech_text(script.story.text[line.start : line.end])
        words = said.split()
        quotes = [" ".join(words[:count]) for count in range(min(4, len(words)), len(words) + 1)]
        segmentations = [c.script.segmentation for c in book.chapters]
        for first in range(0, len(quotes), 8):  # the shortest first, a few at a time
            batch = UserCast(fixes=tuple(Fix(quote, speaker, quote) for quote in quotes[first : first + 8]))
            for place in locate(batch, segmentations, lambda _chapter, _offset: "", problems=[]):
                if (place.chapter, segmentations[place.chapter].segments[place.segment].start) == (chapter - 1,
                                                                                                   line.start):
                    return FixLine(place.fix.quote, speaker)
        raise ConfigError(f"the words {said!r} are said more than once in the book: a [[lines]] entry cannot "
                          "single this one out; edit the casting file by hand")

    @staticmethod
    def _write_checked(path: Path, text: str) -> None:
        """Write the casting file whole, but only if it is still a valid one."""
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            try:
                load_config(Path(temporary))
            except ConfigError as exc:
                raise ConfigError(str(exc).replace(temporary, str(path)) + " (nothing was saved)") from None
            if path.exists():
                os.chmod(temporary, path.stat().st_mode & 0o777)
            else:
                os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    # -- building -----------------------------------------------------------------------------------

    def start_build(self) -> None:
        """Start the ordinary build in a thread; BusyError if one is running."""
        with self._lock:
            if self._build_thread is not None and self._build_thread.is_alive():
                raise BusyError("a build is already running: wait for it to finish")
            self._status = BuildStatus("running", self._status.number + 1)
            self._build_thread = threading.Thread(target=self._run_build, name="studio-build", daemon=True)
            self._build_thread.start()

    def _run_build(self) -> None:
        from ..build import Progress, build

        def on_progress(event: Progress) -> None:
            self._status = replace(self._status, stage=event.stage, done=event.done, total=event.total)

        try:
            result = build(self._build_options(self._voices_now()), on_progress)
        except AudiobookError as exc:
            self._status = replace(self._status, state="failed", error=str(exc))
            return
        except OSError as exc:
            self._status = replace(self._status, state="failed", error=f"{exc.filename or ''}: {exc.strerror or exc}")
            return
        chapters = tuple(BuiltChapter(c.number, c.title, c.duration_ms) for c in result.chapters)
        recast = tuple(f"{r.lines} line{'s' if r.lines != 1 else ''}: {r.why}" for r in result.recast)
        self._result = result
        self._status = replace(self._status, state="done", clips_total=result.clips_total,
                               clips_synthesized=result.clips_synthesized, chapters=chapters, recast=recast)

    def build_status(self) -> BuildStatus:
        return self._status

    def wait_for_build(self, timeout_s: float | None = None) -> None:
        thread = self._build_thread
        if thread is not None:
            thread.join(timeout_s)

    def chapter_file(self, number: int) -> Path | None:
        """The MP3 of chapter `number` as the studio's last build wrote it."""
        result = self._result
        if result is None:
            return None
        return next((c.path for c in result.chapters if c.number == number), None)
