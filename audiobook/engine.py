"""The speech engine: eSpeak NG, driven through pyttsx3's own eSpeak bindings.

This is the only module that imports pyttsx3. It does not use ``pyttsx3.Engine``: on Linux its
``runAndWait()`` can return before the WAV is written, changing voice or rate while eSpeak is busy
loses settings, a second engine breaks the first, every voice claims to be "Male", and
``save_to_file`` is quadratic in the text length. Instead it calls eSpeak NG directly through
``pyttsx3.drivers._espeak`` in eSpeak's *synchronous* mode, where ``Synth`` + ``Synchronize``
return only when every sample has been handed to our callback, and no eSpeak threads exist.

Determinism. eSpeak NG keeps synthesis state between utterances in C statics that no API call
resets (pitch-flutter phase, gain control, cycle counters in ``wavegen.c``), so the same text
spoken twice by one engine differs by a few samples. Where ``os.fork`` exists every clip is
therefore spoken in a short-lived child forked from an engine that was initialized but has never
spoken: each clip starts from the same fresh state, so the PCM depends only on (text, voice)
and is byte-identical to ``espeak-ng --stdout`` with the same voice, rate, pitch and amplitude.
Forking is safe because synchronous mode starts no threads; it costs a few milliseconds a clip.
A crash inside eSpeak kills only that child and becomes an ``EngineError``.

One engine per process: create it with :func:`get_engine`. An engine is not thread-safe.
"""

from __future__ import annotations

import array
import ctypes
import functools
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from audiobook.errors import EngineError

SAMPLE_RATE_HZ = 22050  # eSpeak NG's native rate for all of its own (non-MBROLA) voices
RATE_WPM_RANGE = (80, 450)
PITCH_RANGE = (0, 99)
VOLUME_RANGE = (0.0, 2.0)

_INSTALL_HINT = "eSpeak NG is not installed: run `sudo apt-get install espeak-ng` (or `bash setup.sh`)"
_VOICES_HINT = "`espeak-ng --voices` lists the voices"
_VARIANTS_HINT = "`espeak-ng --voices=variant` lists the variants"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MESSAGE_EXIT = 3  # a child that exits with this left a one-line error message in the file


@dataclass(frozen=True)
class Voice:
    """What a character sounds like."""

    voice_id: str = "en-us"  # eSpeak NG voice, optionally "+variant": "en-us+f3", "en-gb-scotland+Annie"
    rate_wpm: int = 175  # words per minute, 80..450
    pitch: int = 50  # eSpeak base pitch, 0..99
    volume: float = 1.0  # 1.0 = normal, 0..2.0

    @property
    def engine(self) -> str:
        """The engine that speaks this voice: "piper" for "piper:NAME" (or "piper:NAME#SPEAKER"), else "espeak"."""
        return self.voice_id.partition(":")[0] if ":" in self.voice_id else "espeak"


@dataclass(frozen=True)
class VoiceInfo:
    """One entry of :meth:`EspeakEngine.voices`."""

    voice_id: str  # "en-us" for a voice, "+f3" for a variant (append it to a voice id)
    name: str  # eSpeak's display name: "English (America)", "female3"
    language: str  # main language of a voice ("en-us"); "" for variants, which fit every voice
    gender: str | None  # "female" / "male" as declared in the voice file, None if it declares none
    kind: str  # "voice" or "variant"
    speakers: int = 1  # how many speakers the voice has (a multi-speaker Piper model: more than one)


@dataclass(frozen=True)
class _BaseVoice:
    identifier: str  # eSpeak's identifier, e.g. "gmw/en-US"
    languages: tuple[str, ...]  # every language the voice declares, main one first
    info: VoiceInfo


def _bindings() -> ModuleType:
    """pyttsx3's ctypes bindings for libespeak-ng (importing them loads the library, nothing more)."""
    try:
        from pyttsx3.drivers import _espeak
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("pyttsx3"):
            raise EngineError("pyttsx3 is not installed: run `pip install -e .` in the project") from error
        raise
    except (OSError, RuntimeError) as error:
        raise EngineError(_INSTALL_HINT) from error
    return _espeak


