"""voices.toml: every mistake is one line naming the file, the line and the fix."""

from pathlib import Path

import pytest

from audiobook.config import DEFAULT_POOLS, load_config
from audiobook.errors import ConfigError

ROOT = Path(__file__).parent.parent


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "voices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_voices_toml_is_valid() -> None:
    config = load_config(ROOT / "voices.toml")
    names = {c.name for c in config.characters}
    assert {"Miku", "Kaito", "Luka", "Haku", "Luki"} <= names
    assert config.title == "Vocaloid Stories"


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config.characters == ()
    assert config.pools == DEFAULT_POOLS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[book]\ntitle = \n", ":2: invalid TOML: Invalid value: fix the syntax"),
        ("[book]\ntitle = \"x\"\ncolour = \"red\"\n",
         ":3: unknown key 'colour' in [book]: use one of author, cover, front_matter, language, loudness_lufs, title"),
        ("[narrator]\nrate = \"fast\"\n", ":2: 'rate' must be a whole number, not 'fast'"),
        ("[narrator]\npitch = 150\n", ":2: 'pitch' = 150 is out of range: use 0 to 99"),
        ("\n[characters.Miku]\ngender = \"girl\"\n", ":3: gender 'girl' unknown: use \"female\" or \"male\""),
        ("[characters.Miku]\naliases = [\"Diva\"]\n\n[characters.Luka]\naliases = [\"Diva\"]\n",
         ":5: 'Diva' is claimed by both Miku and Luka: keep it under one character"),
        ("[voices]\nx = 1\n", ":1: unknown table [voices]: use [book], [narrator], [characters.NAME], [pools], "
         "[pronunciations], [engines.piper], [not_characters], [[lines]] or [build]"),
        ("[pools]\nfemale = []\n", ":2: pool 'female' is empty: list at least one voice"),
        ("[narrator]\nspeaker = -1\n", ":2: 'speaker' = -1 is out of range: use 0 to 99999"),
        ("[engines.espeak]\nvoices = \"x\"\n", ":1: unknown engine [engines.espeak]: use [engines.piper]"),
        ("[engines.piper]\nfolder = \"x\"\n", ":2: unknown key 'folder' in [engines.piper]: use one of voices"),
        ("[engines.piper]\nvoices = 3\n", ":2: 'voices' must be a string, not 3"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}{message}"
    assert "\n" not in str(err.value)


def test_piper_voices_folder_is_relative_to_the_file(tmp_path: Path) -> None:
    assert (
        load_config(config_file(tmp_path, '[engines.piper]\nvoices = "voices"\n')).piper_voices == tmp_path / "voices"
    )
    assert load_config(config_file(tmp_path, "[book]\n")).piper_voices is None


def test_a_speaker_becomes_part_of_the_voice_id(tmp_path: Path) -> None:
    from audiobook.cast import voice_of

    config = load_config(config_file(tmp_path, '[narrator]\nvoice = "piper:en_US-many-medium#3"\nspeaker = 12\n'))
    assert voice_of(config.narrator).voice_id == "piper:en_US-many-medium#12"  # the speaker key wins


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file: check --voices"):
        load_config(tmp_path / "nope.toml")


def test_readme_example_is_a_valid_voices_toml(tmp_path: Path) -> None:
    """The README documents every key in one example: it must load as it stands."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    config = load_config(config_file(tmp_path, example))
    assert config.front_matter == "read" and config.narrator_character_voice is True
    assert config.pronunciations == {"Miku": "Meeku"}
    assert config.characters[0].aliases == ("Hatsune Miku",)
    assert config.cover == tmp_path / "cover.png"


def test_lines_of_headers_found_alone_agree_with_the_full_index() -> None:
    """Headers are found in a pass over header lines only (keys only on an error): same lines."""
    from audiobook.config import _header_lines, _line_index, _Lines

    raw = (
        '# casting\n[book]\ntitle = "T"\n\n  [characters."Dr. Who"]\nvoice = "en"\n'
        "[characters.'a.b'.x]\n[[lines]]\nquote = \"Hi\"\n[ narrator ]\n[[lines]]\nspeaker = 'x'\n"
        '[characters."Dr. Who"]\n'
    )
    full = _line_index(raw)
    headers = _header_lines(raw)
    assert headers == {keys: line for keys, line in full.items() if keys in headers}
    assert headers[("characters", "Dr. Who")] == 5 and headers[("lines", "#1")] == 11
    lines = _Lines(raw)
    assert lines.get(("narrator",)) == 10 and lines.get(("lines", "quote")) == 9 and lines.get(("nope",)) == 0


def test_a_casting_file_deeper_than_the_fast_parser_reads_as_tomllib_reads_it(tmp_path: Path) -> None:
    """rtoml stops at a nesting depth tomllib reads: the file is then read by tomllib, as before."""
    path = tmp_path / "voices.toml"
    path.write_text("[pronunciations]\nx = " + "[" * 200 + "]" * 200 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"voices.toml:2: pronunciation of \"x\" must be a non-empty string"):
        load_config(path)
