"""ID3v2.3 tags and chapter markers for the finished MP3.

This is the only module that imports mutagen (the idea is beetbox/mediafile's:
one module hides the tag library, and a table maps each field to its frame).

Chapters are written as one CHAP frame per chapter plus one top-level, ordered
CTOC that lists them. A CTOC holds at most 255 entries, so a longer list (a
whole book of many stories) is split: the top-level CTOC then lists ordered
sub-CTOCs of up to 255 CHAPs each, as ID3v2 chapters allow (ffmpeg ignores
tables of contents and reads every CHAP; mutagen reads the nesting). The tag is ID3v2.3, not 2.4, because ffmpeg-based
players drop v2.4 chapters whose titles are long. mutagen normally writes
frames sorted by size, which scatters the CHAP frames, and ffmpeg lists
chapters in file order; ``_TimeOrderedID3`` writes them in time order instead,
after the text frames and the CTOC.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TIT2,
    USLT,
    CTOCFlags,
    Encoding,
    Frame,
    Frames,
    ID3NoHeaderError,
    ID3Tags,
    PictureType,
)

# mutagen's own one-frame serialiser and its settings; used by _TimeOrderedID3._write.
from mutagen.id3._tags import ID3SaveConfig, save_frame
from mutagen.mp3 import MP3

from audiobook.errors import TagError

__all__ = ["ChapterMark", "Tags", "read_tags", "write_tags"]

# ID3 stores chapter times as unsigned 32-bit milliseconds.
MAX_TIME_MS = 0xFFFFFFFF
# A CTOC counts its entries in one byte: more chapters than this go in nested tables.
MAX_TOC_ENTRIES = 255
MAX_CHAPTERS = MAX_TOC_ENTRIES * MAX_TOC_ENTRIES  # a top-level table of 255 tables of 255

# Each plain text field of Tags and the ID3 frame that holds it, in the order
# the frames are written. The track number ("n/N" in TRCK) is written after them.
_TEXT_FRAMES: dict[str, str] = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "genre": "TCON",
    "language": "TLAN",
}
_TRACK_FRAME = "TRCK"

_TOC_ID = "toc"
_LANGUAGE_CODE = re.compile(r"[a-z]{3}")  # ISO 639-2, e.g. "eng"
_CHUNK = re.compile(r"Chapters [0-9]+-[0-9]+|")  # a table that only splits a long list (or has no title)
_TRACK = re.compile(r"\s*(?P<number>[0-9]+)\s*/\s*(?P<total>[0-9]+)\s*")  # TRCK "n/N"


@dataclass(frozen=True)
class ChapterMark:
    """A chapter from ``start_ms`` (inclusive) to ``end_ms`` (exclusive)."""

    title: str
    start_ms: int
    end_ms: int
    group: str | None = None  # the table of contents' entry it is listed under (its volume), if any

    def __post_init__(self) -> None:
        _check_text("chapter title", self.title)
        if not 0 <= self.start_ms <= self.end_ms <= MAX_TIME_MS:
            raise ValueError(
                f"chapter {self.title!r}: need 0 <= start_ms <= end_ms <= {MAX_TIME_MS},"
                f" got {self.start_ms}..{self.end_ms}"
            )


@dataclass(frozen=True)
class Tags:
    """Everything written to the audiobook's ID3 tag.

    ``chapters`` may be given in any order; they are stored sorted by time
    and must not overlap (touching is fine, and so is a zero-length chapter).
    """

    title: str  # TIT2
    artist: str  # TPE1, the author
    album: str  # TALB, the book
    track: int  # TRCK "n/N"
    track_total: int
    genre: str = "Audiobook"  # TCON
    language: str | None = None  # TLAN, ISO 639-2 such as "eng"
    chapters: tuple[ChapterMark, ...] = ()
    lyrics: str | None = None  # USLT: the transcript as plain text
    cover_jpeg: bytes | None = None  # APIC, picture type 3 (front cover)

    def __post_init__(self) -> None:
        for field in ("title", "artist", "album", "genre"):
            _check_text(field, getattr(self, field))
        if self.language is not None and not _LANGUAGE_CODE.fullmatch(self.language):
            raise ValueError(
                f"language must be a 3-letter ISO 639-2 code like 'eng', got {self.language!r}"
            )
        if self.cover_jpeg is not None and not self.cover_jpeg.startswith(b"\xff\xd8\xff"):
            raise ValueError("cover_jpeg must be JPEG data (starting with FF D8 FF)")
        if not 1 <= self.track <= self.track_total:
            raise ValueError(f"need 1 <= track <= track_total, got {self.track}/{self.track_total}")
        if len(self.chapters) > MAX_CHAPTERS:
            raise ValueError(f"{len(self.chapters)} chapters: an ID3 table of contents holds at most {MAX_CHAPTERS}")
        chapters = _sorted_chapters(self.chapters)
        object.__setattr__(self, "chapters", chapters)  # frozen: normalise once, here


def write_tags(path: Path, tags: Tags) -> None:
    """Replace any tag in the MP3 at ``path`` with an ID3v2.3 tag holding ``tags``.

    Any ID3v1 tag is removed too. The audio frames are not touched.
    Raises TagError if ``path`` is missing, is not an MP3, or cannot be written.
    """
    path = Path(path)
    _check_is_file(path, "cannot tag")
    try:
        MP3(path)
    except MutagenError as error:
        raise TagError(
            f"cannot tag {path}: not a readable MP3 file ({_one_line(error)}); pass an MP3 file"
        ) from error

    id3 = _TimeOrderedID3()
    for frame in _frames_for(tags):
        id3.add(frame)
    try:
        id3.save(path, v1=0, v2_version=3)
    except (MutagenError, OSError) as error:
        raise TagError(
            f"cannot write tags to {path}: {_one_line(error)}; check the file is writable"
        ) from error


def render_tags(tags: Tags) -> bytes:
    """The ID3v2.3 tag holding ``tags``, as bytes to write before the audio frames.

    Writing the tag first, then streaming the audio after it, keeps memory flat: tagging a
    finished file would move all of its audio to make room.
    """
    id3 = _TimeOrderedID3()
    for frame in _frames_for(tags):
        id3.add(frame)
    buffer = io.BytesIO()
    try:
        id3.save(buffer, v1=0, v2_version=3, padding=lambda info: 0)
    except MutagenError as error:
        raise TagError(f"cannot make the tags for {tags.title!r}: {_one_line(error)}") from error
    return buffer.getvalue()


def read_tags(path: Path) -> Tags:
    """Read back the tag written by :func:`write_tags`.

    Missing text frames read as ""; a missing or malformed track number,
    a file without an ID3 tag, or overlapping chapters raise TagError.
    """
    path = Path(path)
    _check_is_file(path, "cannot read tags from")
    try:
        id3 = ID3(path, translate=False)  # as stored: no v2.4 upgrade, no TCON "(12)" rewriting
    except ID3NoHeaderError as error:
        raise TagError(
            f"cannot read tags from {path}: it has no ID3 tag; tag it with write_tags first"
        ) from error
    except MutagenError as error:
        raise TagError(
            f"cannot read tags from {path}: {_one_line(error)}; check it is a tagged MP3"
        ) from error

    texts = {field: _text(id3, frame_id) for field, frame_id in _TEXT_FRAMES.items()}
    lyrics = id3.getall("USLT")
    covers = [apic for apic in id3.getall("APIC") if apic.type == PictureType.COVER_FRONT]
    groups = _groups(id3.getall("CTOC"))
    try:
        track, track_total = _parse_track(_text(id3, _TRACK_FRAME))
        return Tags(
            title=texts["title"],
            artist=texts["artist"],
            album=texts["album"],
            genre=texts["genre"],
            language=texts["language"] or None,
            track=track,
            track_total=track_total,
            chapters=tuple(
                ChapterMark(_text(chap.sub_frames, "TIT2"), chap.start_time, chap.end_time, groups.get(chap.element_id))
                for chap in id3.getall("CHAP")
            ),
            lyrics=str(lyrics[0].text) if lyrics else None,
            cover_jpeg=bytes(covers[0].data) if covers else None,
        )
    except ValueError as error:
        raise TagError(
            f"cannot read tags from {path}: {_one_line(error)}; rewrite them with write_tags"
        ) from error


def _groups(tables: list[Any]) -> dict[str, str]:  # mutagen's CTOC frames (untyped attributes)
    """Each chapter's group: the title of the nearest table above it other than the top level
    and the "Chapters 1-255" tables that only split long lists."""
    parent = {child: table for table in tables for child in table.child_element_ids}
    groups = {}
    for table in tables:
        for child in table.child_element_ids:
            above: Any = table
            while above is not None and (
                above.flags & CTOCFlags.TOP_LEVEL or _CHUNK.fullmatch(_text(above.sub_frames, "TIT2"))
            ):
                above = parent.get(above.element_id)
            if above is not None:
                groups[child] = _text(above.sub_frames, "TIT2")
    return groups


class _TimeOrderedID3(ID3):
    """An ID3 tag whose frames are written in the order they were added,
    except that CHAP frames always go last and in order of start time.

    mutagen's own ``ID3Tags._write`` sorts frames by a priority list and then
    by size, so chapters would land in size order. That is not cosmetic:
    ffmpeg (and so ffprobe and ffmpeg-based players) ignores the CTOC and
    lists chapters in the order their CHAP frames appear in the file.
    """

    def _write(self, config: ID3SaveConfig) -> bytearray:
        def position(frame: Frame) -> tuple[bool, int]:
            # mutagen makes a CHAP's fields from its spec at run time: no type knows start_time
            return (True, frame.start_time) if isinstance(frame, CHAP) else (False, 0)  # type: ignore[attr-defined]

        frames = sorted(self.values(), key=position)  # stable: non-chapters keep insertion order
        return bytearray().join(save_frame(frame, config=config) for frame in frames)


def _frames_for(tags: Tags) -> list[Frame]:
    """The ID3 frames for ``tags``: text frames, then the CTOC, then the CHAPs in time order."""
    texts: list[tuple[str, str | None]] = [
        (frame_id, getattr(tags, field)) for field, frame_id in _TEXT_FRAMES.items()
    ]
    texts.append((_TRACK_FRAME, f"{tags.track}/{tags.track_total}"))
    # mutagen would silently drop an empty text frame; skipping it here says so.
    frames: list[Frame] = [
        Frames[frame_id](encoding=_encoding_for(value), text=[value]) for frame_id, value in texts if value
    ]

    if tags.lyrics:
        language = tags.language or "XXX"  # ID3's "unknown language"
        frames.append(USLT(encoding=_encoding_for(tags.lyrics), lang=language, desc="", text=tags.lyrics))
    if tags.cover_jpeg is not None:
        frames.append(
            APIC(
                encoding=Encoding.LATIN1, mime="image/jpeg", type=PictureType.COVER_FRONT, desc="", data=tags.cover_jpeg
            )
        )

    chapter_ids = [f"ch{index}" for index in range(len(tags.chapters))]
    frames += _tables_of_contents(chapter_ids, [chapter.group for chapter in tags.chapters])
    for chapter_id, chapter in zip(chapter_ids, tags.chapters, strict=True):
        frames.append(
            CHAP(
                element_id=chapter_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=0xFFFFFFFF,  # "unused": players seek by time, not byte offset
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=_encoding_for(chapter.title), text=[chapter.title])],
            )
        )
    return frames


def _tables_of_contents(chapter_ids: list[str], groups: list[str | None]) -> list[CTOC]:
    """One top-level ordered CTOC. Chapters with a group (a volume) are listed in a table of their
    own, titled with it, that the top level lists in its place; other chapters directly. A table
    holds at most 255 entries, so a longer list is split into sub-tables "Chapters 1-255"..."""
    if not chapter_ids:
        return []
    runs: list[tuple[str | None, list[str]]] = []  # consecutive chapters of one group
    for chapter_id, group in zip(chapter_ids, groups, strict=True):
        if runs and runs[-1][0] == group:
            runs[-1][1].append(chapter_id)
        else:
            runs.append((group, [chapter_id]))
    top: list[str] = []
    tables: list[CTOC] = []
    for number, (group, ids) in enumerate(runs, 1):
        if group is None:
            top += ids
        else:
            top.append(f"{_TOC_ID}v{number}")
            tables += _table(f"{_TOC_ID}v{number}", group, ids, top_level=False)
    if len(top) > MAX_TOC_ENTRIES:  # too many entries for one table: chapters in plain runs of 255
        return _table(_TOC_ID, None, chapter_ids, top_level=True)
    return [_ctoc(_TOC_ID, None, top, top_level=True), *tables]


def _table(element_id: str, title: str | None, ids: list[str], top_level: bool) -> list[CTOC]:
    """A table listing `ids`, or, past 255 of them, sub-tables of up to 255 each (which follow it)."""
    if len(ids) <= MAX_TOC_ENTRIES:
        return [_ctoc(element_id, title, ids, top_level)]
    chunks = [ids[i : i + MAX_TOC_ENTRIES] for i in range(0, len(ids), MAX_TOC_ENTRIES)]
    sub_ids = [
        f"{element_id}.{number}" if not top_level else f"{element_id}{number}" for number in range(1, len(chunks) + 1)
    ]
    tables = [_ctoc(element_id, title, sub_ids, top_level)]
    first = 1
    for sub_id, chunk in zip(sub_ids, chunks, strict=True):
        tables.append(_ctoc(sub_id, f"Chapters {first}-{first + len(chunk) - 1}", chunk, top_level=False))
        first += len(chunk)
    return tables


def _ctoc(element_id: str, title: str | None, children: list[str], top_level: bool) -> CTOC:
    flags = CTOCFlags.ORDERED | (CTOCFlags.TOP_LEVEL if top_level else 0)
    sub_frames = [TIT2(encoding=_encoding_for(title), text=[title])] if title else []
    return CTOC(element_id=element_id, flags=flags, child_element_ids=children, sub_frames=sub_frames)


def _sorted_chapters(chapters: Iterable[ChapterMark]) -> tuple[ChapterMark, ...]:
    ordered = tuple(sorted(chapters, key=lambda chapter: (chapter.start_ms, chapter.end_ms)))
    for before, after in itertools.pairwise(ordered):
        if after.start_ms < before.end_ms:
            raise ValueError(
                f"chapters overlap: {before.title!r} ends at {before.end_ms} ms"
                f" but {after.title!r} starts at {after.start_ms} ms"
            )
    return ordered


def _encoding_for(text: str) -> int:  # an Encoding constant
    """Latin-1 where it fits, else UTF-16 (v2.3 allows only these two; UTF-8 is v2.4-only)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return Encoding.UTF16
    return Encoding.LATIN1


def _check_is_file(path: Path, doing: str) -> None:
    if not path.exists():
        raise TagError(f"{doing} {path}: no such file; check the path")
    if not path.is_file():
        raise TagError(f"{doing} {path}: not a regular file; pass the MP3 file itself")


def _check_text(name: str, value: str) -> None:
    # ID3 separates multiple values with NUL, so a NUL would split the field in two.
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters: {value!r}")


def _text(frames: ID3Tags, frame_id: str) -> str:
    """The first value of a text frame in a tag or a CHAP's sub-frames, or "" if absent."""
    frame = frames.get(frame_id)
    return str(frame.text[0]) if frame is not None and frame.text else ""


def _parse_track(text: str) -> tuple[int, int]:
    match = _TRACK.fullmatch(text)
    if match is None:
        raise ValueError(f"track number {text!r} is not of the form n/N")
    return int(match["number"]), int(match["total"])


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
