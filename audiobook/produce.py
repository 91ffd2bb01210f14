"""Synthesize and encode in one pass: each missing part is spoken, levelled and encoded by one worker.

The stages are the same as :mod:`audiobook.synthesize` and :mod:`audiobook.encode` (the same
cache files, keys and bytes), but a build runs them as one task per clip in one pool: no barrier
between speaking the last clip and encoding the first, one pool to start instead of two, the PCM
handed from synthesis to encoding in memory, and longest clips first across both stages, so the
cores stay busy to the end.

A task is one distinct clip and every part made from it (the same words with different pauses
after them share their encoded speech; only the silent frames of the pause differ). A clip whose
parts are all cached is not needed at all, not even its WAV. Parts of silence alone are made here,
in this process: they are only silent frames.
"""

from __future__ import annotations

import wave
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import audio, engine, synthesize, workers
from .encode import Part, cached_part, part_key, part_path, write_part
from .errors import AudiobookError, EngineError
from .loudness import DEFAULT_LOUDNESS_LUFS
from .synthesize import ClipRequest, clip_key, clip_path

_CHARS_PER_S_AT_175_WPM = 15  # roughly, for English: to put the longest clips first before they are spoken


@dataclass(frozen=True)
class PartRequest:
    """One part to make: a clip (None: the pause alone) and the pause after it, with the keys of both in the cache."""

    clip: ClipRequest | None
    pause_ms: int
    clip_key: str | None
    key: str  # the part's own key: see encode.part_key


def part_requests(
    clips: Iterable[tuple[ClipRequest | None, int]],
    bitrate_kbps: int,
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS,
    engine_id: str | None = None,
) -> list[PartRequest]:
    """A request, keys made, for each (clip or None, pause after it); give `produce` the same bitrate and loudness."""
    engine_id = engine_id or engine.engine_id()
    result = []
    for clip, pause_ms in clips:
        c = clip_key(clip, engine_id) if clip else None
        result.append(PartRequest(clip, pause_ms, c, part_key(c, pause_ms, bitrate_kbps, loudness_lufs)))
    return result


@dataclass(frozen=True)
class Produced:
    """A request's part, and whether its clip was spoken by this run."""

    part: Part
    synthesized: bool


@dataclass
class _Run:
    """One produce() call's bookkeeping: the parts made so far, the clips spoken, and progress reports."""

    cache_dir: Path
    bitrate_kbps: int
    clip_copies: Counter[str]  # how many requests share each clip: each is reported
    part_copies: Counter[str]
    on_clip: Callable[[object], None] | None
    on_part: Callable[[Part], None] | None
    parts: dict[str, Part] = field(default_factory=dict)
    spoken: set[str] = field(default_factory=set)  # clip keys synthesized by this run

    def report_clip(self, key: str) -> None:
        for _ in range(self.clip_copies[key] if self.on_clip else 0):
            self.on_clip(key)  # type: ignore[misc]

    def finish_part(self, key: str, part: Part) -> None:
        self.parts[key] = part
        for _ in range(self.part_copies[key] if self.on_part else 0):
            self.on_part(part)  # type: ignore[misc]

    def done(self, c: str, result: tuple[bool, dict[str, int]]) -> None:
        """A worker's task finished: its clip spoken (or read from the cache) and its parts written."""
        was_spoken, frames = result
        if was_spoken:
            self.spoken.add(c)
            self.report_clip(c)
        for p, count in frames.items():
            self.finish_part(p, Part(part_path(self.cache_dir, p), count, cached=False))


