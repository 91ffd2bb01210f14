"""Loudness: ITU-R BS.1770-4 measurement and per-clip normalisation, with a true-peak limit.

Chapters are joined from clips encoded one by one, so loudness is set per clip, before
encoding: each clip is measured (K-weighted, gated), brought to the target and kept under the
true-peak ceiling. Every voice then plays equally loud, and since the pauses between clips are
digital silence (below the -70 LUFS absolute gate) a chapter's integrated loudness lands on the
target too.

K-weighting is the standard's two biquads (a high shelf and a high pass), with coefficients
computed for any sample rate the way libebur128 does, applied in the frequency domain (numpy's
FFT, overlap-save in blocks of 32,768 samples). The limiter's sliding minimum and mean run in linear time in numpy
(no scipy: importing it cost each worker process a second).

A clip is measured as it will sit in the chapter: between silences (400 ms each side), so the
gating blocks that straddle its edges count as they will in the file's own measurement, and a
clip shorter than one 400 ms block ("Yes.") is measured at all. Measured bare, every clip would
land on the target but the chapter about 1 LU under it. (For a signal shorter than one block,
:func:`integrated_lufs` takes the mean square of all of it as the one block.) A clip below the
absolute gate (silence) is left as it is, and no clip is raised more than 40 dB.

True peak is the peak of the signal oversampled 4x (soxr), as BS.1770 annex 2 describes. Where
the gain would push it over the ceiling, a limiter takes the excess off the peaks only: the gain
is the minimum needed in a 5 ms window around each sample, smoothed by a 5 ms moving average
(which can only lower it further), so the ceiling holds without clicks; what the gain's own
movement adds to an inter-sample peak (a few hundredths of a dB) is taken off the whole clip.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AudioError

if TYPE_CHECKING:
    import numpy

# numpy and soxr are imported in the functions that use them: a build with nothing to level never
# loads them (the constants here are part of every cache key).

METHOD = "bs1770-4 k-weighted, gated 400 ms/-70/-10, between 400 ms of silence; 4x true peak near peaks, 5 ms limiter with 0.1 dB margin, 4 passes, re-measured by gain"
DEFAULT_LOUDNESS_LUFS = -19.0  # podcast target for mono (AES TD1008, Apple's -16 stereo)
PEAK_LIMIT_DBTP = -1.5  # true peak of the finished file at most this
CODEC_HEADROOM_DB = 1.0  # MP3 encoding raises true peaks a little: the PCM is limited this much lower
MAX_GAIN_DB = 40.0  # a clip is never raised more than this (a whisper stays a whisper, not noise)
LOUDNESS_RANGE_LUFS = (-40.0, -13.0)  # what voices.toml and --loudness accept: louder only squashes speech
CONTEXT_SILENCE_S = 0.4  # a clip is measured between this much silence each side, as in a chapter

_BLOCK_S = 0.4
_STEP_S = 0.1
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_OVERSAMPLE = 4
_LIMITER_WINDOW_S = 0.005
_INTERSAMPLE_MARGIN_DB = 6.0  # how far over its samples a signal may peak between them
_PEAK_CONTEXT = 256  # samples of context around a stretch that is oversampled (the resampler's reach)
_LIMITER_PASSES = 4  # at most, for a target so loud that the limiter must work hard
_LIMITER_MARGIN = 10 ** (-0.1 / 20)  # 0.1 dB under the ceiling where the limiter acts


def check_loudness(loudness_lufs: float) -> None:
    low, high = LOUDNESS_RANGE_LUFS
    if not low <= loudness_lufs <= high:
        raise AudioError(f"--loudness {loudness_lufs:g} is out of range: use {low:g} to {high:g} LUFS (-19 is the podcast norm)")


@dataclass(frozen=True)
class Normalised:
    samples: numpy.ndarray  # float32, -1..1
    loudness_lufs: float  # as measured before: -inf for silence
    gain_db: float  # applied before the limiter
    limited_db: float  # most the limiter took off a peak (0: it did nothing)


def _k_filters(rate_hz: int) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """The K-weighting biquads for `rate_hz` (libebur128's derivation from the 48 kHz design)."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate_hz)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0)
    shelf_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate_hz)
    a0 = 1 + k / q + k * k
    highpass_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    return [(shelf, shelf_a), ((1.0, -2.0, 1.0), highpass_a)]


