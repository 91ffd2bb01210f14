"""Stitch and encode: clips joined with natural pauses, streamed into one ffmpeg MP3 encoder.

Clips are read one at a time and written to ffmpeg's stdin, so the work is linear in the
number of clips and memory stays flat however long the chapter is. Times are counted in
samples of the clips' own rate, so chapter marks land exactly where each piece starts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from .errors import AudioError

OUTPUT_RATE_HZ = 44_100
SILENCE_THRESHOLD_DBFS = -50.0
KEEP_EDGE_MS = 20  # of a clip's own leading/trailing silence, so no syllable is clipped


@dataclass(frozen=True)
class Pauses:
    within_paragraph_ms: int = 300
    between_paragraphs_ms: int = 700
    between_sections_ms: int = 1600


@dataclass(frozen=True)
class Piece:
    clip: Path | None  # a mono 16-bit WAV; None for a piece that is only a pause
    pause_after_ms: int


@dataclass(frozen=True)
class Encoded:
    path: Path
    duration_ms: int
    starts_ms: tuple[int, ...]  # where each piece starts


def require_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise AudioError("ffmpeg is not installed: run `sudo apt-get install ffmpeg` (or `bash setup.sh`)")
    return path


def _trimmed(clip: Path) -> AudioSegment:
    """A clip without eSpeak's own silence at its edges: pauses are ours to set."""
    audio = AudioSegment.from_wav(clip)
    if len(audio) == 0:
        return audio
    lead = detect_leading_silence(audio, SILENCE_THRESHOLD_DBFS)
    trail = detect_leading_silence(audio.reverse(), SILENCE_THRESHOLD_DBFS)
    start = max(0, lead - KEEP_EDGE_MS)
    end = min(len(audio), len(audio) - trail + KEEP_EDGE_MS)
    return audio[start:end] if end > start else audio[:0]


def encode_mp3(
    pieces: Sequence[Piece],
    out_path: Path,
    sample_rate_hz: int,
    bitrate_kbps: int = 64,
    on_piece: Callable[[int], None] | None = None,
) -> Encoded:
    """Encode the pieces in order as a CBR mono MP3 at 44.1 kHz; write `out_path` only."""
    ffmpeg = require_ffmpeg()
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", "pipe:0",
        "-ar", str(OUTPUT_RATE_HZ), "-ac", "1", "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k",
        "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(out_path),
    ]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    samples = 0
    starts: list[int] = []
    try:
        for index, piece in enumerate(pieces):
            starts.append(samples * 1000 // sample_rate_hz)
            if piece.clip is not None:
                audio = _trimmed(piece.clip)
                if audio.frame_rate != sample_rate_hz or audio.channels != 1 or audio.sample_width != 2:
                    audio = audio.set_frame_rate(sample_rate_hz).set_channels(1).set_sample_width(2)
                data = audio.raw_data
                process.stdin.write(data)
                samples += len(data) // 2
            pause = sample_rate_hz * piece.pause_after_ms // 1000
            process.stdin.write(b"\x00\x00" * pause)
            samples += pause
            if on_piece:
                on_piece(index)
        process.stdin.close()
    except BrokenPipeError:
        pass
    error = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
    if process.wait() != 0:
        out_path.unlink(missing_ok=True)
        last = error.splitlines()[-1] if error else f"exit code {process.returncode}"
        raise AudioError(f"{out_path}: ffmpeg could not encode: {last}")
    return Encoded(out_path, samples * 1000 // sample_rate_hz, tuple(starts))


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
    """What ffprobe reads in an audio file: a real reader's view, for the summary and tests."""
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
