"""The render stage: a :class:`~audiobook.plan.Plan` in, one tagged, chaptered MP3 per chapter out
(and the whole book, the manifest of what each file holds, then the cover, transcripts and feed).

Planning is :mod:`audiobook.plan`; :func:`build` plans, then renders only what changed since the
last build. Every output is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .atomic import write_bytes_atomic
from .audio import Pauses, assemble, check_bitrate, require_ffmpeg, starts_ms
from .cache import cache_in_use
from .casting_file import candidates
from .cluster import LOCAL, Connecting, RayCluster
from .cover import Cover, cover_from_bytes, draw_cover, load_cover
from .encode import HEADER_BYTES, Part
from .engines import EngineIds
from .errors import AudiobookError, CoverError
from .lock import output_lock
from .loudness import check_loudness
from .m4b import m4b_manifest_entry, write_m4b_if_changed
from .plan import (
    BuildOptions,
    BuildResult,
    ChapterPlan,
    ChapterResult,
    Plan,
    Recast,
    Utterance,
    engine_options,
    loudness_target,
    plan,
    speakable,
)
from .produce import LocalPool, PartRequest, ProduceOptions, Production, Reports, Runner, part_requests
from .produce import start as start_production
from .publish import check_publish_options, publish
from .synthesize import ClipRequest
from .tags import ChapterMark, Tags, render_tags
from .transcript import Cue, plain_text
from .wholebook import (
    BookChapter,
    WholeBook,
    manifest_entry,
    unchanged_whole_book,
    whole_book_digest,
    whole_book_path,
    write_whole_book,
)
from .workers import start_forkserver

__all__ = [
    "MANIFEST", "Progress", "book_cover", "build", "build_books", "likely_to_make_audio", "pauses_after",
    "safe_filename",
]


@dataclass(frozen=True)
class Progress:
    """How far a build is: `done` of `total` clips synthesized or encoded, or chapters written (of `book`,
    when a run builds several).

    Synthesis also reports its work in estimated CPU seconds (`work_done` of `work_total`): a clip
    spoken by a neural voice costs about 20 times one spoken by eSpeak NG, so time left is
    reckoned from work, not from clips."""

    stage: Literal["synthesize", "encode", "write"]
    done: int
    total: int
    work_done: float | None = None
    work_total: float | None = None
    book: str = ""  # the book's title, when a run builds several


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


def pauses_after(utts: Sequence[Utterance], pauses: Pauses) -> list[int]:
    """The pause after each utterance: short in a paragraph, longer between paragraphs and sections."""
    result = []
    for utt, nxt in zip(utts, [*utts[1:], None], strict=True):
        if nxt is None:
            result.append(0)
        elif nxt.section != utt.section:
            result.append(pauses.between_sections_ms)
        elif nxt.paragraph != utt.paragraph:
            result.append(pauses.between_paragraphs_ms)
        else:
            result.append(pauses.within_paragraph_ms)
    return result


@dataclass(frozen=True)
class _Job:
    """A chapter to write: its file, what is in it, and a digest of all that."""

    chapter: ChapterPlan
    path: Path
    tags: Tags
    parts: tuple[PartRequest, ...]  # one per utterance: its clip (None: nothing to say) and the pause after it
    digest: str


def chapter_path(book: Plan, chapter: ChapterPlan, book_dir: Path) -> Path:
    """`NN - Chapter Title.mp3` in the book folder."""
    width = max(2, len(str(len(book.chapters))))
    return book_dir / f"{chapter.number:0{width}d} - {safe_filename(chapter.title)}.mp3"


def _job(
    book: Plan, chapter: ChapterPlan, book_dir: Path, options: BuildOptions, engine_ids: EngineIds, art: Cover
) -> _Job:
    path = chapter_path(book, chapter, book_dir)
    tags = Tags(chapter.title, book.author, book.title, chapter.number, len(book.chapters), cover_jpeg=art.jpeg)
    requests = [ClipRequest(u.spoken, u.voice) if speakable(u.spoken) else None for u in chapter.utterances]
    pauses = pauses_after(chapter.utterances, options.pauses)
    sections = chapter.script.story.sections
    clips = zip(requests, pauses, strict=True)
    parts = part_requests(clips, options.bitrate_kbps, loudness_target(book.config), engine_ids)
    titles = [sections[u.section].title for u in chapter.utterances]
    speakers = [u.speaker for u in chapter.utterances]
    cover = hashlib.sha256(art.jpeg).hexdigest()
    described = repr(replace(tags, cover_jpeg=None))
    keys = [p.key for p in parts]
    blob = json.dumps([keys, titles, speakers, cover, described], ensure_ascii=False).encode("utf-8", "surrogatepass")
    return _Job(chapter, path, tags, tuple(parts), hashlib.sha256(blob).hexdigest())


MANIFEST = ".audiobook.json"  # in the book folder: the sources it was built from, and what each file holds


@dataclass(frozen=True)
class BookIdentity:
    """What tells one book from another in a book folder: its sources' resolved paths, and a
    digest of each chapter's text (so a book whose folder was moved is still the same book)."""

    sources: tuple[str, ...]
    stories: tuple[str, ...]

    def same_book(self, other: BookIdentity) -> bool:
        """Sharing a source or a chapter: the same book (perhaps with a story more or fewer, or moved)."""
        return bool(set(self.sources) & set(other.sources) or set(self.stories) & set(other.stories))


