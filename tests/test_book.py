"""Whole books: long texts split at their headings, Project Gutenberg files, EPUBs, front matter."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import write_pictures_epub
from ebooklib import epub

from audiobook.attribution import attribute
from audiobook.book import load_book
from audiobook.errors import InputError
from audiobook.load import load_story
from audiobook.segment import segment, speech_text
from audiobook.spoken import check_spoken, spoken_words

SEEDS = Path(__file__).parent.parent / "seeds"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def chapter_words(story) -> list[str]:
    return spoken_words(story.text)


# --- long plain text -------------------------------------------------------------------

NOVEL = """\
Chapter 1

Mira woke before the sun.

She packed in silence.


CHAPTER IV.

"Where are you going?" asked Ren.


Chapter Twelve: The Storm

Rain, and more rain.

Part One

Chapter 13

A new start, in a new part.
"""


def test_long_text_splits_at_headings_with_offsets_into_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "novel.txt", NOVEL)
    book = load_book(path)
    assert [c.title for c in book.chapters] == [
        "Chapter 1",
        "Chapter IV",
        "Chapter Twelve: The Storm",
        "Part One, Chapter 13",
    ]
    expected_bodies = [
        ["Mira woke before the sun.", "She packed in silence."],
        ['"Where are you going?" asked Ren.'],
        ["Rain, and more rain."],
        ["A new start, in a new part."],  # "Part One" and "Chapter 13" are both its heading
    ]
    for story, body in zip(book.chapters, expected_bodies, strict=True):
        assert NOVEL[story.offset : story.offset + len(story.text)] == story.text
        assert story.paragraphs[0].is_title
        assert [story.paragraph_text(i) for i, p in enumerate(story.paragraphs) if not p.is_title] == body
    assert [book.chapters[3].paragraph_text(i) for i in (0, 1)] == ["Part One", "Chapter 13"]
    # every word of the file is in exactly one chapter, in order
    assert [w for c in book.chapters for w in chapter_words(c)] == spoken_words(NOVEL)
    assert book.title == "Novel"


def test_markdown_headings_split_and_a_lone_top_heading_is_the_book(tmp_path: Path) -> None:
    text = "# My Book\n\n## The First\n\nOne.\n\n## The Second\n\nTwo.\n"
    book = load_book(write(tmp_path, "draft.md", text))
    assert book.title == "My Book"
    assert [c.title for c in book.chapters] == ["The First", "The Second"]
    assert [c.text for c in book.chapters] == ["# My Book\n\n## The First\n\nOne.", "## The Second\n\nTwo."]
    assert [c.offset for c in book.chapters] == [0, text.index("## The Second")]


def test_sentences_that_start_like_headings_do_not_split(tmp_path: Path) -> None:
    text = (
        "Part two of the plan failed.\n\nChapter one. She ran away to sea, and never came back.\n\n"
        "Book did not matter.\n\nThe end.\n"
    )
    path = write(tmp_path, "s.txt", text)
    book = load_book(path)
    assert len(book.chapters) == 1
    assert book.chapters[0] == load_story(path)  # one chapter: exactly what load_story gives


def test_a_single_heading_does_not_split(tmp_path: Path) -> None:
    path = write(tmp_path, "one.txt", "Chapter 1\n\nOnly one chapter here.\n")
    (story,) = load_book(path).chapters
    assert story.offset == 0 and story.text == path.read_text()


GUTENBERG = """\
\ufeffThe Project Gutenberg eBook of A Small Tale

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost.

Title: A Small Tale

Author: Jane Doe

Language: English

*** START OF THE PROJECT GUTENBERG EBOOK A SMALL TALE ***

Produced by Some Volunteer and the Online Team

A SMALL TALE

by Jane Doe

CONTENTS

CHAPTER I. The Start

CHAPTER II. The Middle

CHAPTER III. The End


CHAPTER I.
The Start

It began on a Tuesday.


CHAPTER II.
The Middle

"Oh," said Mr. Smith.


CHAPTER III.
The End

And that was all.

End of the Project Gutenberg EBook of A Small Tale

*** END OF THE PROJECT GUTENBERG EBOOK A SMALL TALE ***

