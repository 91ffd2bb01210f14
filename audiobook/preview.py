"""A few of one character's lines in their voice, as one small MP3: judge a voice in seconds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .audio import assemble
from .cast import Role, voice_of
from .config import Config
from .encode import HEADER_BYTES
from .engine import Voice
from .engines import DEFAULT_OPTIONS, EngineIds, EngineOptions, check_voice
from .errors import AudiobookError
from .loudness import DEFAULT_LOUDNESS_LUFS
from .plan import Plan, speakable
from .produce import ProduceOptions, part_requests, produce
from .segment import speech_text
from .synthesize import ClipRequest

PREVIEW_LINES = 3
PAUSE_MS = 600


@dataclass(frozen=True)
class Preview:
    """A preview written: whose voice, the lines it speaks, and the MP3."""

    name: str
    voice: Voice
    lines: tuple[str, ...]
    path: Path


def lines_of(plan: Plan, name: str, count: int = PREVIEW_LINES) -> tuple[Role, list[str]]:
    """The role called `name` (or an alias) and its first few lines in the book."""
    role = plan.casting.role_for(name)
    known = ", ".join(r.name for r in plan.casting.roles if r.lines) or "none"
    if role is plan.casting.narrator and name.lower() != "narrator":
        raise AudiobookError(f"no character called {name!r} speaks in this book: choose one of {known}")
    said = []
    for chapter in plan.chapters:
        story = chapter.script.story
        for line in chapter.script.lines:
            is_theirs = line.kind == "narration" if role is plan.casting.narrator else (
                line.kind == "dialogue" and line.speaker and plan.casting.role_for(line.speaker) == role
            )
            text = speech_text(story.text[line.start : line.end])
            if is_theirs and speakable(text):
                said.append(text)
    if not said:
        raise AudiobookError(f"no character called {name!r} speaks in this book: choose one of {known}")
    # their fullest lines among the first few, in story order: enough words to judge a voice
    early = said[: count * 5]
    fullest = set(sorted(range(len(early)), key=lambda i: -len(early[i].split()))[:count])
    return role, [text for i, text in enumerate(early) if i in fullest]


def voice_from_config(config: Config, name: str) -> Voice:
    """A character's voice from voices.toml, for a preview without a story: the voice a build gives them."""
    for entry in config.characters:
        if name.lower() in (n.lower() for n in (entry.name, *entry.aliases)) and entry.settings.voice:
            return voice_of(entry.settings)
    raise AudiobookError(
        f"{config.path or 'voices.toml'}: no character {name!r} with a voice: add [characters.{name}] or give a story"
    )


def make_preview(name: str, voice: Voice, lines: Sequence[str], out_path: Path, cache_dir: Path,
                 bitrate_kbps: int = 64, engine_options: EngineOptions = DEFAULT_OPTIONS,
                 voices: Sequence[Voice] | None = None, loudness_lufs: float = DEFAULT_LOUDNESS_LUFS) -> Preview:
    """Speak `lines` in `voice` (any engine's; or each in its own of `voices`) into `out_path` (an MP3),
    through the same cache as builds: a line a build spoke in that voice is not spoken again."""
    spoken_by = voices if voices is not None else [voice] * len(lines)
    for each in set(spoken_by):
        check_voice(each, engine_options)
    clips = [(ClipRequest(text, v), PAUSE_MS) for text, v in zip(lines, spoken_by, strict=True)]
    requests = part_requests(clips, bitrate_kbps, loudness_lufs, engine_ids=EngineIds(engine_options))
    produced = produce(requests, ProduceOptions(cache_dir, bitrate_kbps, loudness_lufs, engine_options))
    parts = [p.part for p in produced]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    try:
        assemble([p.path for p in parts], [p.frames for p in parts], partial, bitrate_kbps, HEADER_BYTES)
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    return Preview(name, voice, tuple(lines), out_path)
