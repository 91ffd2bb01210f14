"""The synthesize stage: speech-ready text + voice -> a WAV clip in the cache (run by :mod:`audiobook.produce`).

Clips live in ``cache_dir/clips/<key[:2]>/<key>.wav`` (mono, 16-bit, at the engine's rate:
eSpeak NG's 22.05 kHz, a Piper model's own), keyed by :func:`clip_key`. A cached file is reused
only if its header is the exact one this module writes (at its engine's rate) and its data length
matches the file size, so a truncated or foreign file is spoken again. Files are written to a
temporary name in the same folder and renamed into place, so a clip either exists completely or
not at all, even if a run is killed.

Missing clips are spoken in :mod:`audiobook.produce`'s worker processes (:mod:`audiobook.workers`):
eSpeak NG voices by the worker's own eSpeak helper process (:mod:`audiobook.zygote`), started once
in the pool initializer (:func:`start_worker`); other engines' in the worker itself, through
:func:`audiobook.engines.speak` (a Piper model is loaded once per worker). Workers write the WAV
files themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from audiobook import cache, engine, engines, workers, zygote
from audiobook.engine import Voice
from audiobook.engines import DEFAULT_OPTIONS, EngineOptions, Speech
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
    """sha256 (hex) over the clip format, the engine id, every voice field the engine uses and the text."""
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
    if voice.engine != "espeak":
        del fields["pitch"]  # only eSpeak NG sets a pitch: changing it re-speaks nothing else
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()


def clip_path(cache_dir: Path, key: str) -> Path:
    """Where the clip with this key lives in the cache."""
    return Path(cache_dir) / "clips" / key[:2] / f"{key}.wav"


# --- in the worker processes -------------------------------------------------------------------

_helper: zygote.SpeechProcess | None = None


def start_worker() -> None:
    """Pool initializer: start this worker's eSpeak helper process (:mod:`audiobook.zygote`) at once,
    so it loads while the worker does its own imports. Ctrl-C is left to the parent."""
    global _helper  # noqa: PLW0603
    workers.ignore_interrupts()
    _helper = zygote.SpeechProcess()
    workers.at_exit(_helper.close)  # the worker waits for its helper: no orphan left to be reaped by init


def start_helper() -> zygote.SpeechProcess:
    """In a worker: its eSpeak helper process, started now if it was not (a Ray worker starts it as its
    session opens, before its first clip)."""
    global _helper  # noqa: PLW0603
    if _helper is None:
        _helper = zygote.SpeechProcess()
    return _helper


def speak(text: str, voice: Voice, options: EngineOptions = DEFAULT_OPTIONS) -> Speech:
    """In a worker: one clip's speech (eSpeak NG through this worker's helper process, started on
    first use; other engines here)."""
    if voice.engine != "espeak":
        return engines.speak(options, voice, text)
    return Speech(start_helper().speak(text, voice), engine.SAMPLE_RATE_HZ)


def speak_into_cache(text: str, voice: Voice, path: Path, options: EngineOptions = DEFAULT_OPTIONS) -> Speech:
    """In a worker: speak one clip into the cache at `path` (see :func:`speak`); its speech."""
    speech = speak(text, voice, options)
    try:
        _write_wav(path, speech.pcm, speech.sample_rate_hz)
    except OSError as error:
        raise EngineError(
            f"cannot write clip {path}: {error.strerror or error}; free disk space or use another cache directory"
        ) from error
    return speech


def _write_wav(path: Path, pcm: bytes, sample_rate_hz: int) -> None:
    """Write atomically (see :func:`cache.write_file`): the exact header :func:`cached_clip` expects, then the PCM."""
    header = _WAV_HEADER.pack(
        b"RIFF", _WAV_HEADER.size - 8 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, sample_rate_hz, sample_rate_hz * 2, 2, 16,
        b"data", len(pcm),
    )
    cache.write_file(path, [header, pcm])


# --- cache checks ------------------------------------------------------------------------------


def cached_clip(path: Path, rate_hz: int = engine.SAMPLE_RATE_HZ) -> Clip | None:
    """The clip at ``path`` if it is a complete WAV as written by :func:`_write_wav` at `rate_hz` (its
    engine's rate), else None."""
    try:
        with path.open("rb") as file:
            header = file.read(_WAV_HEADER.size)
            size_bytes = os.fstat(file.fileno()).st_size
    except OSError:
        return None
    if len(header) != _WAV_HEADER.size:
        return None
    data_bytes = size_bytes - _WAV_HEADER.size
    expected = (b"RIFF", size_bytes - 8, b"WAVE", b"fmt ", 16, 1, 1, rate_hz, rate_hz * 2, 2, 16, b"data", data_bytes)
    if _WAV_HEADER.unpack(header) != expected or data_bytes % 2:
        return None
    return Clip(path=path, samples=data_bytes // 2, sample_rate_hz=rate_hz, cached=True)
