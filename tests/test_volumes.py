"""A novel in volumes: chapter numbers restarting in each volume, an inner title page, illustration
markers and "END OF VOL. I." lines. Chapter titles carry the volume, the pages between volumes are
front matter (read under their own mark, or skipped), and the whole book's table of contents has a
level per volume."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from mutagen.id3 import ID3, CTOCFlags
from typer.testing import CliRunner

from audiobook.attribution import attribute
from audiobook.book import load_book
from audiobook.cli import app
from audiobook.feed import PODCAST_NS
from audiobook.load import parse_story
from audiobook.matter import drop_matter, expected_text
from audiobook.segment import segment, speech_text
from audiobook.spoken import check_spoken, spoken_words
from audiobook.volumes import end_of_volume, title_page_like, volume_heading

# Written for these tests: three volumes, the first without a heading of its own (as in many
# printed novels), the second's heading inside a reprinted title page, the third's in words.
NOVEL = """\
CHAPTER I.


Maud found the lantern on the stair. "Who left this here?" she asked.

Nobody answered her.


CHAPTER II.


The house was quiet all winter.

[Illustration: The lantern on the stair.]

In spring the letters began to come.


END OF VOL. I.




[Illustration: THE OLD MILL.]




THE LANTERN HOUSE:

A Novel.

In Three Volumes.

VOL. II.




London:
Printed for the Author.




CHAPTER I.


Tom came home in April. "The mill is sold," he said.


CHAPTER II.


Maud wrote to her aunt that evening.


END OF THE SECOND VOLUME.




VOLUME THE THIRD




CHAPTER I.


The wedding was in June, and the lantern hung above the door.
"""

TITLES = [
    "Volume I, Chapter I",
    "Volume I, Chapter II",
    "Volume II, Chapter I",
    "Volume II, Chapter II",
    "Volume III, Chapter I",
]
MARKERS = ("Illustration", "END OF", "THE OLD MILL", "In Three Volumes", "Printed for", "LANTERN HOUSE")


def test_volume_headings_and_closing_lines_are_recognised() -> None:
    assert [volume_heading(h).name for h in ("VOL. II.", "VOLUME THE SECOND", "BOOK III", "PART TWO", "Volume 4")] == [
        "Volume II", "Volume II", "Book III", "Part Two", "Volume 4",
    ]
    assert volume_heading("BOOK THE FIRST\n_SOWING_").title == "Book I: Sowing"
    assert volume_heading("Part two of the plan failed.") is None and volume_heading("Book did not matter.") is None
    assert [
        end_of_volume(line).name for line in ("END OF VOL. I.", "END OF THE SECOND VOLUME.", "End of Book the Third")
    ] == [
        "Volume I",
        "Volume II",
        "Book III",
    ]
    assert end_of_volume("THE END") is None and end_of_volume("The end of the book was near.") is None
    assert title_page_like('By the Author of "The Lantern House."') and title_page_like("[Illustration]")
    assert not title_page_like("To the mill, therefore, they went.") and not title_page_like('"Who is there?"')


def test_chapters_of_a_book_in_volumes_have_unique_titles_and_every_word_once(tmp_path: Path) -> None:
    path = tmp_path / "The Lantern House.txt"
    path.write_text(NOVEL, encoding="utf-8")
    book = load_book(path)
    assert [c.title for c in book.chapters] == TITLES
    assert [c.volume for c in book.chapters] == ["Volume I", "Volume I", "Volume II", "Volume II", "Volume III"]
    assert [w for c in book.chapters for w in spoken_words(c.text)] == spoken_words(NOVEL)
    for chapter in book.chapters:
        assert NOVEL[chapter.offset : chapter.offset + len(chapter.text)] == chapter.text
        for i, paragraph in enumerate(chapter.paragraphs):
            section = chapter.sections[paragraph.section]
            text = chapter.paragraph_text(i)
            if any(marker in text for marker in MARKERS):  # never a scene of the story
                assert section.kind in ("front-matter", "back-matter"), (chapter.title, text)
    first, second, third = book.chapters[1], book.chapters[2], book.chapters[4]
    assert [(s.kind, s.title) for s in first.sections] == [
        ("scene", "Volume I, Chapter II"), ("front-matter", "Illustration"), ("scene", "Volume I, Chapter II"),
        ("back-matter", "End of Volume I"),
    ]  # the scene goes on after its picture
    assert [(s.kind, s.title) for s in second.sections] == [
        ("front-matter", "Title page"), ("scene", "Volume II, Chapter I"),
    ]  # with the volume's frontispiece
    headings = [second.paragraph_text(i) for i, p in enumerate(second.paragraphs) if p.is_title]
    assert headings == ["VOL. II.", "CHAPTER I."]
    assert [third.paragraph_text(i) for i, p in enumerate(third.paragraphs) if p.is_title] == [
        "VOLUME THE THIRD",
        "CHAPTER I.",
    ]


def test_skipping_front_matter_keeps_the_volume_heading_with_the_chapter(tmp_path: Path) -> None:
    path = tmp_path / "The Lantern House.txt"
    path.write_text(NOVEL, encoding="utf-8")
    for story in load_book(path).chapters:
        script = drop_matter(attribute(segment(story)), "skip")
        spoken = [speech_text(script.story.text[line.start : line.end]) for line in script.lines]
        check_spoken(expected_text(script.story, "skip"), spoken, story.path)
        said = " ".join(spoken)
        assert not any(marker in said for marker in MARKERS), said
        sections = {
            script.story.sections[script.story.paragraphs[line.paragraph].section].kind for line in script.lines
        }
        assert sections == {"scene"}  # "VOL. II." is read at the start of the chapter, not under a mark of its own


def test_an_illustration_in_a_single_story_is_front_matter_and_the_scene_goes_on() -> None:
    text = "The Mill\n\nThe wheel turned.\n\n[Illustration]\n\nIt turned all night.\n"
    story = parse_story(Path("mill.txt"), text, "utf-8")
    assert [(s.kind, s.title) for s in story.sections] == [
        ("scene", "The Mill"), ("front-matter", "Illustration"), ("scene", "The Mill"),
    ]


def ffprobe_chapters(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [c["tags"]["title"] for c in json.loads(out)["chapters"]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The novel built twice with the real CLI: front matter read, and skipped."""
    books = {}
    for mode in ("read", "skip"):
        root = tmp_path_factory.mktemp(mode)
        (root / "The Lantern House.txt").write_text(NOVEL, encoding="utf-8")
        (root / "voices.toml").write_text(f'[book]\nfront_matter = "{mode}"\n', encoding="utf-8")
        result = CliRunner().invoke(
            app, ["build", str(root / "The Lantern House.txt"), "-o", str(root / "out"), "-j", "2"]
        )
        assert result.exit_code == 0, result.output
        books[mode] = root / "out" / "The Lantern House"
    return books


