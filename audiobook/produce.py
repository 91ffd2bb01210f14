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
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from . import audio, engine, synthesize, workers
from .encode import Part, cached_part, part_key, part_path, write_part
from .engines import DEFAULT_OPTIONS, EngineIds, EngineOptions, Speech, engine_for, threads_per_worker
from .errors import AudiobookError, EngineError
from .loudness import DEFAULT_LOUDNESS_LUFS
from .synthesize import ClipRequest, clip_key, clip_path

_CHARS_PER_S_AT_175_WPM = 15  # roughly, for English: to estimate a clip's length before it is spoken
# CPU seconds to speak, level and encode one second of speech, by engine (measured on 2 cores: eSpeak NG
# about 6 ms with levelling and encoding, a Piper medium model about 115 ms): costliest clips go first,
# and the progress bar counts work, not clips, so its time left holds in a book that mixes engines.
_COST_PER_S = {"espeak": 0.006, "piper": 0.115}
_ENCODE_COST_PER_S = 0.005  # a clip already spoken: levelled and encoded only


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
    engine_ids: EngineIds | None = None,
) -> list[PartRequest]:
    """A request, keys made, for each (clip or None, pause after it); give `produce` the same bitrate and loudness."""
    engine_ids = engine_ids or EngineIds()
    result = []
    for clip, pause_ms in clips:
        c = clip_key(clip, engine_ids(clip.voice)) if clip else None
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
    engine_options: EngineOptions = DEFAULT_OPTIONS
    on_work: Callable[[float, float], None] | None = None
    parts: dict[str, Part] = field(default_factory=dict)
    spoken: set[str] = field(default_factory=set)  # clip keys synthesized by this run
    costs: dict[str, float] = field(default_factory=dict)  # estimated CPU seconds of each task
    work_done: float = 0.0

    def report_clip(self, key: str) -> None:
        for _ in range(self.clip_copies[key] if self.on_clip else 0):
            self.on_clip(key)  # type: ignore[misc]

    def report_work(self) -> None:
        if self.on_work:
            self.on_work(self.work_done, sum(self.costs.values()))

    def finish_part(self, key: str, part: Part) -> None:
        self.parts[key] = part
        for _ in range(self.part_copies[key] if self.on_part else 0):
            self.on_part(part)  # type: ignore[misc]

    def done(self, c: str, result: tuple[bool, dict[str, int]]) -> None:
        """A worker's task finished: its clip spoken (or read from the cache) and its parts written."""
        self.work_done += self.costs.get(c, 0.0)
        self.report_work()
        was_spoken, frames = result
        if was_spoken:
            self.spoken.add(c)
            self.report_clip(c)
        for p, count in frames.items():
            self.finish_part(p, Part(part_path(self.cache_dir, p), count, cached=False))


@dataclass(frozen=True)
class ClipTask:
    """One clip to make, as a worker gets it: speak it (or read it from the cache), encode its speech
    once, and write a part for each pause after it."""

    text: str
    voice: engine.Voice
    wav: Path  # where the clip is, or goes, in the cache
    speak: bool  # False: the clip is in the cache already, only encoded
    targets: tuple[tuple[str, Path, int], ...]  # (part key, its path in the cache, the pause after the clip)
    bitrate_kbps: int
    loudness_lufs: float
    engine_options: EngineOptions
    cost_s: float = 0.0  # estimated CPU seconds (see estimated_cost_s): a cluster groups clips into tasks by it


ClipDone = tuple[bool, dict[str, int]]  # whether the clip was spoken, and each part's frame count


class Batch(Protocol):
    def results(self) -> Generator[tuple[str, ClipDone], None, None]:
        """Each task's result as it finishes, its parts written into the cache; one-line AudiobookError
        if a clip cannot be made (parts finished before stay in the cache)."""
        ...


class Runner(Protocol):
    """Where clip tasks run: :class:`LocalPool` (this machine's cores) or a Ray cluster (:mod:`audiobook.cluster`)."""

    def threads_per_task(self, tasks: int) -> int:
        """Inference threads for each task of a neural voice, when the engine options leave it open."""
        ...

    def start(self, tasks: Mapping[str, ClipTask]) -> Batch:
        """Start the tasks (where the runner can, at once: they run while this process does other work)."""
        ...


