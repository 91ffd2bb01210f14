"""Stitch and encode: each clip becomes its own run of CBR MP3 frames; chapters join frames.

A clip is trimmed of eSpeak's own edge silence, resampled to 44.1 kHz (soxr), given the pause
that follows it and encoded once by LAME (in-process, through lameenc). Independent CBR streams can be
joined frame by frame into one valid stream, so a chapter is assembled by copying bytes: a
rebuild after one character's recast re-encodes only that character's clips. Every frame holds
1152 samples, so times come from frame counts, exactly. Assembly streams part by part: linear in
the number of clips, flat in memory.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from . import loudness
from .errors import AudioError
from .loudness import DEFAULT_LOUDNESS_LUFS

if TYPE_CHECKING:
    from pydub import AudioSegment

# numpy, soxr, LAME and pydub are imported where they are used: a build with nothing to encode
# (every chapter unchanged) never loads them.

OUTPUT_RATE_HZ = 44_100
SAMPLES_PER_FRAME = 1152  # MPEG-1 Layer III
LAME_QUALITY = 5  # LAME's algorithm quality, 0 (best, slowest) to 9: its usual speed/quality balance
LAME_DELAY_MS = 25  # encoder + decoder delay (about 1105 samples) taken out of the pause
SILENCE_THRESHOLD_DBFS = -50.0
KEEP_EDGE_MS = 20  # of a clip's own leading/trailing silence, so no syllable is clipped
_BITRATES_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)  # MPEG-1 Layer III


@dataclass(frozen=True)
class Pauses:
    within_paragraph_ms: int = 300
    between_paragraphs_ms: int = 700
    between_sections_ms: int = 1600


@dataclass(frozen=True)
class Assembled:
    path: Path
    frames: int
    duration_ms: int
    starts_ms: tuple[int, ...]  # where each part starts


def check_bitrate(bitrate_kbps: int) -> None:
    if bitrate_kbps not in _BITRATES_KBPS:
        allowed = ", ".join(map(str, _BITRATES_KBPS))
        raise AudioError(f"--bitrate {bitrate_kbps} is not an MP3 bitrate: use one of {allowed}")


def frame_bytes(bitrate_kbps: int, padded: bool) -> int:
    return 144 * bitrate_kbps * 1000 // OUTPUT_RATE_HZ + int(padded)


def trimmed(audio: AudioSegment) -> AudioSegment:
    """A clip without eSpeak's own silence at its edges: pauses are ours to set."""
    from pydub.silence import detect_leading_silence

    if len(audio) == 0:
        return audio
    lead = detect_leading_silence(audio, SILENCE_THRESHOLD_DBFS)
    trail = detect_leading_silence(audio.reverse(), SILENCE_THRESHOLD_DBFS)
    start = max(0, lead - KEEP_EDGE_MS)
    end = min(len(audio), len(audio) - trail + KEEP_EDGE_MS)
    return audio[start:end] if end > start else audio[:0]


def encode_speech(
    pcm: bytes, sample_rate_hz: int, bitrate_kbps: int, loudness_lufs: float = DEFAULT_LOUDNESS_LUFS
) -> bytes:
    """Speech (16-bit mono PCM) trimmed of its edge silence, levelled, resampled to 44.1 kHz and
    encoded as CBR MP3 frames: no pause yet (see :func:`pause`)."""
    import lameenc
    import numpy
    import soxr
    from pydub import AudioSegment

    pcm = trimmed(AudioSegment(data=pcm, sample_width=2, frame_rate=sample_rate_hz, channels=1)).raw_data
    if not pcm:
        return b""
    # levelled at eSpeak's own rate (half the samples of 44.1 kHz: half the work), then resampled
    samples = numpy.frombuffer(pcm, dtype=numpy.int16).astype(numpy.float32) / 32768
    levelled = loudness.level(samples, sample_rate_hz, loudness_lufs).samples
    if sample_rate_hz != OUTPUT_RATE_HZ:
        levelled = soxr.resample(levelled, sample_rate_hz, OUTPUT_RATE_HZ, quality="HQ")
    pcm = numpy.clip(numpy.round(levelled * 32768), -32768, 32767).astype(numpy.int16).tobytes()
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(OUTPUT_RATE_HZ)
    encoder.set_out_sample_rate(OUTPUT_RATE_HZ)
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    return bytes(encoder.encode(pcm) + encoder.flush())