def test_built_chapters_are_titled_with_their_volume_in_tags_files_and_feed(built: dict[str, Path]) -> None:
    book = built["read"]
    mp3s = sorted(p for p in book.glob("[0-9]* - *.mp3"))
    assert [p.name for p in mp3s] == [
        f"{n} - {t}.mp3" for n, t in zip(("01", "02", "03", "04", "05"), TITLES, strict=True)
    ]
    assert [str(ID3(p)["TIT2"]) for p in mp3s] == TITLES
    feed = feedparser.parse((book / "feed.xml").read_bytes())
    assert sorted(e.title for e in feed.entries) == sorted(TITLES)  # a podcast app sees five different titles
    assert {e.title: e.get("itunes_season") for e in feed.entries} == {
        t: str(n) for t, n in zip(TITLES, (1, 1, 2, 2, 3), strict=True)
    }  # volumes as seasons
    seasons = etree.fromstring((book / "feed.xml").read_bytes()).iterfind(f".//{{{PODCAST_NS}}}season")
    assert sorted((s.text, s.get("name")) for s in seasons) == [
        ("1", "Volume I"), ("1", "Volume I"), ("2", "Volume II"), ("2", "Volume II"), ("3", "Volume III"),
    ]
    # the pages between the volumes are marks of their own in the chapter files, never scenes
    assert ffprobe_chapters(book / "02 - Volume I, Chapter II.mp3") == [
        "Volume I, Chapter II", "Illustration", "Volume I, Chapter II", "End of Volume I",
    ]
    assert ffprobe_chapters(book / "03 - Volume II, Chapter I.mp3") == ["Title page", "Volume II, Chapter I"]


def test_the_whole_book_has_a_table_of_contents_per_volume(built: dict[str, Path]) -> None:
    whole = built["read"] / "The Lantern House.mp3"
    assert ffprobe_chapters(whole) == TITLES  # ffmpeg lists every chapter, in order
    tag = ID3(whole)
    titles = {chap.element_id: str(chap.sub_frames["TIT2"]) for chap in tag.getall("CHAP")}
    tables = {toc.element_id: toc for toc in tag.getall("CTOC")}
    [top] = [toc for toc in tables.values() if toc.flags & CTOCFlags.TOP_LEVEL]
    volumes = [tables[child] for child in top.child_element_ids]
    assert [str(v.sub_frames["TIT2"]) for v in volumes] == ["Volume I", "Volume II", "Volume III"]
    assert all(v.flags & CTOCFlags.ORDERED for v in volumes)
    assert [[titles[c] for c in v.child_element_ids] for v in volumes] == [TITLES[:2], TITLES[2:4], TITLES[4:]]


