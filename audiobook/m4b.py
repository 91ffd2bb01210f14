"""The whole book as an M4B for audiobook apps: AAC, a chapter per story, the cover, by ffmpeg.

Made from the whole-book MP3 (so it has the same loudness and chapter times) with an ffmetadata
file for the tags and chapters and the cover as an attached picture. ffmpeg writes a temporary
name that is renamed when complete. Like the whole-book MP3, it is skipped when nothing in it
changed, and it is never put in the podcast feed (podcast apps get the chapter MP3s).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .audio import require_ffmpeg
from .errors import AudioError
from .tags import ChapterMark, read_tags
from .wholebook import WholeBook

__all__ = ["M4b", "ffmetadata", "m4b_manifest_entry", "write_m4b_if_changed"]

AAC_ENCODER = "aac"  # ffmpeg's own, always there (libfdk_aac rarely is)


@dataclass(frozen=True)
class M4b:
    path: Path
    digest: str
    written: bool  # False: the file from the last build was kept


def _escape(value: str) -> str:
    """ffmetadata's escaping: backslash before = ; # \\ and newlines."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def ffmetadata(title: str, author: str, marks: tuple[ChapterMark, ...]) -> str:
    """An ffmetadata file: the book's tags and a chapter per mark, times in milliseconds."""
    lines = [";FFMETADATA1", f"title={_escape(title)}", f"album={_escape(title)}", f"artist={_escape(author)}",
             "genre=Audiobook", "media_type=2"]  # 2: "Audiobook" to Apple's players (the stik atom)
    for mark in marks:
        lines += [
            "",
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={mark.start_ms}",
            f"END={mark.end_ms}",
            f"title={_escape(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


def _digest(whole: WholeBook, bitrate_kbps: int) -> str:
    return hashlib.sha256(json.dumps([whole.digest, AAC_ENCODER, bitrate_kbps]).encode()).hexdigest()


def write_m4b(whole: WholeBook, path: Path, cover_jpeg: bytes, bitrate_kbps: int) -> None:
    """Encode the whole-book MP3 at `whole.path` as AAC into `path`, with its chapters and cover."""
    ffmpeg = require_ffmpeg()
    tags = read_tags(whole.path)
    partial = path.with_name(f".{path.name}.partial")
    with tempfile.TemporaryDirectory(prefix="audiobook-m4b-") as work:
        metadata = Path(work) / "metadata.txt"
        metadata.write_text(ffmetadata(tags.album, tags.artist, whole.marks), encoding="utf-8")
        cover = Path(work) / "cover.jpg"
        cover.write_bytes(cover_jpeg)
        command = [
            ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(whole.path), "-f", "ffmetadata", "-i", str(metadata),
            "-i", str(cover), "-map", "0:a", "-map", "2:v", "-map_metadata", "1", "-map_chapters", "1",
            "-c:a", AAC_ENCODER, "-b:a", f"{bitrate_kbps}k", "-c:v", "copy", "-disposition:v:0", "attached_pic",
            "-movflags", "+faststart", "-f", "mp4", str(partial),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no message"])[-1]
                raise AudioError(
                    f"{path}: ffmpeg could not write the M4B ({last}): check ffmpeg works, or leave out --m4b"
                )
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


def write_m4b_if_changed(whole: WholeBook, book_dir: Path, cover_jpeg: bytes, bitrate_kbps: int, manifest: dict) -> M4b:
    """``<Book Title>.m4b`` beside the whole-book MP3, rewritten only when the book (or the AAC settings) changed."""
    path = whole.path.with_suffix(".m4b")
    digest = _digest(whole, bitrate_kbps)
    entry = manifest.get(path.name) or {}
    try:
        if entry.get("digest") == digest and path.stat().st_size == entry.get("bytes"):
            return M4b(path, digest, written=False)
    except OSError:
        pass
    write_m4b(whole, path, cover_jpeg, bitrate_kbps)
    return M4b(path, digest, written=True)


def m4b_manifest_entry(m4b: M4b) -> dict:
    return {"digest": m4b.digest, "bytes": m4b.path.stat().st_size, "m4b": True}