def book_identity(book: Plan, sources: Sequence[Path]) -> BookIdentity:
    digests = (hashlib.sha256(c.script.story.text.encode("utf-8", "surrogatepass")).hexdigest() for c in book.chapters)
    return BookIdentity(tuple(str(source.resolve()) for source in sources), tuple(digests))


@dataclass(frozen=True)
class _Manifest:
    """What the last build left in a book folder."""

    identity: BookIdentity | None  # None: not recorded (no build yet, or one from before it was)
    files: dict  # file name -> what it holds (digest, bytes, duration, marks, cues)
    warning: str | None = None  # a manifest this build cannot use: treated as absent, and said so


def built_cues(book: Plan, output_dir: Path) -> dict[int, tuple[Cue, ...]]:
    """The transcript cues the last build into `output_dir` wrote for each chapter, by chapter number."""
    book_dir = output_dir / safe_filename(book.title)
    return _cues(book, book_dir, _read_manifest(book_dir).files)


def heard_cues(output_dir: Path, title: str) -> dict[int, tuple[Cue, ...]]:
    """The cues of the last build of the book called `title` into `output_dir`, by chapter number
    (from each chapter file's `NN - ` prefix): for times before the book is planned again."""
    found: dict[int, tuple[Cue, ...]] = {}
    for name, entry in _read_manifest(output_dir / safe_filename(title)).files.items():
        number = re.match(r"(\d+) - .*\.mp3$", name)
        try:
            if number and isinstance(entry, dict) and entry.get("cues"):
                found[int(number.group(1))] = tuple(Cue(*cue) for cue in entry["cues"])
        except (TypeError, ValueError):
            continue  # a manifest from another version: no times
    return found


def _cues(book: Plan, book_dir: Path, files: dict) -> dict[int, tuple[Cue, ...]]:
    found = {}
    for chapter in book.chapters:
        entry = files.get(chapter_path(book, chapter, book_dir).name)
        try:
            found[chapter.number] = tuple(Cue(*cue) for cue in entry["cues"]) if entry else ()
        except (KeyError, TypeError, ValueError):
            found[chapter.number] = ()  # a manifest from another version: no times
    return found


def _read_manifest(book_dir: Path) -> _Manifest:
    """The last build's manifest. One this build cannot use (damaged, edited, of the wrong shape) is
    treated as absent, with a warning: every chapter is checked and written again, no file is deleted."""
    path = book_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _Manifest(None, {})
    except (OSError, ValueError, RecursionError):
        data = None
    unusable = _Manifest(
        None,
        {},
        f"{path}: not a manifest a build wrote (damaged or edited): ignored, so every chapter is written again",
    )
    if not isinstance(data, dict):
        return unusable
    files = (
        data.get("files") if "files" in data else data
    )  # written before the book's identity was recorded: only the files
    if not isinstance(files, dict) or not all(isinstance(k, str) and _entry_shape(v) for k, v in files.items()):
        return unusable
    if files is data:
        return _Manifest(None, files)
    book = data.get("book")
    sources, stories = (_strings(book.get(key)) if isinstance(book, dict) else () for key in ("sources", "stories"))
    return _Manifest(BookIdentity(sources, stories) if sources or stories else None, files)