@dataclass(frozen=True)
class LocalPool:
    """Worker processes on this machine, one per job (see :mod:`audiobook.workers`)."""

    jobs: int

    def __post_init__(self) -> None:
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise EngineError(f"jobs must be a whole number of at least 1, not {self.jobs!r}")

    def threads_per_task(self, tasks: int) -> int:
        return threads_per_worker(min(self.jobs, max(1, tasks)))

    def start(self, tasks: Mapping[str, ClipTask]) -> Batch:
        return _PoolBatch(self.jobs, dict(tasks))


@dataclass(frozen=True)
class _PoolBatch:
    jobs: int
    tasks: dict[str, ClipTask]

    def results(self) -> Generator[tuple[str, ClipDone], None, None]:
        died = AudiobookError(
            "a worker process died unexpectedly; clips finished so far are cached: run again to resume"
        )
        args = {key: (task,) for key, task in self.tasks.items()}
        yield from workers.results(args, _produce, self.jobs, initializer=synthesize.start_worker, died=died)


@dataclass
class Production:
    """Clips being made for a list of requests: :func:`start` it, then :meth:`finish` it."""

    requests: Sequence[PartRequest]
    run: _Run
    batch: Batch

    def finish(self) -> list[Produced]:
        """Wait for every clip (reporting each as it arrives): the part for every request, in request order."""
        with closing(self.batch.results()) as results:
            for key, result in results:
                self.run.done(key, result)
        return [Produced(self.run.parts[r.key], r.clip_key is not None and r.clip_key in self.run.spoken)
                for r in self.requests]


@dataclass(frozen=True)
class ProduceOptions:
    """How parts are made: where the cache is, the MP3 bitrate and loudness of the parts (as given to
    :func:`part_requests`), and the engines' options."""

    cache_dir: Path
    bitrate_kbps: int
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS
    engine_options: EngineOptions = DEFAULT_OPTIONS


@dataclass(frozen=True)
class Reports:
    """Who hears of progress. ``on_clip`` is called once per clip request as its clip is known to be there
    (cached, or spoken now, or not needed since its parts are cached); ``on_part`` once per request as its
    part is ready; ``on_work(done, total)`` with the work in estimated CPU seconds as clips finish (speaking
    costs far more with some engines than others: counting clips would make time-left estimates wrong)."""

    on_clip: Callable[[object], None] | None = None
    on_part: Callable[[Part], None] | None = None
    on_work: Callable[[float, float], None] | None = None


NO_REPORTS = Reports()


def start(
    requests: Sequence[PartRequest], options: ProduceOptions, runner: Runner, reports: Reports = NO_REPORTS
) -> Production:
    """Start making the parts for `requests` (see :func:`produce`) with `runner`; finish them with
    :meth:`Production.finish`. Cached parts, and parts of silence alone, are done (and reported) now."""
    clip_copies = Counter(r.clip_key for r in requests if r.clip_key is not None)
    part_copies = Counter(r.key for r in requests)
    run = _Run(options.cache_dir, options.bitrate_kbps, clip_copies, part_copies, reports.on_clip, reports.on_part,
               on_work=reports.on_work)
    needed = _needed_clips(requests, run)
    threads = options.engine_options.piper_threads or runner.threads_per_task(len(needed))
    run.engine_options = replace(options.engine_options, piper_threads=threads)
    for c in clip_copies:
        if c not in needed:
            run.report_clip(c)  # its parts are all cached: the clip is not needed
    tasks = _tasks(needed, run, options.loudness_lufs)
    run.report_work()
    return Production(requests, run, runner.start(tasks))


def produce(
    requests: Sequence[PartRequest],
    options: ProduceOptions,
    jobs: int = 1,
    reports: Reports = NO_REPORTS,
    runner: Runner | None = None,
) -> list[Produced]:
    """The encoded part for every request (made by :func:`part_requests` with the same bitrate and loudness),
    in request order, reusing the cache.

    Clips are made by `runner`, by default a :class:`LocalPool` of `jobs` processes, and progress goes to
    `reports`. Piper sessions get the runner's threads per task unless the engine options set them.
    Raises EngineError or AudioError (one line, naming the clip) if a clip cannot be spoken or
    written, or AudiobookError if a worker dies; clips and parts finished before that stay in the cache.
    """
    return start(requests, options, runner or LocalPool(jobs), reports).finish()


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


