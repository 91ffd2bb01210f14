"""Speech engines behind one interface: eSpeak NG (the default) and Piper neural voices.

An engine lists its voices, checks a voice, names its version for the clip cache key, and
speaks a text in a voice. A voice names its engine: ``"piper:en_US-joe-medium"`` is Piper's,
anything without a prefix (``"en-us+f3"``) is eSpeak NG's. :func:`speak` is the one call a
worker makes for a clip: a function of (options, voice, text) only, so it runs in any process.

eSpeak NG lives in :mod:`audiobook.engine` (through pyttsx3's bindings), Piper in
:mod:`audiobook.piper_engine` (imported only when a Piper voice is used: the default install
never loads it).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from .engine import Voice, VoiceInfo
from .errors import EngineError

if TYPE_CHECKING:
    from .zygote import SpeechProcess

NAMES = ("espeak", "piper")


class Engine(Protocol):
    name: ClassVar[str]

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        """Its voices (those speaking `language`, e.g. "en", if given)."""
        ...

    def check_voice(self, voice: Voice) -> None:
        """EngineError (one line, saying what to do) if it cannot speak `voice` as set."""
        ...

    def id(self, voice: Voice) -> str:
        """Exact versions (and for a model, its fingerprint): part of the clip cache key."""
        ...

    def synthesize(self, text: str, voice: Voice) -> tuple[bytes, int]:
        """(16-bit little-endian mono PCM, its sample rate in Hz); b"" for blank text."""
        ...

    def sample_rate_hz(self, voice: Voice) -> int:
        """The rate `synthesize` speaks `voice` at: a cached clip at any other rate is not its clip."""
        ...


@dataclass(frozen=True)
class EngineOptions:
    """How engines are set up for a run; small and picklable, it travels to the workers."""

    piper_voices: Path | None = None  # Piper's voices folder; None: ~/.local/share/piper-voices
    piper_threads: int = 0  # onnxruntime threads per Piper session; 0: one per core


@dataclass(frozen=True)
class Speech:
    pcm: bytes  # 16-bit little-endian mono
    sample_rate_hz: int


class Espeak:
    """eSpeak NG: voices are checked by this process's engine; clips are spoken by a helper
    process (:mod:`audiobook.zygote`) so each starts from a fresh engine and matches ``espeak-ng``."""

    name: ClassVar[str] = "espeak"

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        from .engine import get_engine

        return get_engine().voices(language)

    def check_voice(self, voice: Voice) -> None:
        from .engine import get_engine

        get_engine().check_voice(voice)

    def id(self, voice: Voice) -> str:
        from .engine import engine_id

        return engine_id()

    def synthesize(self, text: str, voice: Voice) -> tuple[bytes, int]:
        return _espeak_speaker().speak(text, voice), self.sample_rate_hz(voice)

    def sample_rate_hz(self, voice: Voice) -> int:
        from .engine import SAMPLE_RATE_HZ

        return SAMPLE_RATE_HZ


@functools.cache
def _espeak_speaker() -> SpeechProcess:
    """This process's eSpeak helper, started on first use (it ends when this process does)."""
    from .zygote import SpeechProcess

    return SpeechProcess()


DEFAULT_OPTIONS = EngineOptions()


def engine_for(voice: Voice, options: EngineOptions = DEFAULT_OPTIONS) -> Engine:
    """The engine that speaks `voice`."""
    return get(voice.engine, options, voice.voice_id)


def get(name: str, options: EngineOptions = DEFAULT_OPTIONS, voice_id: str | None = None) -> Engine:
    """The engine called `name` ("espeak" or "piper")."""
    if name == "espeak":
        return Espeak()
    if name == "piper":
        from .piper_engine import PiperEngine

        return PiperEngine(options.piper_voices, options.piper_threads)
    where = f" in voice {voice_id!r}" if voice_id else ""
    raise EngineError(
        f"unknown engine {name!r}{where}: use an eSpeak NG voice (\"en-us+f3\") or a Piper voice (\"piper:NAME\")"
    )


def check_voice(voice: Voice, options: EngineOptions = DEFAULT_OPTIONS) -> None:
    engine_for(voice, options).check_voice(voice)


def declared_gender(voice: Voice, options: EngineOptions = DEFAULT_OPTIONS) -> str | None:
    """The gender a voice's own files declare: an eSpeak NG variant's ("en-us+f3": female), else
    None (eSpeak's base voices and Piper's models declare none)."""
    if voice.engine != "espeak" or "+" not in voice.voice_id:
        return None
    variant = "+" + voice.voice_id.partition("+")[2]
    for info in engine_for(voice, options).voices():
        if info.kind == "variant" and info.voice_id == variant:
            return info.gender
    return None


def engine_id(voice: Voice, options: EngineOptions = DEFAULT_OPTIONS) -> str:
    return engine_for(voice, options).id(voice)


class EngineIds:
    """Each voice's engine id, looked up once per engine (per model for Piper, whose id holds the model's
    fingerprint): part of every clip's cache key."""

    def __init__(self, options: EngineOptions = DEFAULT_OPTIONS) -> None:
        self._options = options
        self._ids: dict[str, str] = {}

    def __call__(self, voice: Voice) -> str:
        which = voice.voice_id.partition("#")[0] if voice.engine != "espeak" else "espeak"
        if which not in self._ids:
            self._ids[which] = engine_id(voice, self._options)
        return self._ids[which]


def speak(options: EngineOptions, voice: Voice, text: str) -> Speech:
    """`text` spoken in `voice`: the clip's PCM and its rate. Runs in whatever process calls it; each
    process loads what it needs once (eSpeak's helper, a Piper model)."""
    pcm, rate_hz = engine_for(voice, options).synthesize(text, voice)
    return Speech(pcm, rate_hz)


def threads_per_worker(jobs: int) -> int:
    """onnxruntime threads for each of `jobs` workers, so that workers x threads <= cores."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))