@functools.cache
def engine_id() -> str:
    """Exact engine versions, e.g. ``"espeak-ng 1.51 / pyttsx3 2.99"``; part of every clip's cache key.

    Safe to call in a process that must not initialize eSpeak (such as the parent of a worker
    pool): it loads libespeak-ng and reads its version string, which starts nothing.
    """
    import importlib.metadata  # here: the eSpeak helper process (zygote.py) never needs it

    espeak_version = _bindings().Info().decode("ascii", "replace")
    return f"espeak-ng {espeak_version} / pyttsx3 {importlib.metadata.version('pyttsx3')}"


class EspeakEngine:
    """eSpeak NG in synchronous mode. Use :func:`get_engine`; a second instance would break the first."""

    _created = False

    def __init__(self) -> None:
        if EspeakEngine._created:
            raise EngineError("eSpeak NG is already initialized in this process: use get_engine()")
        self._espeak = _bindings()
        sample_rate_hz = self._espeak.Initialize(self._espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
        if sample_rate_hz <= 0:
            raise EngineError(f"eSpeak NG failed to initialize (status {sample_rate_hz}): reinstall espeak-ng")
        if sample_rate_hz != SAMPLE_RATE_HZ:
            raise EngineError(
                f"eSpeak NG runs at {sample_rate_hz} Hz, not {SAMPLE_RATE_HZ} Hz: use the distribution's espeak-ng"
            )
        self.sample_rate_hz: int = sample_rate_hz
        self._sink: Callable[[bytes], None] | None = None  # where _on_audio hands PCM while speaking
        self._scratch: int | None = None  # the file synthesize() speaks into
        self._espeak.SetSynthCallback(self._on_audio)  # the bindings keep the C callback alive
        self._data_dir = _data_dir(self._espeak)
        self._voices = _list_voices(self._espeak, self._data_dir)
        self._variants = _list_variants(self._data_dir)
        EspeakEngine._created = True

    @property
    def id(self) -> str:
        """Exact engine versions, e.g. ``"espeak-ng 1.51 / pyttsx3 2.99"`` (same as :func:`engine_id`)."""
        return engine_id()

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        """eSpeak's voices (those speaking ``language``, e.g. "en", if given), then every variant."""
        wanted = language.lower() if language else None
        voices = [
            voice.info
            for voice in self._voices.values()
            if wanted is None or any(lang == wanted or lang.startswith(wanted + "-") for lang in voice.languages)
        ]
        return voices + list(self._variants.values())

    def check_voice(self, voice: Voice) -> None:
        """Raise EngineError if eSpeak NG lacks the voice or variant or a setting is out of range."""
        self._base_voice(voice)
        _check_number("rate_wpm", voice.rate_wpm, RATE_WPM_RANGE, voice.voice_id, whole=True)
        _check_number("pitch", voice.pitch, PITCH_RANGE, voice.voice_id, whole=True)
        _check_number("volume", voice.volume, VOLUME_RANGE, voice.voice_id, whole=False)

    def synthesize(self, text: str, voice: Voice) -> bytes:
        """The complete speech for ``text``: 16-bit little-endian mono PCM at ``sample_rate_hz``.

        Blank text gives ``b""``. Control characters are spoken as spaces.
        """
        if hasattr(os, "fork"):
            scratch = self._scratch_file()
            return read_all(scratch, self.speak_into(scratch, text, voice))
        text = self._speakable(text, voice)
        if not text:
            return b""
        chunks: list[bytes] = []
        self._speak(text, voice, chunks.append)  # no fork (Windows): output may vary by a few samples
        return b"".join(chunks)

    def speak_into(self, fd: int, text: str, voice: Voice) -> int:
        """Speak ``text`` into the file ``fd`` (as :meth:`synthesize` would return it, from the
        file's start, the file cut to its length); the number of bytes. Needs ``os.fork``.

        The speech is spoken in a child forked from this engine, which has never spoken, and goes
        straight into the file as eSpeak hands it over: no copy of it is gathered in memory. Pages
        the file already has are written over rather than made again.
        """
        text = self._speakable(text, voice)
        if not text:
            os.ftruncate(fd, 0)
            return 0
        try:
            pid = os.fork()
        except OSError as error:
            raise EngineError(
                f"cannot start a process to speak in ({error}): close other programs or use fewer jobs"
            ) from error
        if pid == 0:  # child: speak from the pristine state into the file, never return
            exit_code = 1
            try:
                try:
                    _fresh_libc_random()
                    sink = _FileSink(fd)
                    self._speak(text, voice, sink)
                    os.ftruncate(fd, sink.size)
                    exit_code = 0
                except Exception as error:  # noqa: BLE001 - handed to the parent as a one-line message
                    message = str(error) if isinstance(error, EngineError) else f"eSpeak NG failed: {error!r}"
                    os.ftruncate(fd, 0)
                    pwrite_all(fd, message.encode("utf-8", "replace"))
                    exit_code = _MESSAGE_EXIT
            finally:
                os._exit(exit_code)
        _, wait_status = os.waitpid(pid, 0)
        exit_code = os.waitstatus_to_exitcode(wait_status)
        if exit_code == 0:
            return os.fstat(fd).st_size
        if exit_code == _MESSAGE_EXIT:
            raise EngineError(read_all(fd).decode("utf-8", "replace"))
        how = f"killed by signal {-exit_code}" if exit_code < 0 else f"exit status {exit_code}"
        raise EngineError(
            f"eSpeak NG crashed ({how}) speaking {len(text)} characters with voice {voice.voice_id!r}: "
            "try another voice or check the text"
        )

    def _speakable(self, text: str, voice: Voice) -> str:
        """`text` with control characters as spaces, "" if it is blank; EngineError for a bad voice."""
        self.check_voice(voice)
        text = _CONTROL_CHARS.sub(" ", text)
        return text if text.strip() else ""

    def _base_voice(self, voice: Voice) -> _BaseVoice:
        base_id, plus, variant = voice.voice_id.partition("+")
        base = self._voices.get(base_id.lower()) or next(
            (v for v in self._voices.values() if v.identifier.lower() == base_id.lower()), None
        )
        if "#" in voice.voice_id:
            raise EngineError(
                f"eSpeak NG voice {voice.voice_id.partition('#')[0]!r} has one speaker: leave out speaker (or '#')"
            )
        if base is None:
            if not base_id:
                raise EngineError(
                    f"voice {voice.voice_id!r} names no voice before the '+': write e.g. 'en-us{voice.voice_id}'"
                )
            where = f" in {voice.voice_id!r}" if plus else ""
            raise EngineError(
                f"unknown eSpeak NG voice {base_id!r}{where}{self._base_suggestions(base_id)}; {_VOICES_HINT}"
            )
        if plus and variant not in self._variants:
            raise EngineError(
                f"unknown eSpeak NG voice variant {variant!r} in {voice.voice_id!r}"
                f"{_did_you_mean(_close_matches(variant, list(self._variants)))}; {_VARIANTS_HINT}"
            )
        return base

    def _base_suggestions(self, base_id: str) -> str:
        wanted = base_id.lower()
        speakers = [key for key, voice in self._voices.items() if wanted in voice.languages]
        return _did_you_mean(list(dict.fromkeys(speakers + _close_matches(wanted, list(self._voices))))[:3])

    def _scratch_file(self) -> int:
        """The file in memory that children leave their speech in; made once."""
        if self._scratch is None:
            self._scratch = memory_file()
        return self._scratch

    def _speak(self, text: str, voice: Voice, sink: Callable[[bytes], None]) -> None:
        """Drive eSpeak: select the voice, verify it, set parameters, synthesize, wait for the end.

        Every piece of PCM (16-bit little-endian) goes to ``sink`` as eSpeak hands it over."""
        espeak = self._espeak
        expected = self._base_voice(voice).identifier
        _, plus, variant = voice.voice_id.partition("+")
        if plus:
            expected += "+" + variant
        _check_status(espeak.SetVoiceByName(voice.voice_id.encode("utf-8")), f"select voice {voice.voice_id!r}")
        selected = espeak.GetCurrentVoice().contents.identifier.decode("utf-8", "replace")
        if selected.lower() != expected.lower():  # eSpeak silently drops variants it cannot load
            raise EngineError(
                f"eSpeak NG selected {selected!r} instead of {voice.voice_id!r}: check the voice's variant file"
            )
        settings = (
            (espeak.RATE, voice.rate_wpm, "rate"),
            (espeak.PITCH, voice.pitch, "pitch"),
            (espeak.VOLUME, round(voice.volume * 100), "volume"),
        )
        for parameter, value, label in settings:
            _check_status(espeak.SetParameter(parameter, value, 0), f"set {label} to {value}")
        self._sink = sink
        try:
            flags = espeak.CHARS_UTF8 | espeak.ENDPAUSE  # ENDPAUSE: end with a full sentence pause, like the CLI
            _check_status(espeak.Synth(text.encode("utf-8", "replace"), flags=flags), "synthesize")
            _check_status(espeak.Synchronize(), "finish synthesizing")
        finally:
            self._sink = None

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], sample_count: int, events: object) -> int:
        if sample_count > 0 and self._sink is not None:
            self._sink(_little_endian(ctypes.string_at(wav, sample_count * 2)))
        return 0  # 0 = continue