def produce(
    requests: Sequence[PartRequest],
    cache_dir: Path,
    jobs: int,
    bitrate_kbps: int,
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS,
    on_clip: Callable[[object], None] | None = None,
    on_part: Callable[[Part], None] | None = None,
) -> list[Produced]:
    """The encoded part for every request (made by :func:`part_requests` with the same bitrate and loudness),
    in request order, reusing the cache.

    ``on_clip`` is called once per clip request as its clip is known to be there (cached, or spoken
    now, or not needed since its parts are cached); ``on_part`` once per request as its part is ready.
    Raises EngineError or AudioError (one line) if a clip cannot be spoken or written, or a worker
    dies; clips and parts finished before that stay in the cache.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise EngineError(f"jobs must be a whole number of at least 1, not {jobs!r}")
    clip_copies = Counter(r.clip_key for r in requests if r.clip_key is not None)
    run = _Run(cache_dir, bitrate_kbps, clip_copies, Counter(r.key for r in requests), on_clip, on_part)
    needed = _needed_clips(requests, run)
    for c in clip_copies:
        if c not in needed:
            run.report_clip(c)  # its parts are all cached: the clip is not needed
    tasks = _tasks(needed, run, loudness_lufs)
    died = AudiobookError("a worker process died unexpectedly; clips finished so far are cached: run again to resume")
    workers.run(tasks, _produce, jobs, run.done, initializer=synthesize.start_worker, died=died)
    return [Produced(run.parts[r.key], r.clip_key is not None and r.clip_key in run.spoken) for r in requests]


def _needed_clips(requests: Sequence[PartRequest], run: _Run) -> dict[str, tuple[ClipRequest, dict[str, int]]]:
    """Finish every part that is cached or is silence alone (only silent frames, made here); the clips
    the other parts need: {clip key: (its request, {part key: pause})}."""
    needed: dict[str, tuple[ClipRequest, dict[str, int]]] = {}
    for r in requests:
        request, pause_ms, c, p = r.clip, r.pause_ms, r.clip_key, r.key
        if p in run.parts or (c is not None and c in needed and p in needed[c][1]):
            continue  # the same part again
        path = part_path(run.cache_dir, p)
        cached = cached_part(path)
        if cached is not None:
            run.finish_part(p, cached)
        elif request is None or c is None:
            data = audio.pause(pause_ms, run.bitrate_kbps, after_speech=False)
            run.finish_part(p, Part(path, write_part(path, data, run.bitrate_kbps), False))
        else:
            needed.setdefault(c, (request, {}))[1][p] = pause_ms
    return needed


def _tasks(needed: dict[str, tuple[ClipRequest, dict[str, int]]], run: _Run, loudness_lufs: float) -> dict[str, tuple]:
    """One worker task per needed clip, longest first (no long clip left for last); a clip already in
    the cache is reported as there and only encoded."""
    tasks: dict[str, tuple] = {}
    lengths: dict[str, float] = {}
    for c, (request, pauses) in needed.items():
        wav = clip_path(run.cache_dir, c)
        clip = synthesize.cached_clip(wav)
        if clip is not None:
            run.report_clip(c)
            lengths[c] = clip.samples / clip.sample_rate_hz
        else:
            lengths[c] = len(request.text) / _CHARS_PER_S_AT_175_WPM * 175 / request.voice.rate_wpm
        targets = [(p, str(part_path(run.cache_dir, p)), pause) for p, pause in pauses.items()]
        tasks[c] = (request.text, request.voice, str(wav), clip is None, targets, run.bitrate_kbps, loudness_lufs)
    return {c: tasks[c] for c in sorted(tasks, key=lambda c: -lengths[c])}


# --- in the worker processes -------------------------------------------------------------------


def _produce(
    text: str, voice: engine.Voice, wav: str, speak: bool, targets: list[tuple[str, str, int]], bitrate_kbps: int,
    loudness_lufs: float,
) -> tuple[bool, dict[str, int]]:
    """Speak the clip into the cache (or read it from there), encode its speech once and write a part
    for each pause after it; (whether it was spoken, {part key: frames})."""
    if speak:
        pcm = synthesize.speak_into_cache(text, voice, Path(wav))
    else:
        with wave.open(wav, "rb") as file:
            pcm = file.readframes(file.getnframes())
    speech = audio.encode_speech(pcm, engine.SAMPLE_RATE_HZ, bitrate_kbps, loudness_lufs)
    frames = {}
    for key, path, pause_ms in targets:
        data = speech + audio.pause(pause_ms, bitrate_kbps, after_speech=bool(speech))
        frames[key] = write_part(Path(path), data, bitrate_kbps)
    return speak, frames
