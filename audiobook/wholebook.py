"""The whole book as one MP3 beside the chapter files, with a chapter mark per story.

Its audio is the chapter files' frames copied one after another behind a fresh "Info" frame
(every chapter is CBR mono 44.1 kHz at the same bitrate, so the joined frames are one valid
stream): nothing is decoded or encoded again, and the loudness of the chapters carries over.
It is tagged like a chapter file (ID3v2.3, cover, transcript), with one CHAP per story in time
order and an ordered table of contents: in a book of volumes, a table per volume under the top
one (and nested past 255 chapters, see tags.py).

It is named ``<Book Title>.mp3``, not ``00 - <Book Title>.mp3``: it is not a part of the
numbered sequence but the same book again in one piece, and a player that plays the folder in
name order would otherwise start with the whole book and then play every chapter a second
time. The "NN - " prefix stays what tells a chapter file. It is never in the podcast feed.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import audio
from .errors import AudioError
from .tags import ChapterMark, Tags, render_tags

__all__ = ["BookChapter", "WholeBook", "manifest_entry", "unchanged_whole_book", "whole_book_digest",
           "whole_book_path", "write_whole_book"]


@dataclass(frozen=True)
class BookChapter:
    """A finished chapter file, as the whole book needs it."""

    title: str
    path: Path
    digest: str  # of everything in the chapter file (build's manifest digest)
    transcript: str = ""  # plain text, for the whole book's USLT
    volume: str | None = None  # its volume, a level of the whole book's table of contents


@dataclass(frozen=True)
class WholeBook:
    path: Path
    duration_ms: int
    marks: tuple[ChapterMark, ...]
    digest: str
    written: bool  # False: the file from the last build was kept


def whole_book_path(book_dir: Path, file_stem: str, chapter_names: set[str]) -> Path:
    """``<stem>.mp3`` in the book folder, unless a chapter file already has that name."""
    name = f"{file_stem}.mp3"
    if name in chapter_names:
        name = f"{file_stem} (whole book).mp3"
    return book_dir / name


def whole_book_digest(chapters: Sequence[BookChapter], tags: Tags, bitrate_kbps: int) -> str:
    """sha256 over what the file holds: each chapter's own digest and title, and the book's tags."""
    cover = hashlib.sha256(tags.cover_jpeg or b"").hexdigest()
    described = repr(replace(tags, cover_jpeg=None, lyrics=None, chapters=()))
    listed = [[c.digest, c.title, *([c.volume] if c.volume else [])] for c in chapters]
    blob = json.dumps(listed + [described, cover, bitrate_kbps], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def _id3_size(head: bytes) -> int:
    if head[:3] != b"ID3":
        return 0
    return 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])


def chapter_audio(path: Path, bitrate_kbps: int) -> tuple[int, int]:
    """Where a chapter file's audio frames start (after its tag and "Info" frame), and how many there are.

    Both come from the file's first bytes: the tag's size, then the frame count in the Info frame.
    """
    try:
        with path.open("rb") as file:
            start = _id3_size(file.read(10))
            file.seek(start)
            info = file.read(audio.frame_bytes(bitrate_kbps, padded=False))
            size = file.seek(0, os.SEEK_END)
        if info[21:25] != b"Info":
            raise ValueError("no Info frame")
        flags, frames = struct.unpack(">II", info[25:33])
        start += len(info)
        if not flags & 1 or frames == 0 or start >= size:
            raise ValueError("no frame count")
        return start, frames
    except (OSError, ValueError, struct.error) as exc:
        raise AudioError(f"{path}: not a chapter file this build wrote ({exc}): delete it and build again") from None


def write_whole_book(chapters: Sequence[BookChapter], path: Path, tags: Tags, bitrate_kbps: int) -> WholeBook:
    """The chapter files' frames after one tag, streamed into `path` (under a temporary name, then renamed)."""
    spans = [chapter_audio(c.path, bitrate_kbps) for c in chapters]
    starts, duration_ms = audio.starts_ms([frames for _, frames in spans])
    ends = [*starts[1:], duration_ms]
    marks = tuple(ChapterMark(c.title, s, e, c.volume) for c, s, e in zip(chapters, starts, ends, strict=True))
    lyrics = "\n\n".join(f"{c.title}\n\n{c.transcript}" if c.transcript else c.title for c in chapters)
    tag = render_tags(replace(tags, chapters=marks, lyrics=lyrics))
    partial = path.with_name(f".{path.name}.partial")
    try:
        audio.assemble([c.path for c in chapters], [frames for _, frames in spans], partial, bitrate_kbps,
                       [start for start, _ in spans], header=tag)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return WholeBook(path, duration_ms, marks, whole_book_digest(chapters, tags, bitrate_kbps), written=True)


def unchanged_whole_book(path: Path, digest: str, entry: dict | None) -> WholeBook | None:
    """The whole-book file as the last build wrote it, if it is there and nothing in it changed."""
    if not entry or entry.get("digest") != digest:
        return None
    try:
        if path.stat().st_size != entry["bytes"]:
            return None
    except OSError:
        return None
    marks = tuple(ChapterMark(t, s, e) for t, s, e in entry["marks"])
    return WholeBook(path, entry["duration_ms"], marks, digest, written=False)


def manifest_entry(book: WholeBook) -> dict:
    return {
        "digest": book.digest, "bytes": book.path.stat().st_size, "duration_ms": book.duration_ms,
        "marks": [[m.title, m.start_ms, m.end_ms] for m in book.marks], "cues": [], "whole_book": True,
    }