def _tasks(
    needed: dict[str, tuple[ClipRequest, dict[str, int]]], run: _Run, loudness_lufs: float
) -> dict[str, ClipTask]:
    """One worker task per needed clip, costliest first (no long clip left for last); a clip already in
    the cache (at its engine's rate) is reported as there and only encoded."""
    tasks: dict[str, ClipTask] = {}
    rates: dict[str, int] = {}  # each engine's (each Piper model's) rate, looked up once
    for c, (request, pauses) in needed.items():
        wav = clip_path(run.cache_dir, c)
        which = request.voice.voice_id.partition("#")[0]
        if which not in rates:
            rates[which] = engine_for(request.voice, run.engine_options).sample_rate_hz(request.voice)
        clip = synthesize.cached_clip(wav, rates[which])
        if clip is not None:
            run.report_clip(c)
            run.costs[c] = clip.samples / clip.sample_rate_hz * _ENCODE_COST_PER_S
        else:
            run.costs[c] = estimated_cost_s(request)
        targets = tuple((p, part_path(run.cache_dir, p), pause) for p, pause in pauses.items())
        tasks[c] = ClipTask(
            request.text, request.voice, wav, clip is None, targets, run.bitrate_kbps, loudness_lufs,
            run.engine_options, run.costs[c],
        )
    return {c: tasks[c] for c in sorted(tasks, key=lambda c: -run.costs[c])}


def estimated_cost_s(request: ClipRequest) -> float:
    """Roughly how many CPU seconds speaking, levelling and encoding a clip takes, before it is spoken."""
    length_s = len(request.text) / _CHARS_PER_S_AT_175_WPM * 175 / request.voice.rate_wpm
    return length_s * _COST_PER_S.get(request.voice.engine, _COST_PER_S["piper"])


# --- in the worker processes -------------------------------------------------------------------


def _produce(task: ClipTask) -> ClipDone:
    """Speak the clip into the cache (or read it from there), encode its speech once and write a part
    for each pause after it; (whether it was spoken, {part key: frames})."""
    given = None if task.speak else cached_speech(task.wav)
    speech = speech_frames(task.text, task.voice, given, task.bitrate_kbps, task.loudness_lufs, task.engine_options,
                           task.wav)
    return task.speak, write_parts(speech, task.targets, task.bitrate_kbps)


def cached_speech(wav: Path) -> Speech:
    """A clip in the cache: its PCM and rate."""
    with wave.open(str(wav), "rb") as file:
        return Speech(file.readframes(file.getnframes()), file.getframerate())


def speech_frames(
    text: str, voice: engine.Voice, given: Speech | None, bitrate_kbps: int, loudness_lufs: float,
    options: EngineOptions, wav: Path | None = None,
) -> bytes:
    """A clip's speech, levelled and encoded as MP3 frames (no pause after it): spoken now unless
    given, into the cache at `wav` if there is one. Errors name the clip (see :func:`clip_error`)."""
    try:
        if given is None and wav is not None:
            given = synthesize.speak_into_cache(text, voice, wav, options)
        elif given is None:
            given = synthesize.speak(text, voice, options)
        return audio.encode_speech(given.pcm, given.sample_rate_hz, bitrate_kbps, loudness_lufs)
    except AudiobookError as error:
        raise clip_error(error, text, voice) from None


def clip_error(error: AudiobookError, text: str, voice: engine.Voice) -> AudiobookError:
    """The same error, naming the clip it happened in."""
    return type(error)(f"{clip_name(text, voice)}: {error}")


def clip_name(text: str, voice: engine.Voice) -> str:
    """A clip in a message: its first words and its voice."""
    words = " ".join(text.split())
    shown = words if len(words) <= 40 else words[:37] + "..."
    return f"clip {shown!r} ({voice.voice_id})"


def write_parts(speech: bytes, targets: Sequence[tuple[str, Path, int]], bitrate_kbps: int) -> dict[str, int]:
    """Write a part for each (part key, path, pause after it) from the clip's speech frames: {part key: frames}.

    Local workers call it after encoding; a build on a cluster calls it here, as each clip's frames arrive."""
    frames = {}
    for key, path, pause_ms in targets:
        data = speech + audio.pause(pause_ms, bitrate_kbps, after_speech=bool(speech))
        frames[key] = write_part(path, data, bitrate_kbps)
    return frames
