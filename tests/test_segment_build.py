"""`audiobook segment` shows what `audiobook build` speaks: the same chapters, one cast per book,
the same speaker for every line; its JSON points into the file as read."""

import json
from itertools import pairwise
from pathlib import Path

from typer.testing import CliRunner

from audiobook.cli import app
from audiobook.plan import BuildOptions, plan

# A long text split at its chapter headings. Chapter 2 calls him only "Prest": read alone it
# would make a second character of him; read as part of the book he is Hallam Prest.
LIGHTHOUSE = """The Lighthouse

Chapter 1

Hallam Prest kept the light on the northern point.
Hallam Prest had kept it for thirty years, and his niece Ruth came every summer.

"The glass wants cleaning," said Hallam Prest.

"I'll do it," said Ruth.

"Mind the wick."

Chapter 2

The storm came in the night. Prest climbed the stairs with the lamp, and Ruth followed him.

"Hold the rail," said Prest.

"I am holding it."

"Then hold it tighter."

Chapter 3

In the morning the sea was flat. Ruth found her uncle asleep in his chair by the lamp.

"Uncle, the boat is in," said Ruth.
"""


def segment_json(source: Path, out: Path) -> dict:
    result = CliRunner().invoke(app, ["segment", str(source), "--json-dir", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / f"{source.stem}.json").read_text(encoding="utf-8"))


def test_segment_and_build_give_every_line_the_same_speaker(tmp_path: Path) -> None:
    source = tmp_path / "lighthouse.txt"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    voices = tmp_path / "voices.toml"
    voices.write_text("", encoding="utf-8")
    book = plan(BuildOptions(sources=(source,), output_dir=tmp_path / "out", voices_path=voices))
    assert len(book.chapters) >= 3  # split at its headings
    built = {
        chapter.script.story.offset + line.start: line.speaker
        for chapter in book.chapters
        for line in chapter.script.lines
        if line.kind == "dialogue"
    }
    segments = segment_json(source, tmp_path / "json")["segments"]
    shown = {s["start"]: s["speaker"] for s in segments if s["kind"] == "dialogue"}
    assert shown == built
    assert len(shown) == 7
    chapter2 = LIGHTHOUSE.index("Chapter 2")
    assert shown[LIGHTHOUSE.index('"Hold the rail,"')] == "Hallam Prest"  # one cast for the book
    assert {shown[k] for k in shown if k > chapter2} == {"Hallam Prest", "Ruth"}


def test_segment_json_offsets_point_into_the_file_as_read(tmp_path: Path) -> None:
    source = tmp_path / "lighthouse.txt"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    document = segment_json(source, tmp_path / "json")
    segments = document["segments"]
    assert segments[0]["start"] == 0 and segments[-1]["end"] == len(LIGHTHOUSE)  # the whole file, headings too
    assert all(a["end"] == b["start"] for a, b in pairwise(segments))
    for s in segments:
        if s["kind"] == "dialogue":
            assert LIGHTHOUSE[s["start"]] == '"', LIGHTHOUSE[s["start"] : s["end"]]
    names = [c["name"] for c in document["characters"]]
    assert names == ["Hallam Prest", "Ruth"]  # counted over the whole book


def test_a_folder_is_one_book_with_one_cast_and_a_document_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "book"
    folder.mkdir()
    one, two = LIGHTHOUSE.split("Chapter 2")
    (folder / "01.txt").write_text(one, encoding="utf-8")
    (folder / "02.txt").write_text("Chapter 2" + two, encoding="utf-8")
    out = tmp_path / "json"
    result = CliRunner().invoke(app, ["segment", str(folder), "--json-dir", str(out)])
    assert result.exit_code == 0, result.output
    second = json.loads((out / "02.json").read_text(encoding="utf-8"))
    speakers = [s["speaker"] for s in second["segments"] if s["kind"] == "dialogue"]
    assert speakers[0] == "Hallam Prest"  # named in the first file
    assert second["segments"][-1]["end"] == len("Chapter 2" + two)
