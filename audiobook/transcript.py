"""Transcripts: a WebVTT file per chapter (one cue per spoken line, the speaker as a voice tag)
and the same words as plain text for the MP3's USLT (unsynchronised lyrics) frame."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_bytes_atomic

__all__ = ["Cue", "plain_text", "webvtt", "write_vtt"]


@dataclass(frozen=True)
class Cue:
    """One spoken line: who says it, what, and when (``end_ms`` exclusive)."""

    start_ms: int
    end_ms: int
    speaker: str
    text: str

    def __post_init__(self) -> None:
        if not 0 <= self.start_ms <= self.end_ms:
            raise ValueError(
                f"cue {self.text[:30]!r}: need 0 <= start_ms <= end_ms, got {self.start_ms}..{self.end_ms}"
            )


def _one_line(text: str) -> str:
    # A blank line ends a cue, so a cue's text is kept on one line.
    return re.sub(r"\s+", " ", text).strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timestamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _spoken(cues: Iterable[Cue]) -> list[Cue]:
    """Cues that have words and take time, in time order."""
    return sorted((c for c in cues if _one_line(c.text) and c.end_ms > c.start_ms), key=lambda c: c.start_ms)


def webvtt(cues: Sequence[Cue]) -> str:
    """The WebVTT document: numbered cues ``<v Speaker>text``, with &, < and > escaped."""
    blocks = ["WEBVTT\n"]
    for number, cue in enumerate(_spoken(cues), 1):
        speaker = _escape(_one_line(cue.speaker))
        text = _escape(_one_line(cue.text))
        voice = f"<v {speaker}>" if speaker else ""
        blocks.append(f"{number}\n{_timestamp(cue.start_ms)} --> {_timestamp(cue.end_ms)}\n{voice}{text}\n")
    return "\n".join(blocks)


def plain_text(cues: Sequence[Cue]) -> str:
    """One line per cue, ``Speaker: text``, for the USLT frame."""
    return "\n".join(
        f"{_one_line(c.speaker)}: {_one_line(c.text)}" if _one_line(c.speaker) else _one_line(c.text)
        for c in _spoken(cues)
    )


def write_vtt(path: Path, cues: Sequence[Cue]) -> Path:
    """Write the WebVTT transcript to ``path`` (UTF-8, atomically)."""
    write_bytes_atomic(Path(path), webvtt(cues).encode("utf-8"))
    return Path(path)
