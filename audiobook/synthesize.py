"""The synthesize stage: speech-ready text + voice -> WAV clips in a cache, in parallel.

Clips live in ``cache_dir/clips/<key[:2]>/<key>.wav`` (mono, 16-bit, ``engine.SAMPLE_RATE_HZ``),
keyed by :func:`clip_key`. A cached file is reused only if its header is the exact one this
module writes and its data length matches the file size, so a truncated or foreign file is
spoken again. Files are written to a temporary name in the same folder and renamed into place,
so a clip either exists completely or not at all, even if a run is killed.

Missing clips are spoken by worker processes (:mod:`audiobook.workers`), each with its own eSpeak
helper process (:mod:`audiobook.zygote`) started once in the pool initializer. Workers write the
WAV files themselves and send back only the sample count.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audiobook import cache, engine, workers, zygote
from audiobook.engine import Voice
from audiobook.errors import EngineError

CLIP_FORMAT = "audiobook-clip-1"  # part of every key: change it when what a clip contains changes
# RIFF id+size, WAVE, "fmt " id+size, encoding, channels, rate, byte rate, block align, bits, "data" id+size
_WAV_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


@dataclass(frozen=True)
class ClipRequest:
    """One piece of speech to make."""

    text: str  # already speech-ready
    voice: Voice


@dataclass(frozen=True)
class Clip:
    """One spoken piece of speech, as a WAV file in the cache."""

    path: Path  # mono 16-bit PCM WAV
    samples: int
    sample_rate_hz: int
    cached: bool  # True if it was already in the cache (not synthesized this run)


def clip_key(request: ClipRequest, engine_id: str) -> str:
    """sha256 (hex) over the clip format, the engine id, every voice field and the text."""
    voice = request.voice
    fields = {
        "format": CLIP_FORMAT,
        "engine": engine_id,
        "voice_id": voice.voice_id,
        "rate_wpm": voice.rate_wpm,
        "pitch": voice.pitch,
        "volume": float(voice.volume),  # 1 and 1.0 sound the same
        "text": request.text,
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()


def clip_path(cache_dir: Path, key: str) -> Path:
    """Where the clip with this key lives in the cache."""
    return Path(cache_dir) / "clips" / key[:2] / f"{key}.wav"


def synthesize(
    requests: Sequence[ClipRequest],
    cache_dir: Path,
    jobs: int,
    on_clip: Callable[[Clip], None] | None = None,
) -> list[Clip]:
    """Make a clip for every request, reusing the cache, with up to ``jobs`` worker processes.

    Returns the clips in request order. Identical requests are spoken once and share a file.
    ``on_clip`` is called in this process once per request (a clip shared by identical requests
    is reported once for each): first for cached clips, then for new clips in the order they
    finish. Raises EngineError if a voice is unknown or a worker fails or dies; clips finished
    before that stay in the cache.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise EngineError(f"jobs must be a whole number of at least 1, not {jobs!r}")
    engine_id = engine.engine_id()
    keys = [clip_key(request, engine_id) for request in requests]
    unique = dict(zip(keys, requests))  # one request per key, in first-seen order
    copies = Counter(keys)
    clips: dict[str, Clip] = {}

    def finish(key: str, clip: Clip) -> None:
        clips[key] = clip
        if on_clip is not None:
            for _ in range(copies[key]):
                on_clip(clip)

    for key in unique:
        cached = cached_clip(clip_path(cache_dir, key))
        if cached is not None:
            finish(key, cached)
    missing = {key: request for key, request in unique.items() if key not in clips}
    if missing:
        _synthesize_missing(missing, Path(cache_dir), jobs, finish)
    return [clips[key] for key in keys]


def _synthesize_missing(
    missing: dict[str, ClipRequest], cache_dir: Path, jobs: int, finish: Callable[[str, Clip], None]
) -> None:
    longest_first = sorted(missing.items(), key=lambda item: -len(item[1].text))  # no long clip left for last
    tasks = {key: (request.text, request.voice, str(clip_path(cache_dir, key))) for key, request in longest_first}

    def done(key: str, result: tuple[int, int]) -> None:
        samples, sample_rate_hz = result
        finish(key, Clip(path=clip_path(cache_dir, key), samples=samples, sample_rate_hz=sample_rate_hz, cached=False))

    died = EngineError(
        "a speech worker process died unexpectedly; clips finished so far are cached: run again to resume"
    )
    workers.run(tasks, _synthesize_clip, jobs, done, initializer=start_worker, died=died)


# --- in the worker processes -------------------------------------------------------------------

_speaker: zygote.Speaker | None = None


def start_worker() -> None:
    """Pool initializer: start this worker's eSpeak helper process (:mod:`audiobook.zygote`) at once,
    so it loads while the worker does its own imports. Ctrl-C is left to the parent."""
    global _speaker  # noqa: PLW0603
    workers.ignore_interrupts()
    _speaker = zygote.Speaker()
    workers.at_exit(_speaker.close)  # the worker waits for its helper: no orphan left to be reaped by init


def _synthesize_clip(text: str, voice: Voice, path: str) -> tuple[int, int]:
    """Speak one clip into the cache; return (samples, sample_rate_hz)."""
    pcm = speak_into_cache(text, voice, Path(path))
    return len(pcm) // 2, engine.SAMPLE_RATE_HZ


def speak_into_cache(text: str, voice: Voice, path: Path) -> bytes:
    """In a worker: speak one clip (through this worker's helper process) into the cache at `path`; its PCM."""
    global _speaker  # noqa: PLW0603
    if _speaker is None:
        _speaker = zygote.Speaker()
    pcm = _speaker.speak(text, voice)
    try:
        _write_wav(path, pcm, engine.SAMPLE_RATE_HZ)
    except OSError as error:
        raise EngineError(
            f"cannot write clip {path}: {error.strerror or error}; free disk space or use another cache directory"
        ) from error
    return pcm


def _write_wav(path: Path, pcm: bytes, sample_rate_hz: int) -> None:
    """Write atomically (see :func:`cache.write_file`): the exact header :func:`cached_clip` expects, then the PCM."""
    header = _WAV_HEADER.pack(
        b"RIFF", _WAV_HEADER.size - 8 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, sample_rate_hz, sample_rate_hz * 2, 2, 16,
        b"data", len(pcm),
    )
    cache.write_file(path, [header, pcm])


# --- cache checks ------------------------------------------------------------------------------


def cached_clip(path: Path) -> Clip | None:
    """The clip at ``path`` if it is a complete WAV as written by :func:`_write_wav`, else None."""
    try:
        with path.open("rb") as file:
            header = file.read(_WAV_HEADER.size)
            size_bytes = os.fstat(file.fileno()).st_size
    except OSError:
        return None
    if len(header) != _WAV_HEADER.size:
        return None
    data_bytes = size_bytes - _WAV_HEADER.size
    rate_hz = engine.SAMPLE_RATE_HZ
    expected = (b"RIFF", size_bytes - 8, b"WAVE", b"fmt ", 16, 1, 1, rate_hz, rate_hz * 2, 2, 16, b"data", data_bytes)
    if _WAV_HEADER.unpack(header) != expected or data_bytes % 2:
        return None
    return Clip(path=path, samples=data_bytes // 2, sample_rate_hz=rate_hz, cached=True)