def _entry_shape(entry: object) -> bool:
    def rows(value: object, types: tuple[type, ...]) -> bool:
        return isinstance(value, list) and all(
            isinstance(row, list)
            and len(row) == len(types)
            and all(isinstance(v, t) for v, t in zip(row, types, strict=True))
            for row in value
        )

    return (
        isinstance(entry, dict)
        and isinstance(entry.get("digest"), str)
        and isinstance(entry.get("bytes"), int)
        and isinstance(entry.get("duration_ms", 0), int)
        and rows(entry.get("marks", []), (str, int, int))
        and rows(entry.get("cues", []), (int, int, str, str))
    )


_OWN_SUFFIXES = (".mp3", ".m4b")  # what the manifest lists: chapters, the whole book and its M4B
_SIDECARS = (".vtt", ".chapters.json")  # written beside each chapter by publish


def _remove_old(book_dir: Path, name: str, current: set[str]) -> None:
    """Delete a file the last build wrote and this one does not, with its transcript and chapters
    file: only a plain file name of the tool's own kind, and only inside the book folder (a
    manifest edited to name `/home/user/notes.txt` or `../../x` deletes nothing)."""
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name or not name.endswith(_OWN_SUFFIXES):
        return
    folder = book_dir.resolve()
    stem = name[: -len(".mp3")] if name.endswith(".mp3") else None
    sidecars = [stem + suffix for suffix in _SIDECARS] if stem and f"{stem}.mp3" not in current else []
    for candidate in [name, *sidecars]:
        path = book_dir / candidate
        try:
            if path.resolve().parent == folder and not path.is_symlink() and path.is_file():
                path.unlink()
        except OSError:
            pass


def _strings(value: object) -> tuple[str, ...]:
    """The strings of a list read from JSON (nothing else: a damaged manifest is only less useful)."""
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _write_manifest(book_dir: Path, identity: BookIdentity, files: dict) -> None:
    # ASCII with escapes: a lone surrogate (from a broken story file) round-trips instead of failing to encode
    book = {"sources": list(identity.sources), "stories": list(identity.stories)}
    write_bytes_atomic(book_dir / MANIFEST, json.dumps({"book": book, "files": files}, indent=1).encode("ascii"))


def check_same_book(book_dir: Path, manifest: _Manifest, identity: BookIdentity, overwrite: bool) -> None:
    """Refuse to write into a folder holding another book (built from other sources), unless told to."""
    if overwrite or not book_dir.is_dir():
        return
    if manifest.identity is not None:
        if manifest.identity.same_book(identity):
            return
        built_from = manifest.identity.sources[0] if manifest.identity.sources else "other stories"
        raise AudiobookError(
            f"{book_dir}: holds another book, built from {built_from}: "
            "choose another --output or --title, or pass --overwrite to replace it"
        )
    if not manifest.files and manifest.warning is None and any(not p.name.startswith(".") for p in book_dir.iterdir()):
        # (a damaged manifest is still a build's: its folder is written into, with a warning)
        raise AudiobookError(
            f"{book_dir}: holds files that no audiobook build wrote: "
            "choose another --output or --title, or pass --overwrite to write into it"
        )


def _unchanged(job: _Job, entry: dict | None) -> ChapterResult | None:
    """The chapter as the last build wrote it, if its file is there and nothing in it changed."""
    if not entry or entry.get("digest") != job.digest:
        return None
    try:
        if job.path.stat().st_size != entry["bytes"]:
            return None
    except OSError:
        return None
    marks = tuple(ChapterMark(t, s, e) for t, s, e in entry["marks"])
    cues = tuple(Cue(*cue) for cue in entry["cues"])
    return ChapterResult(job.chapter.number, job.chapter.title, job.path, entry["duration_ms"], marks, cues)


def book_cover(book: Plan, given: Path | None) -> Cover:
    """--cover, else [book] cover, else the EPUB's own cover if it is usable, else a drawn one."""
    path = given or book.config.cover
    if path:
        return load_cover(path)
    if book.source_cover:
        try:
            return cover_from_bytes(book.source_cover, "the EPUB's cover")
        except CoverError:
            pass  # too small or not square, as EPUB covers often are: draw one instead
    return draw_cover(book.title, book.author)


def build(
    options: BuildOptions,
    on_progress: Callable[[Progress], None] | None = None,
    on_wait: Callable[[int | None], None] | None = None,
) -> BuildResult:
    """Build the audiobook described by `options` into `<output_dir>/<book title>/`.

    Only what changed since the last build is synthesized, encoded and written again. One build
    at a time writes into an output folder: another one refuses (BusyError), or with
    ``options.wait`` calls ``on_wait(pid)`` and waits its turn.
    """
    [result] = build_books([options], on_progress, on_wait)
    return result


