"""Scripts as JSON: the format `score_attribution.py` reads, segments tiling the whole text."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..book import EPUB_SUFFIXES
from ..load import read_text_replacing
from .script import Script, book_characters

CHAPTER_BREAK = "\n\n"  # between chapters with no common file (an EPUB's): their texts are joined so


def script_json(script: Script, file_name: str) -> dict[str, Any]:
    """One story's script as {"file", "text_sha256", "narrator", "characters", "segments"}."""
    return book_json([script], file_name, script.story.text)


def book_json(
    scripts: Sequence[Script], file_name: str, text: str | None = None, genders: Mapping[str, str | None] = {}
) -> dict[str, Any]:
    """The scripts of the chapters read from one file as one document, offsets into `text`, the
    file as read (a chapter's `Story.offset` is where its text starts in it); gaps between
    chapters (a Gutenberg header, a chapter heading the splitter kept apart) become narration.
    With `text` None, offsets are into the chapters' texts joined by `CHAPTER_BREAK`. A character
    in `genders` (the gender of the voice cast for it) is written with that gender, not the one
    the attribution found."""
    if text is None:
        starts, pos = [], 0
        for script in scripts:
            starts.append(pos)
            pos += len(script.story.text) + len(CHAPTER_BREAK)
        text = CHAPTER_BREAK.join(script.story.text for script in scripts)
    else:
        starts = [script.story.offset for script in scripts]
    segments: list[dict[str, Any]] = []
    pos = 0

    def narration(start: int, end: int) -> None:
        if end <= start:
            return
        if segments and segments[-1]["kind"] == "narration":
            segments[-1]["end"] = end  # whitespace between runs joins the narration before it
        else:
            segments.append({"start": start, "end": end, "kind": "narration", "speaker": None})

    for script, base in zip(scripts, starts, strict=True):
        for line in script.lines:
            narration(pos, base + line.start)
            if line.kind == "narration":
                narration(base + line.start, base + line.end)
            else:
                segments.append({"start": base + line.start, "end": base + line.end, "kind": "dialogue",
                                 "speaker": line.speaker, "rule": line.rule, "confidence": round(line.confidence, 2)})
            pos = base + line.end
    narration(pos, len(text))
    return {
        "file": file_name,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "narrator": scripts[0].narrator if scripts else None,
        "characters": [
            {"name": c.name, "aliases": list(c.aliases), "gender": genders.get(c.name, c.gender), "lines": c.lines}
            for c in book_characters(scripts)
        ],
        "segments": segments,
    }


def files_json(
    scripts: Sequence[Script], genders: Mapping[str, str | None] = {}
) -> list[tuple[Path, dict[str, Any]]]:
    """A book's scripts as one document per source file, in order: a text file split into
    chapters gives one document with offsets into the file as read; an EPUB's chapters, one
    document over their texts joined. `genders`: as for `book_json`."""
    by_file: dict[Path, list[Script]] = {}
    for script in scripts:
        by_file.setdefault(script.story.path, []).append(script)
    out = []
    for path, chapters in by_file.items():
        text = None if path.suffix.lower() in EPUB_SUFFIXES else read_text_replacing(path)[0]
        out.append((path, book_json(chapters, path.name, text, genders)))
    return out