def test_front_matter_skip_leaves_no_marker_in_the_audio(built: dict[str, Path]) -> None:
    book = built["skip"]
    transcripts = " ".join(p.read_text(encoding="utf-8") for p in sorted(book.glob("*.vtt")))
    assert not any(marker in transcripts for marker in MARKERS), transcripts
    assert "VOL. II." in transcripts and "VOLUME THE THIRD" in transcripts  # the headings are read
    assert ffprobe_chapters(book / "03 - Volume II, Chapter I.mp3") == ["Volume II, Chapter I"]
    read = " ".join(p.read_text(encoding="utf-8") for p in sorted(built["read"].glob("*.vtt")))
    assert all(marker in read for marker in MARKERS)  # read under their own marks when asked


def test_a_volume_known_only_by_the_line_that_closes_the_one_before(tmp_path: Path) -> None:
    text = (
        "BOOK THE FIRST\nSOWING\n\n\nCHAPTER I\nTHE SEED\n\n\nThe field was bare.\n\n\n"
        "CHAPTER II\nTHE RAIN\n\n\nIt rained for a week.\n\n\nEND OF THE FIRST BOOK\n\n\n\n_REAPING_\n\n\n"
        "CHAPTER I\nTHE HARVEST\n\n\nThe wheat was cut in August.\n"
    )
    path = tmp_path / "field.txt"
    path.write_text(text, encoding="utf-8")
    book = load_book(path)
    assert [c.title for c in book.chapters] == [
        "Book I, Chapter I: THE SEED", "Book I, Chapter II: THE RAIN", "Book II, Chapter I: THE HARVEST",
    ]
    assert [c.volume for c in book.chapters] == ["Book I: Sowing", "Book I: Sowing", "Book II: Reaping"]
    closing, opening = book.chapters[1], book.chapters[2]
    assert [(s.kind, s.title) for s in closing.sections][-1] == ("back-matter", "End of Book I")
    assert [(s.kind, s.title) for s in opening.sections] == [
        ("front-matter", "Title page"),
        ("scene", "Book II, Chapter I: THE HARVEST"),
    ]
    assert [w for c in book.chapters for w in spoken_words(c.text)] == spoken_words(text)


# --- EPUB: the table of contents' sections are the volumes ---------------------------------------

# Written for these tests: two parts, chapter numbers restarting in each; the first part has a
# page of its own holding only its heading, the second is a section of the contents with none.
EPUB_CHAPTERS = [
    ("part1", "<h1>PART ONE</h1><h2>The Thaw</h2>", None),
    ("c1", "<h2>Chapter I</h2><p>Maud found the lantern on the stair.</p>", "Chapter I"),
    ("c2", "<h2>Chapter II</h2><p>The house was quiet all winter.</p>", "Chapter II"),
    ("c3", "<h2>Chapter I</h2><p>Tom came home in April.</p>", "Chapter I"),
    ("c4", "<h2>Chapter II</h2><p>The wedding was in June.</p>", "Chapter II"),
]
EPUB_TITLES = ["Part One, Chapter I", "Part One, Chapter II", "Part Two, Chapter I", "Part Two, Chapter II"]


