"""Cast stage logic: hand casting, stable and distinct automatic voices.

Voice checking is the engine's job (tested against real eSpeak NG in test_engine.py and
test_cli.py); here a permissive checker keeps the tests on the casting rules themselves.
"""

from pathlib import Path

from audiobook.attribution import attribute
from audiobook.cast import cast
from audiobook.config import Config, load_config
from audiobook.engine import Voice
from audiobook.load import parse_story
from audiobook.preview import voice_from_config
from audiobook.segment import segment

ROOT = Path(__file__).parent.parent


def script_of(text: str):
    return attribute(segment(parse_story(Path("s.txt"), text, "utf-8")))


def no_check(voice) -> None:
    return None


STORY = """Kaito met Haku and Rin at the door. Haku smiled at her friend.

"Hello," Kaito said.

"Hi," Haku said.

"Hey," Rin said.
"""


def test_seed_casting_gives_each_main_character_their_own_voice() -> None:
    scripts = [attribute(segment(parse_story(p, p.read_text(encoding="utf-8"), "utf-8")))
               for p in sorted((ROOT / "seeds").glob("*.txt"))]
    casting = cast(scripts, load_config(ROOT / "voices.toml"), no_check)
    voices = {name: casting.role_for(name).voice for name in ("Miku", "Kaito", "Luka", "Haku", "Luki")}
    voices["narrator"] = casting.narrator.voice
    assert len({(v.voice_id, v.pitch) for v in voices.values()}) == 6
    assert casting.role_for("Hatsune Miku").name == "Miku"  # alias from voices.toml


def test_automatic_voices_are_distinct_and_stable() -> None:
    config = Config()
    first = cast([script_of(STORY)], config, no_check)
    voices = [(r.voice.voice_id, r.voice.pitch) for r in first.roles]
    assert len(set(voices)) == len(voices) == 3
    assert (first.narrator.voice.voice_id, first.narrator.voice.pitch) not in voices
    again = cast([script_of(STORY)], config, no_check)
    assert again == first
    # a new character later in the book does not move anyone's voice
    more = STORY + '\nGakupo came in. "Yo," Gakupo said.\n'
    extended = cast([script_of(more)], config, no_check)
    for role in first.roles:
        assert extended.role_for(role.name).voice == role.voice
    assert all(r.source == "auto" for r in extended.roles)


def test_pool_exhaustion_reuses_voices_at_another_pitch() -> None:
    config = Config(pools={"female": ("en-us+f1",), "male": ("en-us+m1",)})
    casting = cast([script_of(STORY)], config, no_check)
    voices = [(r.voice.voice_id, r.voice.pitch) for r in casting.roles]
    assert len(set(voices)) == 3


def test_a_voice_left_partly_unset_is_the_same_in_a_build_and_a_preview(tmp_path: Path) -> None:
    """Defaults fill what voices.toml leaves out in one place: a preview without a story (no casting
    run) gives a character the voice the build casts them with, field for field."""
    voices = tmp_path / "voices.toml"
    voices.write_text(
        '[narrator]\nvoice = "en+m3"\n\n[characters.Kaito]\nvoice = "en-us+m2"\n\n'
        '[characters.Haku]\nvoice = "en-us+f4"\nrate = 150\n\n[characters.Rin]\npitch = 70\n',
        encoding="utf-8",
    )
    config = load_config(voices)
    casting = cast([script_of(STORY)], config, no_check)
    assert voice_from_config(config, "Kaito") == casting.role_for("Kaito").voice == Voice("en-us+m2", 170, 50, 1.0)
    assert voice_from_config(config, "haku") == casting.role_for("Haku").voice == Voice("en-us+f4", 150, 50, 1.0)
    assert casting.narrator.voice == Voice("en+m3", 165, 45, 1.0)  # the narrator's own defaults
    rin = casting.role_for("Rin").voice  # no voice id: one from the pool, her pitch kept
    assert (rin.rate_wpm, rin.pitch, casting.role_for("Rin").source) == (170, 70, "auto")


UNKNOWN = """The door creaked open, and nobody could be seen in the hall.

"Who goes there?" called a voice from the dark.

Tom lifted his lamp. "Only me," he said.

"Then come in and shut the door," the voice answered.

"Who is that with you?" a stranger asked from the stairs.
"""


def test_a_speaker_of_unknown_gender_gets_the_narrators_voice_at_another_pitch() -> None:
    script = script_of(UNKNOWN)
    genders = {c.name: c.gender for c in script.characters}
    assert genders["Tom"] == "male" and genders["a voice"] is None and genders["a stranger"] is None
    config = Config()
    casting = cast([script], config, no_check)
    narrator = casting.narrator.voice
    gendered = set(config.pools["female"]) | set(config.pools["male"])
    unknown = [casting.role_for("a voice").voice, casting.role_for("a stranger").voice]
    for voice in unknown:
        assert voice.voice_id == narrator.voice_id and voice.voice_id not in gendered  # never a coin flip
        assert voice.pitch != narrator.pitch
    assert unknown[0].pitch != unknown[1].pitch  # told apart from each other too
    assert casting.role_for("Tom").voice.voice_id in config.pools["male"]
    assert cast([script], config, no_check) == casting  # stable


def test_a_speaker_of_unknown_gender_draws_only_from_the_neutral_pool_when_there_is_one() -> None:
    config = Config(pools={**Config().pools, "other": ("en-us+klatt", "en+whisper")})
    casting = cast([script_of(UNKNOWN)], config, no_check)
    voices = {casting.role_for(name).voice.voice_id for name in ("a voice", "a stranger")}
    assert voices == {"en-us+klatt", "en+whisper"}
    assert casting.role_for("Tom").voice.voice_id in config.pools["male"]
