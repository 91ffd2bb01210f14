"""The studio's edits to a casting file: each changes what it says and nothing else, keeping the
user's comments, blank lines and order; what they write is a casting file audiobook reads."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

pytest.importorskip("tomlkit", reason="the studio extra is not installed: pip install -e '.[studio]'")

from audiobook.config import load_config  # noqa: E402
from audiobook.errors import ConfigError  # noqa: E402
from audiobook.studio.edits import (  # noqa: E402
    FixLine,
    Merge,
    NotCharacter,
    SetGender,
    SetVoice,
    apply_edits,
)

CASTING = """\
# My book's casting. Keep this comment.

[book]
title = "Night Train"   # the album

[narrator]
voice = "en"   # British
rate = 165

# The conductor, who talks a lot
[characters.Tom]
aliases = ["Mr. Reyes"]  # what the porter calls him
gender = "male"
voice = "en-us+m3"
rate = 170
pitch = 40

[characters."Ann Lee"]
voice = "en-us+f2"

[characters.Porter]
voice = "en+m4"   # gruff
"""


def changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


def read(tmp_path: Path, text: str):  # noqa: ANN201 - a Config
    path = tmp_path / "voices.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_a_voice_change_touches_only_that_characters_keys(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [SetVoice("Tom", "en-us+m7", 180, 40)])
    assert changed(CASTING, after) == ['- voice = "en-us+m3"', '+ voice = "en-us+m7"', "- rate = 170", "+ rate = 180"]
    tom = next(c for c in read(tmp_path, after).characters if c.name == "Tom")
    assert (tom.settings.voice, tom.settings.rate, tom.settings.pitch) == ("en-us+m7", 180, 40)


def test_the_narrator_and_a_quoted_name(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [SetVoice("narrator", "en-us", 150, 30), SetVoice("Ann Lee", "en-us+f4", 170, 60)])
    config = read(tmp_path, after)
    assert (config.narrator.voice, config.narrator.rate, config.narrator.pitch) == ("en-us", 150, 30)
    assert 'voice = "en-us"   # British' in after  # the comment stays on its line
    ann = next(c for c in config.characters if c.name == "Ann Lee")
    assert (ann.settings.voice, ann.settings.pitch) == ("en-us+f4", 60)


def test_a_character_not_listed_yet_gets_a_table_at_the_end(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [SetVoice("a little girl", "en-us+Annie", 170, 70)])
    assert after.startswith(CASTING)
    assert after[len(CASTING):] == '\n[characters."a little girl"]\nvoice = "en-us+Annie"\nrate = 170\npitch = 70\n'
    assert [c.name for c in read(tmp_path, after).characters] == ["Tom", "Ann Lee", "Porter", "a little girl"]


def test_gender_set_and_made_unknown(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [SetGender("Ann Lee", "female"), SetGender("Tom", None)])
    config = read(tmp_path, after)
    assert {c.name: c.gender for c in config.characters} == {"Tom": None, "Ann Lee": "female", "Porter": None}
    with pytest.raises(ConfigError):
        apply_edits(CASTING, [SetGender("Tom", "robot")])


def test_merge_makes_the_second_an_alias_and_drops_its_table(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [Merge("Porter", "Tom")])
    config = read(tmp_path, after)
    assert [c.name for c in config.characters] == ["Tom", "Ann Lee"]
    assert config.characters[0].aliases == ("Mr. Reyes", "Porter")
    assert "# what the porter calls him" in after and "# The conductor, who talks a lot" in after
    merged = apply_edits(CASTING, [Merge("the stranger", "Ann Lee")])  # someone the file did not list
    assert next(c for c in read(tmp_path, merged).characters if c.name == "Ann Lee").aliases == ("the stranger",)
    for bad in (Merge("Tom", "Tom"), Merge("narrator", "Tom")):
        with pytest.raises(ConfigError):
            apply_edits(CASTING, [bad])


def test_merging_an_alias_moves_it(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [Merge("Mr. Reyes", "Porter")])
    config = read(tmp_path, after)  # one alias, one owner: a file audiobook accepts
    assert {c.name: c.aliases for c in config.characters}["Porter"] == ("Mr. Reyes",)
    assert {c.name: c.aliases for c in config.characters}["Tom"] == ()


def test_a_merge_brings_the_names_the_book_calls_them_by(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [Merge("Porter", "Tom", aliases=("Old Sam", "Tom", "Ann Lee", "Mr. Reyes"))])
    # another character's own name stays theirs; Tom is Tom already; Mr. Reyes is there once
    assert {c.name: c.aliases for c in read(tmp_path, after).characters}["Tom"] == ("Mr. Reyes", "Porter", "Old Sam")


def test_not_a_character() -> None:
    after = apply_edits(CASTING, [NotCharacter("Porter"), NotCharacter("Mr. Reyes"), NotCharacter("Paris")])
    assert "[characters.Porter]" not in after and "Mr. Reyes" not in after.split("[not_characters]")[0]
    assert after.endswith('[not_characters]\nnames = ["Porter", "Mr. Reyes", "Paris"]\n')
    assert apply_edits(after, [NotCharacter("paris")]) == after  # once is enough


def test_a_line_fix_is_added_then_changed_in_place(tmp_path: Path) -> None:
    after = apply_edits(CASTING, [FixLine("Where did the pony", "Tom")])
    assert after == CASTING + '\n[[lines]]\nquote = "Where did the pony"\nspeaker = "Tom"\n'
    again = apply_edits(after, [FixLine("Where did the pony go", "Porter", replaces="Where did the pony")])
    assert again == CASTING + '\n[[lines]]\nquote = "Where did the pony"\nspeaker = "Porter"\n'
    other = apply_edits(again, [FixLine("She looked", "Tom")])
    assert other.count("[[lines]]") == 2
    assert [(f.quote, f.speaker) for f in read(tmp_path, other).lines] == [
        ("Where did the pony", "Porter"), ("She looked", "Tom")]


def test_invalid_toml_is_one_line_naming_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^voices\.toml: invalid TOML: .*fix the syntax"):
        apply_edits("[book\n", [SetGender("Tom", "male")])