def make_volumes_epub(path: Path, *, ncx: bool) -> Path:
    """The parts as nested navPoints of an EPUB 2 NCX (`ncx`), or as nested <ol> of an EPUB 3 nav."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("lantern-parts")
    book.set_title("The Lantern House")
    book.set_language("en")
    docs = {}
    for name, body, _ in EPUB_CHAPTERS:
        doc = epub.EpubHtml(title=name, file_name=f"{name}.xhtml", lang="en")
        doc.content = f"<html><body>{body}</body></html>"
        book.add_item(doc)
        docs[name] = doc
    links = {name: epub.Link(f"{name}.xhtml", title, name) for name, _, title in EPUB_CHAPTERS if title}
    book.toc = [
        (epub.Section("Part One: The Thaw", href="part1.xhtml"), [links["c1"], links["c2"]]),
        (epub.Section("Part Two"), [links["c3"], links["c4"]]),
    ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *docs.values()]
    epub.write_epub(str(path), book)
    if not ncx:  # an EPUB 3 without the EPUB 2 NCX: only the nav tells the contents
        with zipfile.ZipFile(path) as zf:
            files = {info: zf.read(info) for info in zf.infolist() if not info.filename.endswith(".ncx")}
        opf = next(info for info in files if info.filename.endswith(".opf"))
        files[opf] = re.sub(rb'<item href="toc.ncx"[^>]*/>|\s+toc="ncx"', b"", files[opf])
        with zipfile.ZipFile(path, "w") as zf:
            for info, data in files.items():
                zf.writestr(info, data)
    return path


@pytest.mark.parametrize("ncx", [True, False], ids=["ncx-navpoints", "nav-ol"])
def test_epub_sections_of_the_contents_are_volumes(tmp_path: Path, ncx: bool) -> None:
    book = load_book(make_volumes_epub(tmp_path / "lantern.epub", ncx=ncx))
    assert [c.title for c in book.chapters] == EPUB_TITLES  # unique, though the numbers restart
    assert [c.volume for c in book.chapters] == ["Part One: The Thaw"] * 2 + ["Part Two"] * 2
    # the part's own page, its heading alone, is read as the title lines of its first chapter:
    # no chapter of a few seconds, and every word still read once
    first = book.chapters[0]
    headings = [first.paragraph_text(i) for i, p in enumerate(first.paragraphs) if p.is_title]
    assert headings == ["PART ONE", "The Thaw", "Chapter I"]
    assert [(s.kind, s.title) for s in first.sections] == [("scene", "Part One, Chapter I")]
    words = [w for c in book.chapters for w in spoken_words(c.text)]
    assert words == spoken_words(" ".join(
        "PART ONE The Thaw" if name == "part1" else body.split("</h2>")[0].split(">")[-1] + " "
        + body.split("<p>")[1].split("</p>")[0]
        for name, body, _ in EPUB_CHAPTERS
    ))


def test_an_epub_in_parts_has_a_table_of_contents_per_part(tmp_path: Path) -> None:
    source = make_volumes_epub(tmp_path / "lantern.epub", ncx=True)
    result = CliRunner().invoke(app, ["build", str(source), "-o", str(tmp_path / "out"), "-j", "2"])
    assert result.exit_code == 0, result.output
    whole = tmp_path / "out" / "The Lantern House" / "The Lantern House.mp3"
    assert ffprobe_chapters(whole) == EPUB_TITLES
    tag = ID3(whole)
    titles = {chap.element_id: str(chap.sub_frames["TIT2"]) for chap in tag.getall("CHAP")}
    tables = {toc.element_id: toc for toc in tag.getall("CTOC")}
    [top] = [toc for toc in tables.values() if toc.flags & CTOCFlags.TOP_LEVEL]
    parts = [tables[child] for child in top.child_element_ids]
    assert [str(v.sub_frames["TIT2"]) for v in parts] == ["Part One: The Thaw", "Part Two"]
    assert [[titles[c] for c in v.child_element_ids] for v in parts] == [EPUB_TITLES[:2], EPUB_TITLES[2:]]


def _nested_epub(path: Path, volumes: int) -> Path:
    """Volumes holding books holding chapters (nested sections), each volume and book with a page of
    its own holding only its heading; chapter numbers restart in every book."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("nested")
    book.set_title("The Long Road")
    book.set_language("en")
    toc = []
    for v in range(1, volumes + 1):
        books = []
        for b in (1, 2):
            pages = [(f"v{v}b{b}", f"<h1>BOOK {b}</h1>")] + [
                (f"v{v}b{b}c{c}", f"<h2>Chapter {c}</h2><p>Walking, volume {v}, book {b}, day {c}.</p>") for c in (1, 2)
            ]
            if b == 1:
                pages.insert(0, (f"v{v}", f"<h1>VOLUME {v}</h1>"))
            for name, body in pages:
                doc = epub.EpubHtml(title=name, file_name=f"{name}.xhtml")
                doc.content = f"<html><body>{body}</body></html>"
                book.add_item(doc)
                book.spine.append(doc)
            links = [epub.Link(f"v{v}b{b}c{c}.xhtml", f"Chapter {c}", f"v{v}b{b}c{c}") for c in (1, 2)]
            books.append((epub.Section(f"Book {b}", href=f"v{v}b{b}.xhtml"), links))
        toc.append((epub.Section(f"Volume {v}", href=f"v{v}.xhtml"), books))
    book.toc = toc
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    epub.write_epub(str(path), book)
    return path


def test_nested_sections_of_an_epub_name_each_level_and_one_around_everything_is_none(tmp_path: Path) -> None:
    two = load_book(_nested_epub(tmp_path / "two.epub", volumes=2))
    assert [c.title for c in two.chapters] == [
        f"Volume {v}, Book {b}, Chapter {c}" for v in (1, 2) for b in (1, 2) for c in (1, 2)
    ]
    assert two.chapters[0].volume == "Volume 1, Book 1"
    first = two.chapters[0]
    assert [first.paragraph_text(i) for i, p in enumerate(first.paragraphs) if p.is_title] == [
        "VOLUME 1", "BOOK 1", "Chapter 1",
    ]
    # a single volume around every chapter is the book itself: no level of its own
    one = load_book(_nested_epub(tmp_path / "one.epub", volumes=1))
    assert [c.title for c in one.chapters] == [f"Book {b}, Chapter {c}" for b in (1, 2) for c in (1, 2)]
    assert one.chapters[0].paragraph_text(0) == "VOLUME 1"  # its heading still read, before the first chapter
