"""The eSpeak NG engine, against the real library (no fakes)."""

from __future__ import annotations

import ctypes
import importlib.metadata
import re
import subprocess
import sys

import pytest
import pyttsx3.drivers._espeak

from audiobook.engine import SAMPLE_RATE_HZ, EspeakEngine, Voice, VoiceInfo, engine_id, get_engine
from audiobook.errors import EngineError


def cli_pcm(text: str, voice: Voice) -> bytes:
    """What the espeak-ng program says for the same settings, without its 44-byte WAV header."""
    command = ["espeak-ng", "-v", voice.voice_id, "-s", str(voice.rate_wpm), "-p", str(voice.pitch),
               "-a", str(round(voice.volume * 100)), "--stdout", text]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout[44:]


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return get_engine()


def test_get_engine_returns_one_engine_per_process(engine: EspeakEngine) -> None:
    assert get_engine() is engine
    with pytest.raises(EngineError, match="get_engine"):
        EspeakEngine()


def test_id_names_exact_versions(engine: EspeakEngine) -> None:
    assert engine.id == engine_id()
    assert re.fullmatch(r"espeak-ng \S+ / pyttsx3 \S+", engine.id)
    assert engine.id.endswith("pyttsx3 " + importlib.metadata.version("pyttsx3"))
    assert engine.sample_rate_hz == 22050


def test_missing_library_becomes_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.delitem(sys.modules, "pyttsx3.drivers._espeak")
    monkeypatch.delattr(pyttsx3.drivers, "_espeak")
    monkeypatch.setattr(ctypes.cdll, "LoadLibrary", no_library)
    engine_id.cache_clear()
    try:
        with pytest.raises(EngineError) as error:
            engine_id()
    finally:
        engine_id.cache_clear()
    assert str(error.value) == (
        "eSpeak NG is not installed: run `sudo apt-get install espeak-ng` (or `bash setup.sh`)"
    )


def test_voices_lists_languages_and_variants(engine: EspeakEngine) -> None:
    voices = {voice.voice_id: voice for voice in engine.voices()}
    assert voices["en-us"] == VoiceInfo("en-us", "English (America)", "en-us", None, "voice")
    assert voices["en"].language == "en-gb"
    assert {"+f1", "+f2", "+f3", "+f4", "+f5", "+m1", "+m2", "+m3", "+Annie", "+klatt"} <= voices.keys()
    assert voices["+f3"] == VoiceInfo("+f3", "female3", "", "female", "variant")
    assert voices["+m3"].gender == "male"
    assert voices["+Annie"].gender == "female"
    assert not any(voice_id.startswith(("mb", "+mb")) for voice_id in voices)


def test_voices_filters_by_language_but_keeps_variants(engine: EspeakEngine) -> None:
    english = engine.voices("en")
    base_ids = {voice.voice_id for voice in english if voice.kind == "voice"}
    assert {"en", "en-us", "en-gb-scotland"} <= base_ids
    assert "de" not in base_ids
    assert {voice.voice_id for voice in english if voice.kind == "variant"} == {
        voice.voice_id for voice in engine.voices() if voice.kind == "variant"
    }


@pytest.mark.parametrize("voice_id", ["en-us", "en-us+f3", "en+m3", "en-gb-scotland+Annie", "de+klatt", "EN-US"])
def test_check_voice_accepts_real_voices(engine: EspeakEngine, voice_id: str) -> None:
    """A voice the check lets through is one eSpeak NG really speaks in (any letter case)."""
    voice = Voice(voice_id)
    assert engine.check_voice(voice) is None
    assert len(engine.synthesize("Hello there.", voice)) // 2 > SAMPLE_RATE_HZ // 4  # 16-bit samples: over 0.25 s


def one_line_error(engine: EspeakEngine, voice: Voice) -> str:
    with pytest.raises(EngineError) as error:
        engine.check_voice(voice)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_misspelt_variant_is_named_with_suggestions(engine: EspeakEngine) -> None:
    message = one_line_error(engine, Voice("en-us+f9"))
    assert "'f9'" in message and "did you mean" in message and "'f3'" in message


def test_variant_names_are_case_sensitive(engine: EspeakEngine) -> None:
    assert "did you mean 'f3'" in one_line_error(engine, Voice("en-us+F3"))


def test_unknown_voice_is_rejected(engine: EspeakEngine) -> None:
    assert "'xx-nope'" in one_line_error(engine, Voice("xx-nope"))


