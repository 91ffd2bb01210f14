"""Hostile and unusual input (issue 15): one section per class of defect, each test named after its class."""

from __future__ import annotations

from pathlib import Path

import pytest
from rawepub import write_epub, xhtml
from typer.testing import CliRunner

from audiobook.build import BuildOptions, plan
from audiobook.cli import app
from audiobook.spoken import spoken_words


def _plan(tmp_path: Path, *sources: Path):
    voices = tmp_path / "none.toml"
    voices.write_text("", encoding="utf-8")
    return plan(BuildOptions(sources=sources, output_dir=tmp_path / "out", voices_path=voices))


def _spoken(chapter) -> list[str]:
    return spoken_words(" ".join(u.text for u in chapter.utterances))


# --- scene dividers: what the loader reads as a break is never counted as words to speak ------

DIVIDERS = ["xXx", "oOoOo", "OoO", "000", "XXX", "xoxo", "~*~", "=====", "-----", "x X x", "o0o0o", "* * *", "___"]


@pytest.mark.parametrize("divider", DIVIDERS)
@pytest.mark.parametrize("kind", ["txt", "epub"])
def test_scene_dividers_are_breaks_never_words(tmp_path: Path, kind: str, divider: str) -> None:
    before = 'Anna walked home. "Wait," said Ben.'
    after = "The next morning was bright."
    if kind == "txt":
        source = tmp_path / "d.txt"
        source.write_text(f"The Long Road\n\n{before}\n\n{divider}\n\n{after}\n", encoding="utf-8")
    else:
        body = f"<h1>The Long Road</h1><p>{before}</p><p>{divider}</p><p>{after}</p>"
        source = write_epub(tmp_path / "d.epub", [xhtml(body)])
    [chapter] = _plan(tmp_path, source).chapters
    assert _spoken(chapter) == spoken_words(f"The Long Road {before} {after}")
    sections = {u.section for u in chapter.utterances}
    assert len(sections) == 2  # the divider still separates two scenes


def test_scene_divider_story_builds_from_the_command_line(tmp_path: Path) -> None:
    story = tmp_path / "d.txt"
    story.write_text('The Long Road\n\nAnna walked home. "Wait," said Ben.\n\nxXx\n\nThe next morning was bright.\n')
    voices = tmp_path / "none.toml"
    voices.write_text("")
    result = CliRunner().invoke(app, ["build", str(story), "-o", str(tmp_path / "out"), "--voices", str(voices), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "The Long Road" / "01 - The Long Road.mp3").is_file()
