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

True peak is the peak of the signal oversampled 4x (8x at eSpeak's 22.05 kHz), as BS.1770 annex 2
describes: :func:`true_peak` resamples the whole signal (soxr) and serves as the meter; the limiter
interpolates only the points next to samples within 6 dB of the ceiling (:func:`peaks_over`),
once per clip. Where the gain would push a peak over the ceiling, the limiter takes the excess
off the peaks only: the gain is the minimum needed in a 5 ms window around each sample, smoothed
by a 5 ms moving average (which can only lower it further), so the ceiling holds without clicks;
what the gain's own movement adds to an inter-sample peak (a few hundredths of a dB) is taken off
the whole clip.

Gating blocks are sums of 100 ms segments of the weighted power, so a clip is measured again
after the limiter by summing only the segments the limiter touched.
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

METHOD = (
    "bs1770-4 k-weighted, gated 400 ms/-70/-10 from 100 ms segments, between 400 ms of silence; "
    "true peak 8x at 22.05 kHz interpolated by a 32-tap Kaiser sinc next to samples within 6 dB of the ceiling, "
    "5 ms limiter with 0.1 dB margin, 4 passes, re-measured by gain"
)
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
_TAPS = 32  # samples the peak interpolator reads around each point it estimates
_KAISER_BETA = 8.0  # its window: flat to about 9 kHz at 22.05 kHz
_STEPS_AT_ONCE = 1 << 15  # steps interpolated in one piece (a few MB of neighbours)
_PEAK_ROOM_DB = 3.0  # peaks are interpolated this far below what a pass needs, for the next passes
_LIMITER_PASSES = 4  # at most, for a target so loud that the limiter must work hard
_LIMITER_MARGIN_DB = -0.1  # under the ceiling, where the limiter acts
_LIMITER_MARGIN = 10 ** (_LIMITER_MARGIN_DB / 20)


def check_loudness(loudness_lufs: float) -> None:
    low, high = LOUDNESS_RANGE_LUFS
    if not low <= loudness_lufs <= high:
        raise AudioError(
            f"--loudness {loudness_lufs:g} is out of range: use {low:g} to {high:g} LUFS (-19 is the podcast norm)"
        )


@dataclass(frozen=True)
class Levelled:
    """A clip brought to the loudness target, and what it took."""

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
    return _gated_lufs(_block_powers(k_weighted(samples, rate_hz) ** 2, rate_hz))


def _block_powers(weighted_power: numpy.ndarray, rate_hz: int) -> numpy.ndarray:
    """Mean power of each 400 ms gating block, one every 100 ms, of the K-weighted signal's per-sample power.

    Where a block is four steps (every common rate) the blocks are sums of 100 ms segments; a
    signal shorter than one block is one block of its own.
    """
    import numpy

    block, step = round(_BLOCK_S * rate_hz), round(_STEP_S * rate_hz)
    if len(weighted_power) < block:
        return numpy.array([numpy.mean(weighted_power)])
    if block == 4 * step:
        return _blocks_from_segments(_segment_sums(weighted_power, step), block)
    cumulative = numpy.concatenate(([0.0], numpy.cumsum(weighted_power)))
    starts = numpy.arange(0, len(weighted_power) - block + 1, step)
    return (cumulative[starts + block] - cumulative[starts]) / block


def _segment_sums(weighted_power: numpy.ndarray, step: int) -> numpy.ndarray:
    whole = len(weighted_power) // step
    return weighted_power[: whole * step].reshape(whole, step).sum(axis=1)


def _blocks_from_segments(segments: numpy.ndarray, block: int) -> numpy.ndarray:
    return (segments[:-3] + segments[1:-2] + segments[2:-1] + segments[3:]) / block


def _gated_lufs(powers: numpy.ndarray) -> float:
    """BS.1770 gating over the blocks' mean powers: absolute gate, then relative gate."""
    import numpy

    powers = powers[_lufs(powers) > _ABSOLUTE_GATE_LUFS]
    if len(powers) == 0:
        return -math.inf
    relative_gate = _lufs(numpy.mean(powers)) + _RELATIVE_GATE_LU
    gated = powers[_lufs(powers) > relative_gate]
    return float(_lufs(numpy.mean(gated)))


class _Meter:
    """The loudness of one clip (K-weighted once) under a gain, re-measured without filtering again.

    The limiter's gain moves slowly (over milliseconds) next to the filters' response, so the
    weighted power of the limited clip is the clip's weighted power times the gain squared; and
    since the limiter touches only a few stretches, only the 100 ms segments under them are summed again.
    """

    def __init__(self, samples: numpy.ndarray, rate_hz: int) -> None:
        import numpy

        self.context = round(CONTEXT_SILENCE_S * rate_hz)  # silence each side, as in a chapter
        self.power = k_weighted(numpy.pad(samples, self.context), rate_hz) ** 2
        self.rate_hz = rate_hz
        self.block, self.step = round(_BLOCK_S * rate_hz), round(_STEP_S * rate_hz)
        segmented = self.block == 4 * self.step and len(self.power) >= self.block
        self.segments = _segment_sums(self.power, self.step) if segmented else None

    def lufs(self, gain_db: float = 0.0, at: numpy.ndarray | None = None, gain: numpy.ndarray | None = None) -> float:
        """Integrated loudness with `gain_db` applied and, if given, the gain `gain` at the samples `at`."""
        import numpy

        scale = 10 ** (gain_db / 10)
        if at is None or gain is None:
            if self.segments is not None:
                return _gated_lufs(_blocks_from_segments(self.segments, self.block) * scale)
            return _gated_lufs(_block_powers(self.power, self.rate_hz) * scale)
        if self.segments is None:
            curve = numpy.ones(len(self.power))
            curve[at + self.context] = gain
            return _gated_lufs(_block_powers(self.power * curve**2, self.rate_hz) * scale)
        where = at + self.context
        inside = where < len(self.segments) * self.step
        change = numpy.bincount(
            where[inside] // self.step, weights=self.power[where[inside]] * (gain[inside] ** 2 - 1),
            minlength=len(self.segments),
        )
        return _gated_lufs(_blocks_from_segments(self.segments + change, self.block) * scale)


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


@functools.lru_cache(maxsize=4)
def _interpolator(factor: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Offsets of the 32 samples around sample i, and each one's weight for the points i + k/factor
    (k = 1 .. factor - 1): a Kaiser-windowed sinc, each phase scaled to unity gain."""
    import numpy

    half = _TAPS // 2
    offsets = numpy.arange(1 - half, half + 1)
    distance = numpy.arange(1, factor)[None, :] / factor - offsets[:, None]
    window = numpy.i0(_KAISER_BETA * numpy.sqrt(numpy.clip(1 - (distance / half) ** 2, 0, None))) / numpy.i0(
        _KAISER_BETA
    )
    weights = numpy.sinc(distance) * window
    return offsets, (weights / weights.sum(axis=0)).astype(numpy.float32)


def peaks_over(samples: numpy.ndarray, rate_hz: int, level: float) -> numpy.ndarray:
    """Per-sample true peaks wherever the signal nears `level`, |signal| elsewhere.

    A sample's true peak is the largest of |signal| from it up to the next sample, oversampled
    as :func:`true_peak` does (8x at 22.05 kHz), here by interpolating only those points, from
    the 32 samples around them. Between its samples speech rises only a few dB over them, so only
    the steps next to a sample over `level` are interpolated: a few percent of a clip. (Checked
    on the seed book against :func:`true_peak`: each clip's highest peak within 0.03 dB.)
    """
    import numpy

    magnitude = numpy.abs(samples).astype(numpy.float32)
    hot = magnitude > level
    hot[:-1] |= hot[1:]  # the step from i to i+1 touches a hot sample
    steps = numpy.flatnonzero(hot)
    if len(steps) == 0:
        return magnitude
    offsets, weights = _interpolator(_oversampling(rate_hz))
    reach = len(offsets)
    padded = numpy.pad(samples.astype(numpy.float32), reach)
    for start in range(0, len(steps), _STEPS_AT_ONCE):
        at = steps[start : start + _STEPS_AT_ONCE]
        between = numpy.abs(padded[(at + reach)[:, None] + offsets] @ weights).max(axis=1)
        magnitude[at] = numpy.maximum(magnitude[at], between)
    return magnitude


class _Peaks:
    """One clip's true peaks, interpolated once for every pass of the limiter (a gain only scales them)."""

    def __init__(self, samples: numpy.ndarray, rate_hz: int) -> None:
        self.samples, self.rate_hz = samples, rate_hz
        self.level = math.inf
        self.peaks: numpy.ndarray | None = None

    def over(self, level: float) -> numpy.ndarray:
        """Peaks that are true wherever they exceed `level` (|signal| elsewhere)."""
        if self.peaks is None or level < self.level:
            self.level = level * 10 ** (-_PEAK_ROOM_DB / 20)  # room for the next passes' higher gain
            self.peaks = peaks_over(self.samples, self.rate_hz, self.level)
        return self.peaks


@dataclass(frozen=True)
class _Limited:
    """Where the limiter acts, and its gain there (1 everywhere else)."""

    at: numpy.ndarray
    gain: numpy.ndarray

    @property
    def deepest(self) -> float:
        return float(self.gain.min(initial=1.0))


def _limiter(peaks: _Peaks, gain: float, rate_hz: int, ceiling: float) -> _Limited | None:
    """The gain that holds the clip's true peaks, raised by `gain`, at `ceiling` (None: they are under it already).

    The gain is the minimum needed in a 5 ms window around each sample, smoothed by a 5 ms moving
    average (which can only lower it further), so the ceiling holds without clicks. It moves only
    within two windows of a peak over the ceiling: only those stretches are worked on, joined end to end
    (each starts and ends in two windows of gain 1, so they do not reach into each other).
    """
    import numpy

    threshold = ceiling * 10 ** (-_INTERSAMPLE_MARGIN_DB / 20)
    raw = peaks.over(threshold / gain)
    cut = numpy.flatnonzero(raw > ceiling / gain)
    if len(cut) == 0:
        return None
    width = 2 * round(_LIMITER_WINDOW_S * rate_hz / 2) + 1
    n = len(raw)
    runs = numpy.split(cut, numpy.flatnonzero(numpy.diff(cut) > 4 * width) + 1)
    at = numpy.concatenate([numpy.arange(max(0, run[0] - 2 * width), min(n, run[-1] + 1 + 2 * width)) for run in runs])
    needed = numpy.minimum(1.0, ceiling / (gain * numpy.maximum(raw[at], 1e-12)))
    return _Limited(at, _sliding(_sliding(needed, width, "min"), width, "mean"))


def level(samples: numpy.ndarray, rate_hz: int, target_lufs: float) -> Levelled:
    """Level a clip: it comes out at `target_lufs` integrated, its true peak under the ceiling that leaves
    room for the codec.

    The clip is K-weighted once and its peaks interpolated once: the limiter's passes only scale
    them (see :class:`_Meter` and :class:`_Peaks`).
    """
    import numpy

    meter = _Meter(samples, rate_hz)
    measured = meter.lufs()
    if not math.isfinite(measured):
        return Levelled(samples.astype(numpy.float32), measured, 0.0, 0.0)
    ceiling = 10 ** ((PEAK_LIMIT_DBTP - CODEC_HEADROOM_DB) / 20)
    peaks = _Peaks(samples, rate_hz)
    gain_db = min(MAX_GAIN_DB, target_lufs - measured)
    limited = _limiter(peaks, 10 ** (gain_db / 20), rate_hz, ceiling)
    for _ in range(_LIMITER_PASSES):  # the limiter cost loudness: raise the body more, and hold the peaks again
        if limited is None or limited.deepest * _LIMITER_MARGIN >= 10 ** (-0.2 / 20):  # no more than its own margin
            break
        now = meter.lufs(gain_db + _LIMITER_MARGIN_DB, limited.at, limited.gain)
        shortfall_db = target_lufs - now
        if shortfall_db < 0.1:
            break
        gain_db += min(MAX_GAIN_DB - gain_db, shortfall_db)
        limited = _limiter(peaks, 10 ** (gain_db / 20), rate_hz, ceiling)
    if limited is None:
        return Levelled((samples * 10 ** (gain_db / 20)).astype(numpy.float32), measured, gain_db, 0.0)
    # At every sample the smoothed gain is at most what that sample needed (each window's minimum
    # includes it); only the gain's own slow movement can nudge a peak between samples, by a few
    # hundredths of a dB, which the margin (taken off the whole clip) covers without measuring again.
    out = (samples * (10 ** (gain_db / 20) * _LIMITER_MARGIN)).astype(numpy.float32)
    out[limited.at] *= limited.gain.astype(numpy.float32)
    return Levelled(out, measured, gain_db, float(-20 * math.log10(limited.deepest * _LIMITER_MARGIN)))