def test_language_code_suggests_the_voice_that_speaks_it(engine: EspeakEngine) -> None:
    assert "did you mean 'en'" in one_line_error(engine, Voice("en-gb"))


@pytest.mark.parametrize(
    ("voice", "field"),
    [
        (Voice(rate_wpm=5), "rate_wpm"),
        (Voice(rate_wpm=451), "rate_wpm"),
        (Voice(pitch=100), "pitch"),
        (Voice(pitch=-1), "pitch"),
        (Voice(volume=2.5), "volume"),
        (Voice(volume=float("nan")), "volume"),
        (Voice(rate_wpm=175.5), "rate_wpm"),  # type: ignore[arg-type]
    ],
)
def test_out_of_range_settings_are_rejected(engine: EspeakEngine, voice: Voice, field: str) -> None:
    assert field in one_line_error(engine, voice)


def test_synthesize_rejects_bad_voices_too(engine: EspeakEngine) -> None:
    with pytest.raises(EngineError, match="f9"):
        engine.synthesize("Hello.", Voice("en-us+f9"))


def test_synthesize_returns_pcm(engine: EspeakEngine) -> None:
    pcm = engine.synthesize("Hello world, this is a test.", Voice())
    seconds = len(pcm) / 2 / engine.sample_rate_hz
    assert len(pcm) % 2 == 0
    assert 1.0 < seconds < 5.0


def test_synthesize_is_deterministic(engine: EspeakEngine) -> None:
    voice = Voice("en-us+m3", rate_wpm=160)
    first = engine.synthesize("The same words, twice.", voice)
    engine.synthesize("Something else in between, with another voice.", Voice("en+f2", rate_wpm=300))
    assert engine.synthesize("The same words, twice.", voice) == first


def test_different_voices_sound_different(engine: EspeakEngine) -> None:
    text = "Which voice is this?"
    voice_ids = ("en-us", "en-us+f3", "en-us+m3", "en")
    outputs = {voice_id: engine.synthesize(text, Voice(voice_id)) for voice_id in voice_ids}
    assert len(set(outputs.values())) == len(outputs)


def test_slower_rate_gives_longer_audio(engine: EspeakEngine) -> None:
    text = "A sentence long enough to measure how fast it is spoken."
    slow = engine.synthesize(text, Voice(rate_wpm=100))
    fast = engine.synthesize(text, Voice(rate_wpm=300))
    assert len(slow) > 2 * len(fast)


def test_volume_scales_loudness(engine: EspeakEngine) -> None:
    def peak(pcm: bytes) -> int:
        return max(abs(sample) for sample in memoryview(pcm).cast("h"))

    loud = engine.synthesize("Loud and quiet.", Voice(volume=1.0))
    quiet = engine.synthesize("Loud and quiet.", Voice(volume=0.3))
    assert peak(quiet) < 0.5 * peak(loud)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_blank_text_gives_no_audio(engine: EspeakEngine, text: str) -> None:
    assert engine.synthesize(text, Voice()) == b""


@pytest.mark.parametrize("text", ["...", "?!", "—", "“”", "*"])
def test_punctuation_only_text_works(engine: EspeakEngine, text: str) -> None:
    pcm = engine.synthesize(text, Voice())
    assert len(pcm) % 2 == 0


def test_control_characters_and_unicode_are_spoken(engine: EspeakEngine) -> None:
    assert len(engine.synthesize("Hello\x00there\x07, café naïve — “quoted”.", Voice())) > 22050


@pytest.mark.needs_espeak
@pytest.mark.parametrize(
    "voice",
    [
        Voice(),
        Voice("en-us+f3", 220, 70),
        Voice("en+m3", 120, 30, 0.5),
        Voice("en-gb-scotland+Annie"),
        Voice("de+klatt"),
    ],
)
def test_output_is_byte_identical_to_the_espeak_ng_program(engine: EspeakEngine, voice: Voice) -> None:
    text = "Is this exactly what espeak says? Yes, 42 times."
    assert engine.synthesize(text, voice) == cli_pcm(text, voice)



@pytest.mark.needs_espeak
def test_output_does_not_depend_on_rand_calls_elsewhere_in_the_process(engine: EspeakEngine) -> None:
    """Breathy variants draw noise from the C library's rand(): whatever else in the process calls it
    must not change eSpeak's speech."""
    import ctypes

    libc = ctypes.CDLL(None)
    for _ in range(3):
        libc.rand()
    voice = Voice("en-us+f3", 220, 70)
    text = "Is this exactly what espeak says? Yes, 42 times."
    assert engine.synthesize(text, voice) == cli_pcm(text, voice)