Section 1. General Terms of Use and Redistributing Project Gutenberg
"""


def test_gutenberg_header_and_licence_are_left_out(tmp_path: Path) -> None:
    path = write(tmp_path, "pg123.txt", GUTENBERG)
    text = path.read_text(encoding="utf-8-sig")
    book = load_book(path)
    assert (book.title, book.author, book.language) == ("A Small Tale", "Jane Doe", "en")
    assert [c.title for c in book.chapters] == [
        "Chapter I: The Start",
        "Chapter II: The Middle",
        "Chapter III: The End",
    ]
    first = book.chapters[0]  # the book's own title page and contents open it, as front matter
    assert [(s.kind, s.title) for s in first.sections] == [
        ("front-matter", "Title page"),
        ("scene", "Chapter I: The Start"),
    ]
    assert (
        first.paragraph_text(0) == "A SMALL TALE" and first.sections[first.paragraphs[0].section].title == "Title page"
    )
    assert [first.paragraph_text(i) for i, p in enumerate(first.paragraphs) if p.is_title] == ["CHAPTER I.\nThe Start"]
    words = [w for c in book.chapters for w in chapter_words(c)]
    story_part = text[text.index("A SMALL TALE\n") : text.index("End of the Project")]
    assert words == spoken_words(story_part)  # every story word, nothing of the header or licence
    for c in book.chapters:
        assert text[c.offset : c.offset + len(c.text)] == c.text
    assert book.chapters[1].paragraph_text(1) == '"Oh," said Mr. Smith.'


def test_gutenberg_without_markers_keeps_everything(tmp_path: Path) -> None:
    text = "Title: Not a header\n\nThe story goes on.\n"
    (story,) = load_book(write(tmp_path, "t.txt", text)).chapters
    assert spoken_words(story.text) == spoken_words(text)


# --- EPUB ------------------------------------------------------------------------------


def make_epub(
    path: Path, *, extra_docs: list[epub.EpubHtml] = (), cover: bytes | None = b"\xff\xd8\xff\xe0JFIF-cover"
) -> Path:
    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("The Glass Tower")
    book.set_language("en")
    book.add_author("Ada Writer")
    if cover:
        book.set_cover("images/cover.jpg", cover, create_page=True)
    c1 = epub.EpubHtml(title="Arrival", file_name="text/c1.xhtml", lang="en")
    c1.content = (
        "<html><body><h1>Arrival</h1>"
        "<p>Miku and Kaito walked in.\n  <em>Why me?</em> she thought.</p>"
        "<hr/>"
        "<p>\u201cHello,\u201d said <b>Kaito</b>.<br/>He waved.</p>"
        "</body></html>"
    )
    c2 = epub.EpubHtml(title="Departure", file_name="text/c2.xhtml", lang="en")
    c2.content = (
        "<html><body><p>They left.</p><p class='center'>* * *</p>"
        "<p>Later, <i>much <em>much</em></i> later.</p><div class='scenebreak'><img src='x.png'/></div>"
        "<p>Home.<script>alert(1)</script></p>"
        "<div id='last'><h2>Epilogue</h2><p>The end.</p></div></body></html>"
    )
    docs = [c1, c2, *extra_docs]
    for doc in docs:
        book.add_item(doc)
    book.toc = [
        epub.Link("text/c1.xhtml", "1. Arrival", "c1"),
        (
            epub.Section("Part Two"),
            [epub.Link("text/c2.xhtml", "2. Departure", "c2"), epub.Link("text/c2.xhtml#last", "Epilogue", "ep")],
        ),
    ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = (["cover"] if cover else []) + ["nav", *docs]
    epub.write_epub(str(path), book)
    return path


def test_epub_chapters_titles_metadata_and_cover(tmp_path: Path) -> None:
    book = load_book(make_epub(tmp_path / "tower.epub"))
    assert (book.title, book.author, book.language) == ("The Glass Tower", "Ada Writer", "en")
    assert book.cover == b"\xff\xd8\xff\xe0JFIF-cover" and book.cover_mime == "image/jpeg"
    # the contents' section "Part Two" is a volume: its chapters' titles start with it
    assert [c.title for c in book.chapters] == ["1. Arrival", "Part Two, 2. Departure", "Part Two, Epilogue"]
    assert [c.volume for c in book.chapters] == [None, "Part Two", "Part Two"]
    arrival, departure, epilogue = book.chapters
    assert arrival.text == (
        "Arrival\n\nMiku and Kaito walked in. _Why me_? she thought.\n\n* * *\n\n"
        "\u201cHello,\u201d said Kaito.\nHe waved.\n"
    )
    assert arrival.paragraphs[0].is_title  # the <h1> is read as the chapter title
    assert [s.title for s in arrival.sections] == ["Scene 1", "Scene 2"]
    assert departure.text == "They left.\n\n* * *\n\nLater, _much much_ later.\n\n* * *\n\nHome.\n"
    assert len(departure.sections) == 3
    assert epilogue.text == "Epilogue\n\nThe end.\n"
    assert all(c.path == tmp_path / "tower.epub" and c.offset == 0 for c in book.chapters)


def test_epub_dialogue_and_thoughts_survive_to_the_script(tmp_path: Path) -> None:
    arrival = load_book(make_epub(tmp_path / "tower.epub")).chapters[0]
    script = attribute(segment(arrival))
    spoken = [speech_text(arrival.text[line.start : line.end]) for line in script.lines]
    check_spoken(arrival.text, spoken, arrival.path)
    assert "why me" in " ".join(spoken).lower()
    hello = next(line for line in script.lines if "Hello" in arrival.text[line.start : line.end])
    assert hello.kind == "dialogue" and hello.speaker == "Kaito"


def test_epub_gutenberg_licence_is_left_out(tmp_path: Path) -> None:
    licence = epub.EpubHtml(title="Licence", file_name="text/pg-footer.xhtml")
    licence.content = (
        "<html><body><p>The story's last words.</p>"
        "<p>*** END OF THE PROJECT GUTENBERG EBOOK THE GLASS TOWER ***</p>"
        "<p>Section 1. General Terms of Use</p></body></html>"
    )
    after = epub.EpubHtml(title="More licence", file_name="text/more.xhtml")
    after.content = "<html><body><p>Donations are welcome.</p></body></html>"
    book = load_book(make_epub(tmp_path / "pg.epub", extra_docs=[licence, after]))
    assert book.chapters[-1].text == "The story's last words.\n"


def test_epub_without_cover_or_toc_titles(tmp_path: Path) -> None:
    path = make_epub(tmp_path / "plain.epub", cover=None)
    book = load_book(path)
    assert book.cover is None and book.cover_mime is None


CONTAINER = (
    b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    b'<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", "not an EPUB (not a zip archive): check the file"),
        ({}, "not an EPUB (no META-INF/container.xml): check the file"),
        ({"META-INF/container.xml": CONTAINER}, "broken EPUB (OEBPS/content.opf is missing): check the file"),
        ({"META-INF/container.xml": CONTAINER, "OEBPS/content.opf": b"<package><oops"}, "broken EPUB ("),
    ],
)
def test_broken_epubs(tmp_path: Path, data: bytes | dict, message: str) -> None:
    path = tmp_path / "bad.epub"
    if isinstance(data, dict):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("mimetype", "application/epub+zip")
            for name, content in data.items():
                zf.writestr(name, content)
    else:
        path.write_bytes(data)
    with pytest.raises(InputError) as err:
        load_book(path)
    assert str(err.value).startswith(f"{path}: {message}")
    assert "\n" not in str(err.value)


def test_epub_of_pictures_only(tmp_path: Path) -> None:
    path = write_pictures_epub(tmp_path / "pics.epub")
    with pytest.raises(InputError, match=r"pics.epub: the EPUB has no text to read"):
        load_book(path)


# --- folders, broken bytes -----------------------------------------------------------


def test_seed_folder_gives_the_same_stories_as_load_story() -> None:
    book = load_book(SEEDS)
    assert book.title == "Seeds"
    assert book.chapters == tuple(load_story(p) for p in sorted(SEEDS.glob("*.txt")))


def test_a_few_broken_bytes_are_replaced_not_misread(tmp_path: Path) -> None:
    good = "Caf\u00e9 \u201cLumi\u00e8re\u201d \u2014 na\u00efve r\u00e9sum\u00e9. "
    path = tmp_path / "broken.txt"
    path.write_bytes(good.encode() * 3 + b"\xff" + b" and \xed\xa0\x80 more.\n")
    book = load_book(path)
    (story,) = book.chapters
    assert story.text.startswith(good * 3)  # not misread as a legacy encoding
    assert story.text == path.read_text(encoding="utf-8", errors="replace")
    assert book.warnings == (f"{path}: 4 undecodable characters skipped: save the file as UTF-8 to keep them",)