def _fresh_libc_random() -> None:
    """Put the C library's rand() back to the state a new process starts in (seed 1).

    eSpeak NG draws breath noise (variants such as f3) from rand(), whose state is the whole
    process's: a child forked from a process where anything else called rand() (a library
    loaded beside the engine) would breathe differently from the ``espeak-ng`` program."""
    srand = getattr(_libc(), "srand", None)
    if srand is not None:
        srand(1)


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None)


class _FileSink:
    """Writes PCM into a file one piece after the other, from its start."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.size = 0

    def __call__(self, pcm: bytes) -> None:
        pwrite_all(self.fd, pcm, self.size)
        self.size += len(pcm)


_engine: EspeakEngine | None = None


def get_engine() -> EspeakEngine:
    """This process's engine, created on first use."""
    global _engine  # noqa: PLW0603
    if _engine is None:
        _engine = EspeakEngine()
    return _engine


def memory_file() -> int:
    """A file in memory (a temporary file where there is no memfd), close-on-exec, for handing
    speech from one process to another without a pipe."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("audiobook-speech")  # close-on-exec by default
    import tempfile

    with tempfile.TemporaryFile() as file:
        return os.dup(file.fileno())


def pwrite_all(fd: int, data: bytes, offset: int = 0) -> None:
    """Write all of `data` into the file `fd` at `offset` (its start unless given), by position."""
    view = memoryview(data)
    while view:
        view = view[os.pwrite(fd, view, offset + len(data) - len(view)) :]


def read_all(fd: int, size: int | None = None) -> bytes:
    """The first `size` bytes of a file (all of it if None), read by position."""
    size = os.fstat(fd).st_size if size is None else size
    data = os.pread(fd, size, 0)
    while len(data) < size:  # pread may return less than asked
        more = os.pread(fd, size - len(data), len(data))
        if not more:
            raise EngineError("the speech handed over by eSpeak NG's process was cut short: run again")
        data += more
    return data


def _check_status(status: int, action: str) -> None:
    if status != 0:
        raise EngineError(
            f"eSpeak NG could not {action} (status {status}): check the voice, reinstall espeak-ng if it persists"
        )


def _check_number(field: str, value: object, limits: tuple[float, float], voice_id: str, *, whole: bool) -> None:
    low, high = limits
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        kind = "a whole number" if whole else "a number"
        raise EngineError(f"{field} {value!r} of voice {voice_id!r} is not {kind}: use {low} to {high}")
    if not low <= value <= high:
        raise EngineError(f"{field} {value!r} of voice {voice_id!r} is out of range: use {low} to {high}")


def _close_matches(word: str, candidates: list[str]) -> list[str]:
    import difflib  # only for a mistake: kept out of the eSpeak helper process

    exact_but_case = [c for c in candidates if c.lower() == word.lower()]
    return list(dict.fromkeys(exact_but_case + difflib.get_close_matches(word, candidates, n=3, cutoff=0.5)))[:3]


def _did_you_mean(suggestions: list[str]) -> str:
    return f" (did you mean {', '.join(repr(s) for s in suggestions)}?)" if suggestions else ""


def _little_endian(pcm: bytes) -> bytes:
    if sys.byteorder == "little":
        return pcm
    samples = array.array("h", pcm)
    samples.byteswap()
    return samples.tobytes()


def _data_dir(espeak: ModuleType) -> Path:
    """The espeak-ng-data directory that the initialized library is using."""
    path = ctypes.c_char_p()
    espeak.Info(ctypes.byref(path))
    if path.value and Path(os.fsdecode(path.value), "voices").is_dir():
        return Path(os.fsdecode(path.value))
    import shutil  # a fallback, kept out of the eSpeak helper process
    import subprocess

    cli = shutil.which("espeak-ng")
    if cli:
        version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"Data at:\s*(.+)", version)
        if match and Path(match.group(1).strip(), "voices").is_dir():
            return Path(match.group(1).strip())
    raise EngineError(
        "cannot find eSpeak NG's espeak-ng-data directory: reinstall it (`sudo apt-get install espeak-ng`)"
    )


def _list_voices(espeak: ModuleType, data_dir: Path) -> dict[str, _BaseVoice]:
    """eSpeak's own voices keyed by lower-case id ("en-us"); MBROLA voices (``mb/``) are left out."""
    voices: dict[str, _BaseVoice] = {}
    for entry in espeak.ListVoices(None):
        identifier = entry.identifier.decode("utf-8", "replace")
        if identifier.startswith("mb/") or "!v" in identifier:
            continue
        voice_id = identifier.rsplit("/", 1)[-1].lower()
        languages = _languages(entry, espeak.VOICE)
        declared = _read_voice_file(data_dir / "lang" / identifier)
        info = VoiceInfo(
            voice_id=voice_id,
            name=entry.name.decode("utf-8", "replace"),
            language=languages[0] if languages else "",
            gender=declared.get("gender"),
            kind="voice",
        )
        voices[voice_id] = _BaseVoice(identifier, languages, info)
    return dict(sorted(voices.items()))