@functools.lru_cache(maxsize=4)
def _k_response(rate_hz: int, n_fft: int) -> numpy.ndarray:
    """The K-weighting filters' frequency response at the bins of an `n_fft`-point real FFT."""
    import numpy

    z = numpy.exp(-1j * numpy.pi * numpy.arange(n_fft // 2 + 1) / (n_fft // 2))  # z^-1 on the unit circle
    response = numpy.ones(n_fft // 2 + 1, dtype=complex)
    for b, a in _k_filters(rate_hz):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return response


_BLOCK_FFT = 1 << 15  # overlap-save block: the filters' tail is under 200 ms (4,410 samples at 22.05 kHz)


def k_weighted(samples: numpy.ndarray, rate_hz: int) -> numpy.ndarray:
    """The signal through the K-weighting filters (zero initial state), as float64.

    Filtered in the frequency domain by overlap-save: blocks of a fixed FFT size overlapping by the
    filters' tail (under 200 ms to fall below 1e-20), which is the same linear filtering as running
    the biquads sample by sample. One response for every clip, no padding to a power of two, and
    blocks small enough to stay in the processor's cache.
    """
    import numpy

    tail = rate_hz // 5
    n_fft = max(_BLOCK_FFT, 1 << math.ceil(math.log2(2 * tail)))
    hop = n_fft - tail
    blocks = -(-len(samples) // hop)
    padded = numpy.zeros(tail + blocks * hop + tail, dtype=numpy.float64)  # history of zeros before the first block
    padded[tail : tail + len(samples)] = samples
    frames = numpy.lib.stride_tricks.as_strided(padded, (blocks, n_fft), (hop * 8, 8), writeable=False)
    filtered = numpy.fft.irfft(numpy.fft.rfft(frames, axis=1) * _k_response(rate_hz, n_fft), n_fft, axis=1)
    return filtered[:, tail:].reshape(-1)[: len(samples)]


def _lufs(mean_square: numpy.ndarray | float) -> numpy.ndarray | float:
    import numpy

    with numpy.errstate(divide="ignore"):
        return -0.691 + 10 * numpy.log10(mean_square)


def integrated_lufs(samples: numpy.ndarray, rate_hz: int) -> float:
    """Integrated loudness of a mono signal in LUFS (-inf if it is all below the absolute gate)."""
    if len(samples) == 0:
        return -math.inf
    return _gated_lufs(k_weighted(samples, rate_hz) ** 2, rate_hz)


def _gated_lufs(weighted_power: numpy.ndarray, rate_hz: int) -> float:
    """BS.1770 gating over the K-weighted signal's per-sample power."""
    import numpy

    block, step = round(_BLOCK_S * rate_hz), round(_STEP_S * rate_hz)
    if len(weighted_power) < block:
        powers = numpy.array([numpy.mean(weighted_power)])  # shorter than a block: one block of its own
    else:
        cumulative = numpy.concatenate(([0.0], numpy.cumsum(weighted_power)))
        starts = numpy.arange(0, len(weighted_power) - block + 1, step)
        powers = (cumulative[starts + block] - cumulative[starts]) / block
    powers = powers[_lufs(powers) > _ABSOLUTE_GATE_LUFS]
    if len(powers) == 0:
        return -math.inf
    relative_gate = _lufs(numpy.mean(powers)) + _RELATIVE_GATE_LU
    gated = powers[_lufs(powers) > relative_gate]
    return float(_lufs(numpy.mean(gated)))


def _oversampling(rate_hz: int) -> int:
    """4x at 44.1/48 kHz as BS.1770 asks, i.e. at least 176.4 kHz: 8x for eSpeak's 22.05 kHz."""
    return max(_OVERSAMPLE, -(-4 * 44_100 // rate_hz))


def true_peak(samples: numpy.ndarray, rate_hz: int) -> numpy.ndarray:
    """|signal| oversampled (4x at 44.1 kHz), folded back to one value per input sample (the largest)."""
    import numpy
    import soxr

    if len(samples) == 0:
        return numpy.zeros(0)
    factor = _oversampling(rate_hz)
    upsampled = numpy.abs(soxr.resample(samples.astype(numpy.float32), rate_hz, rate_hz * factor, quality="HQ"))
    n = len(samples)
    peaks = numpy.abs(samples).astype(numpy.float32)
    whole = min(n, len(upsampled) // factor)
    if factor & (factor - 1) == 0:  # the largest of each sample's group: maxima of pairs, halving each time
        group = upsampled[: whole * factor]
        while len(group) > whole:
            group = numpy.maximum(group[0::2], group[1::2])
        numpy.maximum(peaks[:whole], group, out=peaks[:whole])
        if whole < n and len(upsampled) > whole * factor:  # a last, short group
            peaks[whole] = max(peaks[whole], upsampled[whole * factor : (whole + 1) * factor].max())
        return peaks
    for phase in range(factor):  # strided maxima
        column = upsampled[phase::factor][:n]
        numpy.maximum(peaks[: len(column)], column, out=peaks[: len(column)])
    return peaks


def true_peak_dbtp(samples: numpy.ndarray, rate_hz: int) -> float:
    peak = float(true_peak(samples, rate_hz).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _sliding(values: numpy.ndarray, width: int, reduce: str) -> numpy.ndarray:
    """A centred sliding minimum or mean of odd `width` (edges padded with the edge value), in linear time."""
    import numpy

    half = width // 2
    padded = numpy.pad(values.astype(numpy.float64), half, mode="edge")
    if reduce == "mean":
        cumulative = numpy.concatenate(([0.0], numpy.cumsum(padded)))
        return (cumulative[width:] - cumulative[:-width]) / width
    # van Herk / Gil-Werman: running minima within blocks of `width`, from the left and the right
    blocks = -(-len(padded) // width)
    grid = numpy.pad(padded, (0, blocks * width - len(padded)), constant_values=numpy.inf).reshape(blocks, width)
    from_left = numpy.minimum.accumulate(grid, axis=1).ravel()
    from_right = numpy.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    return numpy.minimum(from_right[: len(values)], from_left[width - 1 : width - 1 + len(values)])


def peaks_near(samples: numpy.ndarray, rate_hz: int, level: float) -> numpy.ndarray:
    """Per-sample true peaks (as :func:`true_peak`) wherever |signal| exceeds `level`, |signal| elsewhere.

    Between its samples speech rises only a few dB over the samples around it, so only stretches
    with a sample within that margin of the ceiling can break it, and only they are oversampled:
    most of a clip is never touched. (Checked on the seed book: after resampling to 44.1 kHz
    and full 4x oversampling, the ceiling held everywhere.)
    """
    import numpy

    magnitude = numpy.abs(samples).astype(numpy.float32)
    hot = numpy.flatnonzero(magnitude > level)
    if len(hot) == 0:
        return magnitude
    spans = [
        (max(0, run[0] - _PEAK_CONTEXT), min(len(samples), run[-1] + 1 + _PEAK_CONTEXT))
        for run in numpy.split(hot, numpy.flatnonzero(numpy.diff(hot) > 2 * _PEAK_CONTEXT) + 1)
    ]
    # One oversampling pass over all the stretches, set apart by silence (one call, not hundreds)
    gap = numpy.zeros(2 * _PEAK_CONTEXT, dtype=numpy.float32)
    joined = numpy.concatenate([piece for start, end in spans for piece in (samples[start:end], gap)])
    peaks = true_peak(joined, rate_hz)
    offset = 0
    for start, end in spans:
        magnitude[start:end] = peaks[offset : offset + end - start]
        offset += end - start + len(gap)
    return magnitude


def limit(samples: numpy.ndarray, rate_hz: int, ceiling_dbtp: float) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The signal with its true peaks held at or under `ceiling_dbtp`, and the gain applied to each sample."""
    import numpy

    ceiling = 10 ** (ceiling_dbtp / 20)
    level = ceiling * 10 ** (-_INTERSAMPLE_MARGIN_DB / 20)
    peaks = peaks_near(samples, rate_hz, level)
    if peaks.max(initial=0.0) <= ceiling:
        return samples, numpy.ones(len(samples))
    needed = numpy.minimum(1.0, ceiling / numpy.maximum(peaks, 1e-12))
    width = 2 * round(_LIMITER_WINDOW_S * rate_hz / 2) + 1
    gain = numpy.ones(len(samples))
    cut = numpy.flatnonzero(needed < 1.0)  # the gain moves only within two windows of these
    for run in numpy.split(cut, numpy.flatnonzero(numpy.diff(cut) > 4 * width) + 1):
        start, end = max(0, run[0] - 2 * width), min(len(samples), run[-1] + 1 + 2 * width)
        gain[start:end] = _sliding(_sliding(needed[start:end], width, "min"), width, "mean")
    # At every sample the smoothed gain is at most what that sample needed (each window's minimum
    # includes it); only the gain's own slow movement can nudge a peak between samples, by a few
    # hundredths of a dB, which the margin covers without measuring everything again.
    gain *= _LIMITER_MARGIN
    return (samples * gain).astype(numpy.float32), gain


def normalise(samples: numpy.ndarray, rate_hz: int, target_lufs: float) -> Normalised:
    """A clip at `target_lufs` integrated, its true peak under the ceiling that leaves room for the codec.

    The clip is K-weighted once. The limiter's gain moves slowly (over milliseconds) next to the
    filters' response, so the loudness of the limited clip is that weighted signal's power times
    the gain squared: re-measuring after each limiter pass needs no filtering again.
    """
    import numpy

    context = round(CONTEXT_SILENCE_S * rate_hz)
    power = k_weighted(numpy.pad(samples, context), rate_hz) ** 2
    measured = _gated_lufs(power, rate_hz)
    if not math.isfinite(measured):
        return Normalised(samples.astype(numpy.float32), measured, 0.0, 0.0)
    ceiling = PEAK_LIMIT_DBTP - CODEC_HEADROOM_DB
    gain_db = min(MAX_GAIN_DB, target_lufs - measured)
    limited, gain = limit(samples * 10 ** (gain_db / 20), rate_hz, ceiling)
    for _ in range(_LIMITER_PASSES):  # the limiter cost loudness: raise the body more, and hold the peaks again
        if gain.min(initial=1.0) >= 10 ** (-0.2 / 20):  # no more than the limiter's own margin
            break
        now = _gated_lufs(power * 10 ** (gain_db / 10) * numpy.pad(gain, context, constant_values=1.0) ** 2, rate_hz)
        shortfall_db = target_lufs - now
        if shortfall_db < 0.1:
            break
        gain_db += min(MAX_GAIN_DB - gain_db, shortfall_db)
        limited, gain = limit(samples * 10 ** (gain_db / 20), rate_hz, ceiling)
    taken_db = float(-20 * math.log10(gain.min(initial=1.0)))
    return Normalised(limited.astype(numpy.float32), measured, gain_db, taken_db)
