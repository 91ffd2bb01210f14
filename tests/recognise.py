"""An offline speech recogniser (pocketsphinx and its bundled US English model) and word error rate.

Used by the Piper tests and by ``benchmarks/piper_speed.py`` to check that speech says its words:
a wrong phoneme mapping or a broken model gives gibberish, which the recogniser cannot read.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

RECOGNISER_RATE_HZ = 16_000


def available() -> str | None:
    """None if pocketsphinx can be used, else why not (a skip reason)."""
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return "pocketsphinx is not installed (bash setup.sh installs it): the recogniser check cannot run"
    return None


def transcribe_file(path: Path) -> str:
    """What the recogniser hears in an audio file (any format ffmpeg reads), as one utterance."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RECOGNISER_RATE_HZ), "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout
    return transcribe(pcm)


def transcribe_pcm(pcm: bytes, rate_hz: int) -> str:
    """What the recogniser hears in 16-bit mono PCM at `rate_hz`."""
    import numpy
    import soxr

    samples = numpy.frombuffer(pcm, dtype="<i2").astype(numpy.float32) / 32768
    resampled = soxr.resample(samples, rate_hz, RECOGNISER_RATE_HZ, quality="HQ")
    return transcribe(numpy.clip(numpy.round(resampled * 32767), -32768, 32767).astype("<i2").tobytes())


def transcribe(pcm_16khz: bytes) -> str:
    """The words heard in 16 kHz 16-bit mono PCM. Longer speech is cut at its pauses (pocketsphinx's
    voice activity detector) and each stretch decoded as an utterance: decoded whole, a chapter with
    paragraph pauses came out worse than its sentences one by one."""
    import io

    from pocketsphinx import Decoder, Segmenter, set_loglevel

    set_loglevel("FATAL")
    decoder = Decoder(samprate=RECOGNISER_RATE_HZ)
    heard = []
    for stretch in Segmenter(sample_rate=RECOGNISER_RATE_HZ).segment(io.BytesIO(pcm_16khz)):
        decoder.start_utt()
        decoder.process_raw(stretch.pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is not None:
            heard.append(decoder.hyp().hypstr)
    return " ".join(heard)


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes kept ("i'd"), punctuation dropped."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("\u2019", "'"))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / words of the reference (word-level edit distance)."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / max(1, len(ref))