def _languages(entry: ctypes.Structure, voice_type: type[ctypes.Structure]) -> tuple[str, ...]:
    """Decode espeak_VOICE.languages: repeated (priority byte, name, NUL), ended by a 0 priority."""
    address = ctypes.c_void_p.from_address(ctypes.addressof(entry) + voice_type.languages.offset).value
    languages: list[str] = []
    while address and ctypes.string_at(address, 1) != b"\x00":
        name = ctypes.string_at(address + 1)
        languages.append(name.decode("utf-8", "replace").lower())
        address += len(name) + 2
    return tuple(languages)


def _list_variants(data_dir: Path) -> dict[str, VoiceInfo]:
    """Variant files in ``voices/!v``, keyed by file name (case matters: "f3", "Annie")."""
    variants: dict[str, VoiceInfo] = {}
    folder = data_dir / "voices" / "!v"
    for path in sorted(folder.iterdir() if folder.is_dir() else [], key=lambda p: p.name.lower()):
        if path.is_file():
            declared = _read_voice_file(path)
            variants[path.name] = VoiceInfo(
                voice_id="+" + path.name,
                name=declared.get("name", path.name),
                language="",
                gender=declared.get("gender"),
                kind="variant",
            )
    return variants


def _read_voice_file(path: Path) -> dict[str, str]:
    """The ``name`` and ``gender`` lines of an eSpeak voice file (pyttsx3 reports every voice as male)."""
    declared: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return declared
    for line in lines:
        key, _, value = line.strip().partition(" ")
        value = value.strip()
        if key == "name" and value and "name" not in declared:
            declared["name"] = value
        elif key == "gender" and value and "gender" not in declared:
            gender = value.split()[0].lower()
            if gender in ("male", "female"):
                declared["gender"] = gender
    return declared
