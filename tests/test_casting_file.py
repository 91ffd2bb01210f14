"""A casting file belongs to its book: which voices.toml a build reads, and a book folder that holds another book."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiobook.casting_file import choose_casting_file
from audiobook.cli import app
from audiobook.plan import BuildOptions, plan

ROOT = Path(__file__).parent.parent

ANN_AND_BOB = (
    '[book]\ntitle = "The Orchard"\n\n[characters.Ann]\ngender = "female"\n\n[characters.Bob]\ngender = "male"\n'
)
ORCHARD = 'Ann climbed the wall. "Come on," she said.\n\n"Wait for me," Bob said.\n'
LIGHTHOUSE = 'The Lighthouse\n\nThe keeper lit the lamp. "Another storm," he said.\n\nThe sea did not answer.\n'


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def choose(sources: list[Path], text: str, title: str = "A Book", voices: Path | None = None):
    return choose_casting_file(voices, sources, title, [text])


def test_a_voices_toml_given_with_voices_is_used_whatever_the_book(here: Path) -> None:
    (here / "cast.toml").write_text(ANN_AND_BOB, encoding="utf-8")
    chosen = choose([here / "x.txt"], LIGHTHOUSE, voices=Path("cast.toml"))
    assert chosen.path == Path("cast.toml") and chosen.config.title == "The Orchard" and chosen.note is None


def test_a_voices_toml_in_the_books_folder_or_beside_its_file_is_the_books(here: Path) -> None:
    book = here / "book"
    book.mkdir()
    (book / "voices.toml").write_text(ANN_AND_BOB, encoding="utf-8")
    (here / "voices.toml").write_text('[book]\ntitle = "Something Else"\n', encoding="utf-8")
    for source in (book, book / "one.txt"):
        chosen = choose([source], LIGHTHOUSE)  # the book's own, even though it names no one the text mentions
        assert chosen.path == book / "voices.toml" and chosen.note is None


def test_a_voices_toml_in_the_current_folder_for_another_book_is_passed_over_in_one_line(here: Path) -> None:
    (here / "voices.toml").write_text(ANN_AND_BOB, encoding="utf-8")
    for source in (here / "lighthouse.txt", here / "elsewhere" / "lighthouse.txt"):
        chosen = choose([source], LIGHTHOUSE, title="Lighthouse")
        assert chosen.path is None and chosen.config.title is None and chosen.config.characters == ()
        assert chosen.note == (
            'voices.toml is the casting of "The Orchard", not of this book: pass --voices voices.toml to use it anyway'
        )


def test_a_voices_toml_in_the_current_folder_applies_to_its_own_book(here: Path) -> None:
    (here / "voices.toml").write_text(ANN_AND_BOB, encoding="utf-8")
    by_characters = choose([here / "orchard.txt"], ORCHARD, title="Orchard Days")
    by_title = choose([here / "orchard.txt"], LIGHTHOUSE, title="the orchard")
    assert by_characters.path == by_title.path == Path("voices.toml") and by_characters.note is None
    half = choose([here / "orchard.txt"], "Only Ann was there.", title="Orchard Days")  # one of its two characters
    assert half.path == Path("voices.toml")
    (here / "voices.toml").write_text('[narrator]\nvoice = "en+m3"\n', encoding="utf-8")
    general = choose([here / "lighthouse.txt"], LIGHTHOUSE)  # names no book and no one: settings for any book
    assert general.path == Path("voices.toml") and general.config.narrator.voice == "en+m3"


def test_the_sample_stories_are_cast_by_the_project_folders_voices_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    book = plan(BuildOptions((Path("seeds"),)))
    assert book.casting_file is not None and book.casting_file.path == Path("voices.toml")
    assert book.title == "Vocaloid Stories" and book.casting.role_for("Miku").source == "voices.toml"


def build(*args: str):
    return CliRunner().invoke(app, ["build", *args, "-j", "2"])


def test_a_build_beside_another_books_voices_toml_neither_renames_nor_overwrites_that_book(here: Path) -> None:
    (here / "voices.toml").write_text(ANN_AND_BOB, encoding="utf-8")
    (here / "orchard").mkdir()
    (here / "orchard" / "01 - the wall.txt").write_text(ORCHARD, encoding="utf-8")
    first = build("orchard")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith('Built "The Orchard" by Unknown author: 1 chapters')
    assert "\nCasting: voices.toml\n" in first.stdout
    orchard = here / "output" / "The Orchard"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in orchard.iterdir()}

    (here / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    novel = build("lighthouse.txt")
    assert novel.exit_code == 0, novel.output
    assert novel.stdout.startswith('Built "The Lighthouse" by Unknown author: 1 chapters')
    assert (
        '\nCasting: built-in voices (voices.toml is the casting of "The Orchard", not of this book: '
        "pass --voices voices.toml to use it anyway)\n"
    ) in novel.stdout
    assert sorted(p.name for p in (here / "output").iterdir() if not p.name.startswith(".")) == [
        "The Lighthouse",
        "The Orchard",
    ]

    # Asked to take the other book's name, the build refuses before writing anything...
    clash = build("lighthouse.txt", "--title", "The Orchard")
    assert clash.exit_code == 1 and clash.stdout == ""
    assert clash.stderr == (
        f"error: {Path('output') / 'The Orchard'}: holds another book, built from {here / 'orchard'}: "
        "choose another --output or --title, or pass --overwrite to replace it\n"
    )
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in orchard.iterdir()} == before

    # ...and replaces it only when told to.
    replaced = build("lighthouse.txt", "--title", "The Orchard", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert sorted(p.name for p in orchard.iterdir() if p.suffix == ".mp3") == [
        "01 - The Lighthouse.mp3",
        "The Orchard.mp3",
    ]
    again = build("orchard")  # the folder is the lighthouse's now: the orchard refuses in turn
    assert again.exit_code == 1 and "holds another book, built from" in again.stderr
    assert os.path.exists(orchard / "01 - The Lighthouse.mp3")


def test_a_book_folder_knows_its_book_by_its_sources_or_its_chapters(tmp_path: Path) -> None:
    from audiobook.build import BookIdentity, _Manifest, check_same_book
    from audiobook.errors import AudiobookError

    folder = tmp_path / "The Orchard"
    folder.mkdir()
    (folder / "01 - The Wall.mp3").write_bytes(b"")
    built = _Manifest(BookIdentity(("/books/orchard",), ("digest-1", "digest-2")), {"01 - The Wall.mp3": {}})
    check_same_book(folder, built, BookIdentity(("/books/orchard",), ("digest-9",)), overwrite=False)  # edited
    check_same_book(folder, built, BookIdentity(("/moved/orchard",), ("digest-2",)), overwrite=False)  # moved
    other = BookIdentity(("/books/lighthouse.txt",), ("digest-3",))
    with pytest.raises(AudiobookError, match=r"holds another book, built from /books/orchard: .* --overwrite"):
        check_same_book(folder, built, other, overwrite=False)
    check_same_book(folder, built, other, overwrite=True)
    older = _Manifest(None, {"01 - The Wall.mp3": {}})  # written before books were told apart: taken as this one
    check_same_book(folder, older, other, overwrite=False)
    with pytest.raises(AudiobookError, match="holds files that no audiobook build wrote"):
        check_same_book(folder, _Manifest(None, {}), other, overwrite=False)
    check_same_book(tmp_path / "new", _Manifest(None, {}), other, overwrite=False)  # a new folder
