"""Encoded parts: every clip, with the pause after it, as cached MP3 frames (made by :mod:`audiobook.produce`).

Parts live in ``cache_dir/mp3/<key[:2]>/<key>.mp3``, keyed by the clip's own key (text, voice,
engine), the pause, the MP3 settings and the loudness target and method: whatever changes the
sound changes the key. Each starts with a 20-byte header (magic, frame count, data length,
CRC-32 of the data) before its MP3 frames; a cached part is used only if header, length and
checksum agree, so a truncated, damaged or foreign file is encoded again. (The checksum is
checked in microseconds; walking the frames of every part of a chapter took a recast 0.2 s.)
Files are written under a temporary name and renamed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import audio, cache, loudness
from .errors import AudioError

PART_FORMAT = "audiobook-mp3-part-8"  # change it when what a part contains changes


@dataclass(frozen=True)
class Part:
    """A clip and the pause after it as encoded MP3 frames in the cache, ready to be joined."""

    path: Path
    frames: int
    cached: bool


@functools.cache
def _encoder_id() -> str:
    """The encoder and resampler versions: part of every key (looked up once, it is slow)."""
    version = importlib.metadata.version
    return f"lameenc {version('lameenc')} q{audio.LAME_QUALITY}; soxr {version('soxr')} HQ"


def part_key(
    clip_key: str | None, pause_ms: int, bitrate_kbps: int, loudness_lufs: float = loudness.DEFAULT_LOUDNESS_LUFS
) -> str:
    """sha256 over everything that shapes a part's bytes: the clip's own key, the pause, MP3 and loudness settings."""
    fields = {
        "format": PART_FORMAT,
        "encoder": _encoder_id(),
        "trim": [audio.SILENCE_THRESHOLD_DBFS, audio.KEEP_EDGE_MS, audio.LAME_DELAY_MS],
        "clip": clip_key,
        "pause_ms": pause_ms,
        "bitrate_kbps": bitrate_kbps,
        "loudness": [float(loudness_lufs), loudness.PEAK_LIMIT_DBTP, loudness.CODEC_HEADROOM_DB, loudness.MAX_GAIN_DB,
                     loudness.METHOD],
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def part_path(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "mp3" / key[:2] / f"{key}.mp3"


_HEADER = struct.Struct(">8sIII")  # magic, frames, bytes of MP3 data that follow, their CRC-32
_MAGIC = b"ABPART2\x00"
HEADER_BYTES = _HEADER.size


def cached_part(path: Path) -> Part | None:
    """The part at `path` if its header, its length and its checksum all agree, else None.

    The header matters: a file cut on a frame boundary would still walk as valid frames.
    """
    try:
        data = path.read_bytes()
        magic, frames, size, checksum = _HEADER.unpack_from(data)
        if magic != _MAGIC or size != len(data) - HEADER_BYTES or zlib.crc32(data[HEADER_BYTES:]) != checksum:
            return None
    except (OSError, struct.error):
        return None
    return Part(path, frames, cached=True)


def write_part(target: Path, data: bytes, bitrate_kbps: int) -> int:
    """Write a part's frames into the cache (a temporary file, then renamed); return its frame count."""
    frames = audio.count_frames(data, bitrate_kbps)
    try:
        cache.write_file(target, [_HEADER.pack(_MAGIC, frames, len(data), zlib.crc32(data)), data])
    except OSError as exc:
        raise AudioError(
            f"cannot write {target}: {exc.strerror or exc}; free disk space or use another --cache"
        ) from None
    return frames
