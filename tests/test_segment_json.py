"""The `segment --json-dir` output tiles the text: segments in order, no gaps, no overlap."""

import hashlib
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from audiobook.attribution import attribute, script_json
from audiobook.load import parse_story
from audiobook.segment import segment

SEEDS = sorted((Path(__file__).parent.parent / "seeds").glob("*.txt"))
PIECES = st.sampled_from(
    list("ab Zé\"“”‘’'.,!?—-\n*")
    + ["Kaito ", "said ", "she ", "I ", "\n\n", "\n\n\n", "—", "--", "'Tis ", "Mr. ", "\u200b", "𝄞"]
)


def assert_tiles(text: str) -> dict:
    data = script_json(attribute(segment(parse_story(Path("s.txt"), text, "utf-8"))), "s.txt")
    pos = 0
    for s in data["segments"]:
        assert s["start"] == pos and s["end"] > s["start"]
        assert s["kind"] in ("narration", "dialogue")
        if s["kind"] == "narration":
            assert s["speaker"] is None
        pos = s["end"]
    assert pos == len(text)
    assert data["text_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    return data


def test_seed_segments_tile_their_text() -> None:
    for path in SEEDS:
        data = assert_tiles(path.read_text(encoding="utf-8"))
        assert any(s["kind"] == "dialogue" for s in data["segments"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=120).map("".join).filter(lambda t: any(c.isalpha() for c in t)))
def test_any_text_tiles(text: str) -> None:
    assert_tiles(text)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=400).filter(lambda t: any(c.isalnum() for c in t) and "\x00" not in t))
def test_arbitrary_unicode_tiles(text: str) -> None:
    text = text.replace("\r", "\n")
    assert_tiles(text)


def test_very_long_paragraph_with_unbalanced_quotes() -> None:
    text = ('Kaito said, "yes and no ' * 4000) + "\n\n\u201cNever closed"
    assert_tiles(text)


def test_attribution_does_not_depend_on_hash_order(tmp_path: Path) -> None:
    """The same story gets the same speakers in every run: no set or hash order decides a speaker
    (a build's clip cache and its MP3s depend on who speaks each line)."""
    import os
    import subprocess
    import sys

    two_addressed = tmp_path / "two_addressed.txt"  # two names addressed at once: which answers?
    two_addressed.write_text(
        'Tom laughed. Ann smiled. Bill frowned.\n\n"Tom, Ann, come here!" said Bill.\n\n'
        '"What is it?"\n\n"Look at this."\n',
        encoding="utf-8",
    )
    stories = [*SEEDS, *sorted((Path(__file__).parent / "golden").glob("*.txt")), two_addressed]
    outputs = []
    for seed in ("1", "2", "3", "4"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "audiobook.cli", "segment", *map(str, stories), "--json-dir", str(out)],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append({p.name: p.read_bytes() for p in sorted(out.glob("*.json"))})
    assert len(outputs[0]) == len(stories)
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3]


def test_json_dir_writes_whole_files_and_a_file_in_the_way_is_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audiobook.cli import app

    story = tmp_path / "story.txt"
    story.write_text('"Come in," said Ann.\n\nTom came in.\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["segment", str(story), "--json-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'out' / 'story.json'}: 1 line of dialogue\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["story.json"]  # no temporary file left
    in_the_way = tmp_path / "taken"
    in_the_way.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["segment", str(story), "--json-dir", str(in_the_way)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {in_the_way}: File exists: a file is where a folder should be: move it or choose another folder\n"
    )


# Made up for this test: Sam is a woman by the text ("she", "Miss"), but the casting gives her a
# man's voice; a voice nobody names (a speaker of unknown gender) answers from behind a door.
CAST_STORY = """\
Miss Sam Lark came to the gate at dusk. She knocked twice and waited.

"Is anyone at home?" Sam asked.

"Who wants to know?" a voice answered from behind the door.

"Only me," Sam said. She smiled at the dark windows.

"Then go away," the voice said.
"""


def _segment_json(tmp_path: Path, voices_toml: str) -> dict[str, str | None]:
    from typer.testing import CliRunner

    from audiobook.cli import app

    folder = tmp_path / "book"
    folder.mkdir(exist_ok=True)
    (folder / "gate.txt").write_text(CAST_STORY, encoding="utf-8")
    (folder / "voices.toml").write_text(voices_toml, encoding="utf-8")
    out = tmp_path / "json"
    result = CliRunner().invoke(app, ["segment", str(folder / "gate.txt"), "--json-dir", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "gate.json").read_text(encoding="utf-8"))
    return {c["name"]: c["gender"] for c in document["characters"]}


def test_json_gender_is_the_gender_of_the_voice_each_character_gets(tmp_path: Path) -> None:
    detected = _segment_json(tmp_path, "[book]\ntitle = \"Gate\"\n")
    assert detected["Sam"] == "female" and detected["a voice"] is None  # what the text says
    # a voice chosen in voices.toml, with no gender: the gender that voice declares (en-us+m3: male)
    chosen = _segment_json(tmp_path, '[characters.Sam]\nvoice = "en-us+m3"\n')
    assert chosen["Sam"] == "male"
    # a voice from the casting's pool of women, chosen for him
    pooled = _segment_json(tmp_path, '[characters.Sam]\nvoice = "en-029"\n\n[pools]\nfemale = ["en-029", "en-us+f2"]\n')
    assert pooled["Sam"] == "female"
    # a listed gender wins over the voice's; a speaker of unknown gender with a neutral voice stays unknown
    listed = _segment_json(
        tmp_path, '[characters.Sam]\ngender = "female"\nvoice = "en-us+m3"\n\n[pools]\nother = ["en-us+klatt"]\n'
    )
    assert listed == {**listed, "Sam": "female", "a voice": None}