def build_books(
    books: Sequence[BuildOptions],
    on_progress: Callable[[Progress], None] | None = None,
    on_wait: Callable[[int | None], None] | None = None,
    runner: Runner | None = None,
) -> Iterator[BuildResult]:
    """Build several books in one run, each as :func:`build` would, into the same output folder
    (every option but the sources is the first book's); each book's result as it is written.

    Clips are made by `runner` if given, else on this machine's cores, or on the Ray cluster that
    ``options.ray`` (else the book's ``[build] ray``) names, one session for the whole run. Each
    book is planned, and its clips started, before the book before it is finished: on a cluster the
    next book's clips are made while the last one's chapters are joined and tagged here. If a book
    cannot be planned, the one before it is still finished; then its error is raised.
    """
    if not books:
        return
    first = books[0]
    check_bitrate(first.bitrate_kbps)
    if first.loudness_lufs is not None:
        check_loudness(first.loudness_lufs)
    check_publish_options(first.base_url, first.cover)  # fail now, not after the synthesis
    if first.m4b:
        require_ffmpeg()
    connecting = None
    if first.ray not in (None, LOCAL) and runner is None:
        connecting = Connecting(first.ray)  # without Ray, one line saying what to install; else it connects now
    if first.ray in (None, LOCAL) and likely_to_make_audio(first):
        start_forkserver()  # the workers' server boots and imports numpy & co. while the book is planned
    cache_dir = first.cache_dir or first.output_dir / ".cache"
    with ExitStack() as held, _Runners(connecting) as runners:
        started: _Started | None = None
        for number, options in enumerate(books):
            try:
                book = plan(options)  # before the lock: a mistake in the sources or voices.toml creates no folder
            except BaseException:
                if started is not None:
                    yield _finish(started, on_progress)
                raise
            if number == 0:
                if connecting is not None:
                    connecting.imported()  # Ray could not be imported after all: one line, and nothing written
                held.enter_context(output_lock(first.output_dir, first.wait, on_wait))
                held.enter_context(cache_in_use(cache_dir))
            later = _start(book, options, cache_dir, runner or runners.for_book(book, options), on_progress,
                           len(books) > 1)
            if started is not None:
                yield _finish(started, on_progress)  # while the next book's clips are made
            started = later
        if started is not None:
            yield _finish(started, on_progress)


class _Runners:
    """Where each book's clips are made: this machine's pool, or one Ray session for the whole run."""

    def __init__(self, connecting: Connecting | None = None) -> None:
        self.cluster: RayCluster | None = None
        self.connecting = connecting  # the session --ray names, opening while the first book is planned

    def for_book(self, book: Plan, options: BuildOptions) -> Runner:
        address = book.config.ray
        if address in (None, LOCAL):
            return LocalPool(options.jobs)
        if self.cluster is None and self.connecting is not None and self.connecting.address == address:
            self.cluster = self.connecting.session(book.config.ray_runtime_env)
        elif self.cluster is None:
            self.cluster = RayCluster(address, book.config.ray_runtime_env)
        elif self.cluster.address != address:
            raise AudiobookError(
                f"{book.config.where('build', 'ray')}: names the Ray cluster {address}, but this run builds on "
                f"{self.cluster.address}: pass --ray ADDRESS to build every book on one cluster"
            )
        return self.cluster

    def __enter__(self) -> _Runners:
        return self

    def __exit__(self, *_: object) -> None:
        if self.cluster is not None:
            self.cluster.close()
        if self.connecting is not None:
            self.connecting.close()


def likely_to_make_audio(options: BuildOptions) -> bool:
    """Whether this build will probably have audio to make: no book was built into the output
    folder yet, or a story or the casting file changed since. (A guess from file times, so the
    workers' server can start before planning; a rebuild with nothing changed never starts it.)"""
    try:
        built = [path.stat().st_mtime_ns for path in options.output_dir.glob("*/.audiobook.json")]
        if not built:
            return True
        inputs = [
            path for source in options.sources for path in (source, *(source.iterdir() if source.is_dir() else ()))
        ]
        voices = candidates(options.voices_path, options.sources)
        return max(path.stat().st_mtime_ns for path in [*inputs, *voices]) > max(built)
    except OSError:
        return False  # a missing source: planning will say so


