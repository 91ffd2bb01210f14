"""Load stage: encodings, line endings, titles, notes, scene breaks, bad files."""

from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.load import find_stories, load_story, title_from_filename

SEEDS = Path(__file__).parent.parent / "seeds"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_offsets_match_python_text_mode_read(tmp_path: Path) -> None:
    path = write(tmp_path, "crlf.txt", "Title Here\r\n\r\n\ufeffShe said \u201chi.\u201d\r\nBye.\r\n".encode())
    story = load_story(path)
    with open(path, encoding=story.encoding) as f:
        assert story.text == f.read()
    assert "\r" not in story.text


def test_utf8_bom_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.txt", b"\xef\xbb\xbfHello there.\n")
    story = load_story(path)
    assert story.encoding == "utf-8-sig"
    assert story.text.startswith("Hello")


def test_legacy_encoding_is_detected(tmp_path: Path) -> None:
    text = "Ren\u00e9e sa\u00efd: \u00ab\u00c7a va tr\u00e8s bien, merci beaucoup \u00e0 vous.\u00bb " * 5
    path = write(tmp_path, "latin.txt", text.encode("cp1252"))
    story = load_story(path)
    assert story.text == text


def test_title_line_and_scene_breaks(tmp_path: Path) -> None:
    story = load_story(SEEDS / "01 - The Act of Leaving.txt")
    assert story.title == "The Act of Leaving"
    assert story.paragraphs[0].is_title
    assert [s.kind for s in story.sections] == ["scene", "scene", "back-matter"]
    assert story.sections[-1].title == "Author's note"


def test_title_from_file_name_when_no_title_line() -> None:
    story = load_story(SEEDS / "02 - Hope.txt")
    assert story.title == "Hope"
    assert not any(p.is_title for p in story.paragraphs)
    assert title_from_filename(Path("07_the_long-night.txt")) == "The Long Night"


def test_front_matter(tmp_path: Path) -> None:
    story = load_story(SEEDS / "04 - Shiroshi.txt")
    assert [s.kind for s in story.sections] == ["front-matter", "scene"]
    first = story.paragraph_text(0)
    assert first.startswith("Author's Notes:")


def test_separator_lines_break_scenes(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", b"One went out.\n\n***\n\nTwo came in.\n\n-- -- --\n\nThree sat.\n")
    story = load_story(path)
    assert [s.title for s in story.sections] == ["Scene 1", "Scene 2", "Scene 3"]
    assert [story.paragraph_text(i) for i in range(3)] == ["One went out.", "Two came in.", "Three sat."]


def test_hard_wrapped_and_one_paragraph_per_line(tmp_path: Path) -> None:
    wrapped = (
        "It was a dark and stormy night; the rain fell in torrents, except\n"
        "at occasional intervals.\n\nNext paragraph.\n"
    )
    story = load_story(write(tmp_path, "w.txt", wrapped.encode()))
    assert len(story.paragraphs) == 2
    long_line = "word " * 30
    per_line = f"{long_line}\n{long_line}\n{long_line}\n"
    story = load_story(write(tmp_path, "l.txt", per_line.encode()))
    assert len(story.paragraphs) == 3


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "the story is empty: it has no words to read"),
        ("blank.txt", b"  \n\n***\n", "the story is empty: it has no words to read"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file, not a story: give a plain text file"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(InputError) as err:
        load_story(path)
    assert str(err.value) == f"{path}: {message}"


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        find_stories(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="folder has no stories"):
        find_stories(tmp_path)


def test_folder_is_a_book_in_name_order() -> None:
    assert [p.name for p in find_stories(SEEDS)] == sorted(p.name for p in SEEDS.glob("*.txt"))