def pause(pause_ms: int, bitrate_kbps: int, after_speech: bool) -> bytes:
    """The pause after a clip's speech, as silent frames (the same bytes every time; LAME's own delay
    and padding at the end of the speech already count towards it). Without speech before it, at
    least one frame, so every part has a start."""
    frames = -(-OUTPUT_RATE_HZ * max(0, pause_ms - LAME_DELAY_MS) // (1000 * SAMPLES_PER_FRAME))
    if not after_speech and not frames:
        frames = 1
    return silent_frame(bitrate_kbps) * frames


def count_frames(data: bytes, bitrate_kbps: int) -> int:
    """Frames in an encoded part (CBR mono 44.1 kHz at `bitrate_kbps`); ValueError for a damaged,
    truncated or foreign one. One masked comparison per frame header: this runs for every part made."""
    index = _BITRATES_KBPS.index(bitrate_kbps) + 1
    expected = (0x7FF << 21) | (3 << 19) | (1 << 17) | (index << 12)  # MPEG-1, Layer III, the bitrate, 44.1 kHz
    unpadded = frame_bytes(bitrate_kbps, padded=False)
    pos = count = 0
    while pos < len(data):
        header = int.from_bytes(data[pos : pos + 4], "big")
        if header & _HEADER_MASK != expected or len(data) - pos < 4:
            raise ValueError(_not_a_frame(data, pos, bitrate_kbps))
        pos += unpadded + (header >> 9 & 1)
        count += 1
    if pos > len(data):
        raise ValueError(f"last frame cut short: {pos - len(data)} bytes missing")
    if count == 0:
        raise ValueError("no frames")
    return count


_HEADER_MASK = 0xFFFEFC00  # sync, version, layer, bitrate, sample rate: not the CRC, padding, mode or flag bits


def _not_a_frame(data: bytes, pos: int, bitrate_kbps: int) -> str:
    """What is wrong with the frame header at `pos`."""
    if len(data) - pos < 4:
        return f"{len(data) - pos} stray bytes at {pos}"
    header = int.from_bytes(data[pos : pos + 4], "big")
    if header >> 21 != 0x7FF or (header >> 19) & 3 != 3 or (header >> 17) & 3 != 1:
        return f"no MPEG-1 Layer III frame at byte {pos}"
    return f"frame at byte {pos} is not {bitrate_kbps} kbps at 44.1 kHz"


def silent_frame(bitrate_kbps: int) -> bytes:
    """A frame of digital silence: no bits for either granule, none borrowed from earlier frames."""
    return _empty_frame(bitrate_kbps, b"")


def _empty_frame(bitrate_kbps: int, body: bytes) -> bytes:
    size = frame_bytes(bitrate_kbps, padded=False)
    index = _BITRATES_KBPS.index(bitrate_kbps) + 1
    header = (0x7FF << 21) | (3 << 19) | (1 << 17) | (1 << 16) | (index << 12) | (3 << 6)  # MPEG-1 L3, 44.1k, mono
    side_info = bytes(17)  # mono: 17 bytes of side information, all zero: a silent frame
    return (header.to_bytes(4, "big") + side_info + body).ljust(size, b"\x00")


def info_frame(frames: int, audio_bytes: int, bitrate_kbps: int) -> bytes:
    """A LAME-style "Info" frame: tells players the stream is CBR, its frame and byte counts."""
    size = frame_bytes(bitrate_kbps, padded=False)
    flags = 0x3  # the frame and byte counts are present
    return _empty_frame(bitrate_kbps, b"Info" + struct.pack(">III", flags, frames, audio_bytes + size))


def starts_ms(frame_counts: Sequence[int]) -> tuple[tuple[int, ...], int]:
    """Where each of a run of parts starts, and the whole run's duration, from their frame counts."""
    starts = []
    frames = 0
    for count in frame_counts:
        starts.append(frames * SAMPLES_PER_FRAME * 1000 // OUTPUT_RATE_HZ)
        frames += count
    return tuple(starts), frames * SAMPLES_PER_FRAME * 1000 // OUTPUT_RATE_HZ


def assemble(
    parts: Sequence[Path],
    frame_counts: Sequence[int],
    out_path: Path,
    bitrate_kbps: int,
    skip_bytes: int | Sequence[int] = 0,
    header: bytes = b"",
) -> Assembled:
    """Write `header` (the tag), then join encoded parts (MP3 frames after `skip_bytes` of each part,
    one count for all or one per part) into one MP3 at `out_path`.

    Streams part by part: memory stays flat however long the chapter or book.
    """
    skips = [skip_bytes] * len(parts) if isinstance(skip_bytes, int) else list(skip_bytes)
    starts, duration_ms = starts_ms(frame_counts)
    try:
        with out_path.open("wb", buffering=0) as out:
            out.write(header)
            data_bytes = sum(p.stat().st_size - skip for p, skip in zip(parts, skips, strict=True))
            out.write(info_frame(sum(frame_counts), data_bytes, bitrate_kbps))
            for part, skip in zip(parts, skips, strict=True):
                with part.open("rb") as source:
                    _append(source, out, skip)
    except OSError as exc:
        out_path.unlink(missing_ok=True)
        raise AudioError(f"{out_path}: cannot write: {exc.strerror}: free disk space or choose another -o") from None
    return Assembled(out_path, sum(frame_counts), duration_ms, starts)


def _append(source: BinaryIO, out: BinaryIO, offset: int) -> None:
    """The rest of `source` from `offset` onto `out` (unbuffered): copied inside the kernel where it
    can be (copy_file_range; a long book's chapters and whole file are 0.8 GB), else through memory."""
    remaining = os.fstat(source.fileno()).st_size - offset
    try:
        while remaining > 0:
            copied = os.copy_file_range(source.fileno(), out.fileno(), remaining, offset)
            if copied == 0:
                break
            offset += copied
            remaining -= copied
        return
    except AttributeError:
        pass  # not Linux
    except OSError as error:
        if error.errno not in _NO_KERNEL_COPY:
            raise
    source.seek(offset)
    shutil.copyfileobj(source, out)


_NO_KERNEL_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}


def require_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise AudioError("ffmpeg is not installed: run `sudo apt-get install ffmpeg` (or `bash setup.sh`)")
    return path


@dataclass(frozen=True)
class Probe:
    codec: str
    sample_rate_hz: int
    channels: int
    bitrate_kbps: int
    duration_ms: int
    tags: dict[str, str]
    chapters: tuple[tuple[str, int, int], ...]  # title, start_ms, end_ms


def probe(path: Path) -> Probe:
    """What ffprobe reads in an audio file: a real reader's view, for checks and tests."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise AudioError("ffprobe is not installed: run `sudo apt-get install ffmpeg` (or `bash setup.sh`)")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", str(path)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise AudioError(f"{path}: ffprobe cannot read it: {result.stderr.strip().splitlines()[-1:] or ''}")
    info = json.loads(result.stdout)
    stream = info["streams"][0]
    fmt = info["format"]
    chapters = tuple(
        (c.get("tags", {}).get("title", ""), round(float(c["start_time"]) * 1000), round(float(c["end_time"]) * 1000))
        for c in info.get("chapters", [])
    )
    return Probe(
        codec=stream["codec_name"],
        sample_rate_hz=int(stream["sample_rate"]),
        channels=int(stream["channels"]),
        bitrate_kbps=round(int(stream.get("bit_rate") or fmt.get("bit_rate", 0)) / 1000),
        duration_ms=round(float(fmt["duration"]) * 1000),
        tags={k.lower(): v for k, v in fmt.get("tags", {}).items()},
        chapters=chapters,
    )
