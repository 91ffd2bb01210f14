"""Golden files: each tests/golden/NAME.txt is a story, NAME.script its expected script, each
line of dialogue as `speaker [rule]: text`, so that a diff says which rule changed.

Set UPDATE_GOLDEN=1 to rewrite the .script files after a deliberate change; review the diff.
"""

import os
from pathlib import Path

import pytest

from audiobook.attribution import attribute, format_script
from audiobook.load import load_story
from audiobook.segment import segment

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.txt"))


@pytest.mark.parametrize("story_path", CASES, ids=[p.stem for p in CASES])
def test_golden_script(story_path: Path) -> None:
    script = attribute(segment(load_story(story_path)))
    actual = format_script(script, rules=True)
    expected_path = story_path.with_suffix(".script")
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"no golden file for {story_path.name}: run with UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")