@dataclass
class _Started:
    """A book whose clips are being made: what finishing it needs."""

    book: Plan
    options: BuildOptions
    book_dir: Path
    identity: BookIdentity
    manifest: dict
    manifest_warning: str | None  # the last build's manifest was unusable (see _read_manifest)
    recast: tuple[Recast, ...]  # lines read by someone else than in the last build
    art: Cover
    jobs: list[_Job]
    results: dict[int, ChapterResult]  # chapters unchanged since the last build
    todo: list[_Job]
    production: Production
    label: str  # the book's title in progress reports, when a run builds several


def _start(
    book: Plan, options: BuildOptions, cache_dir: Path, runner: Runner,
    on_progress: Callable[[Progress], None] | None, several: bool,
) -> _Started:
    """Check and claim the book's folder, then start making the clips its changed chapters need."""
    book_dir = options.output_dir / safe_filename(book.title)
    identity = book_identity(book, options.sources)
    stored = _read_manifest(book_dir)
    check_same_book(book_dir, stored, identity, options.overwrite)
    art = book_cover(book, options.cover)  # a bad [book] cover fails here, before the book folder exists
    try:
        book_dir.mkdir(parents=True, exist_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudiobookError(f"{exc.filename}: cannot create folder: {exc.strerror}") from None
    if stored.identity is None or not stored.identity.same_book(identity):
        # the folder is this book's from now on, before any file is written into it
        _write_manifest(book_dir, identity, stored.files)
    for stale in book_dir.glob(".*.partial"):  # left by a build that was killed mid-chapter
        stale.unlink(missing_ok=True)

    engine_ids = EngineIds(engine_options(book.config))
    manifest = stored.files
    manifest_warning = stored.warning
    from .lines import speaker_changes  # it reads the plan's lines as build lays them out

    recast = speaker_changes(book, _cues(book, book_dir, manifest), options.pauses)
    jobs = [_job(book, chapter, book_dir, options, engine_ids, art) for chapter in book.chapters]
    results: dict[int, ChapterResult] = {}
    for job in jobs:
        unchanged = _unchanged(job, manifest.get(job.path.name))
        if unchanged:
            results[job.chapter.number] = unchanged
    todo = [job for job in jobs if job.chapter.number not in results]

    label = book.title if several else ""
    requests = [part for job in todo for part in job.parts]
    clips = _Counter(on_progress, "synthesize", sum(1 for r in requests if r.clip is not None), label)
    production = start_production(
        requests,
        ProduceOptions(cache_dir, options.bitrate_kbps, loudness_target(book.config), engine_options(book.config)),
        runner,
        Reports(on_clip=clips, on_part=_Counter(on_progress, "encode", len(requests), label), on_work=clips.work),
    )
    return _Started(
        book, options, book_dir, identity, manifest, manifest_warning, recast, art, jobs, results, todo, production,
        label,
    )


def _finish(started: _Started, on_progress: Callable[[Progress], None] | None) -> BuildResult:
    """Wait for the book's clips, then write its chapters, the whole book, the manifest and the feed."""
    book, options, book_dir, manifest, jobs, results = (
        started.book, started.options, started.book_dir, started.manifest, started.jobs, started.results
    )
    produced = started.production.finish()
    synthesized = sum(1 for p in produced if p.synthesized)
    parts = iter(p.part for p in produced)
    report = _Counter(on_progress, "write", len(started.todo), started.label)
    for job in started.todo:
        chapter_parts = [next(parts) for _ in job.parts]
        results[job.chapter.number] = _write_chapter(job, chapter_parts, options.bitrate_kbps)
        report(job)

    whole = _whole_book(book, jobs, results, book_dir, started.art, options.bitrate_kbps, manifest)
    entries = {whole.path.name: manifest_entry(whole)}
    m4b = None
    if options.m4b:
        m4b = write_m4b_if_changed(whole, book_dir, started.art.jpeg, options.bitrate_kbps, manifest)
        entries[m4b.path.name] = m4b_manifest_entry(m4b)
    for job in jobs:
        r = results[job.chapter.number]
        entries[job.path.name] = {
            "digest": job.digest, "bytes": job.path.stat().st_size, "duration_ms": r.duration_ms,
            "marks": [[m.title, m.start_ms, m.end_ms] for m in r.marks],
            "cues": [[c.start_ms, c.end_ms, c.speaker, c.text] for c in r.cues],
        }
    for old in sorted(set(manifest) - set(entries)):  # chapters this book no longer has
        _remove_old(book_dir, old, set(entries))
    _write_manifest(book_dir, started.identity, entries)
    chapters = tuple(results[job.chapter.number] for job in jobs)
    clips_total = sum(1 for job in jobs for part in job.parts if part.clip)
    if started.manifest_warning:
        book = replace(book, warnings=(*book.warnings, started.manifest_warning))
    result = BuildResult(book, book_dir, chapters, clips_total, synthesized, whole_book=whole.path,
                         m4b=m4b.path if m4b else None, recast=started.recast)
    published = publish(result, started.art, book.published, options.base_url)
    return replace(result, feed_path=published.feed_path)


def _whole_book(
    book: Plan, jobs: Sequence[_Job], results: dict[int, ChapterResult], book_dir: Path, art: Cover,
    bitrate_kbps: int, manifest: dict,
) -> WholeBook:
    """<Book Title>.mp3 beside the chapters, joined from their frames; kept as it is if nothing changed."""
    chapters = [
        BookChapter(job.chapter.title, job.path, job.digest, plain_text(results[job.chapter.number].cues),
                    job.chapter.script.story.volume)
        for job in jobs
    ]
    path = whole_book_path(book_dir, safe_filename(book.title), {job.path.name for job in jobs})
    tags = Tags(book.title, book.author, book.title, 1, 1, cover_jpeg=art.jpeg)
    kept = unchanged_whole_book(path, whole_book_digest(chapters, tags, bitrate_kbps), manifest.get(path.name))
    return kept or write_whole_book(chapters, path, tags, bitrate_kbps)


class _Counter:
    """Counts finished items and reports them as progress (of `book`, when a run builds several);
    :meth:`work` reports the work done so far beside the count (see :class:`Progress`)."""

    def __init__(self, on_progress: Callable[[Progress], None] | None, stage: str, total: int, book: str = "") -> None:
        self._on_progress, self._stage, self._total, self._book = on_progress, stage, total, book
        self._done = 0
        self._work: tuple[float | None, float | None] = (None, None)
        self._report()

    def __call__(self, item: object) -> None:
        self._done += 1
        self._report()

    def work(self, done: float, total: float) -> None:
        self._work = (done, total)
        self._report()

    def _report(self) -> None:
        if self._on_progress:
            self._on_progress(Progress(self._stage, self._done, self._total, *self._work, self._book))  # type: ignore[arg-type]


def _write_chapter(job: _Job, parts: Sequence[Part], bitrate_kbps: int) -> ChapterResult:
    """Tag, then stream the parts after the tag, and rename into place: complete or not at all.

    Every time is known from the parts' frame counts before a byte is written.
    """
    starts_of, duration_ms = starts_ms([p.frames for p in parts])
    utts = job.chapter.utterances
    sections = job.chapter.script.story.sections
    firsts = [i for i, u in enumerate(utts) if i == 0 or u.section != utts[i - 1].section]
    starts = [starts_of[i] for i in firsts] + [duration_ms]
    marks = tuple(ChapterMark(sections[utts[i].section].title, starts[k], starts[k + 1]) for k, i in enumerate(firsts))
    ends = [*starts_of[1:], duration_ms]
    cues: list[Cue] = []  # one per line of the script, from its start to the start of its pause
    for i, (utt, part, start, end) in enumerate(zip(utts, job.parts, starts_of, ends, strict=True)):
        if part.clip is None:
            continue
        cue = Cue(start, max(start, end - part.pause_ms), utt.speaker, utt.text)
        if cues and i and utts[i - 1].line == utt.line and job.parts[i - 1].clip is not None:
            cue = Cue(cues[-1].start_ms, cue.end_ms, utt.speaker, f"{cues.pop().text} {utt.text}")
        cues.append(cue)
    tag = render_tags(replace(job.tags, chapters=marks, lyrics=plain_text(tuple(cues))))
    partial = job.path.with_name(f".{job.path.name}.partial")
    try:
        assemble([p.path for p in parts], [p.frames for p in parts], partial, bitrate_kbps, HEADER_BYTES, header=tag)
        os.replace(partial, job.path)
    finally:
        partial.unlink(missing_ok=True)
    return ChapterResult(job.chapter.number, job.chapter.title, job.path, duration_ms, marks, tuple(cues))
