"""A source (story files, a folder of them, a long text or an EPUB) becomes a `Book` of chapters.

Each chapter is a `Story`. For a text file split at its chapter headings, a chapter's
``Story.text`` is a slice of the file's text and ``Story.offset`` is where that slice starts,
so ``offset + position`` points back into the file as read. For an EPUB, ``Story.text`` is the
chapter's extracted text (see `audiobook.epub`), ``Story.offset`` is 0 and ``Story.path`` is
the EPUB file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .chapters import Gutenberg, gutenberg, leading_title, split_chapters
from .epub import EpubChapter, read_epub
from .errors import InputError
from .load import Story, find_stories, parse_story, read_story_text, title_from_filename
from .volumes import title_page_like, volume_heading

EPUB_SUFFIXES = (".epub",)


@dataclass(frozen=True)
class Book:
    """The sources as read: the book's details and one Story per chapter, in reading order."""

    title: str
    author: str | None  # None: the source does not say (the config or the CLI decides)
    language: str | None  # as the source gives it: "en", "en-GB"
    cover: bytes | None  # the cover image file as stored (JPEG or PNG, see cover_mime)
    cover_mime: str | None  # "image/jpeg", "image/png"
    chapters: tuple[Story, ...]
    warnings: tuple[str, ...] = ()  # one line each, naming the file: for the build summary


def load_book(sources: Path | Sequence[Path]) -> Book:
    """Every chapter of every source, in order, and the book's metadata.

    A folder is a book whose text files are read in name order; a text file gives one
    chapter, or several when it has chapter headings; an ``.epub`` gives its chapters.
    Title, author and language come from the first source that states them (EPUB metadata,
    a Project Gutenberg header), else the title is the folder's, or the file's, name.
    """
    if isinstance(sources, Path):
        sources = [sources]
    if not sources:
        raise InputError("no story given: name a file or folder")
    chapters: list[Story] = []
    warnings: list[str] = []
    title = author = language = None
    cover = cover_mime = None
    for source in sources:
        if source.is_file() and source.suffix.lower() in EPUB_SUFFIXES:
            part = _load_epub(source)
            chapters.extend(part.chapters)
            title, author, language = title or part.title, author or part.author, language or part.language
            cover, cover_mime = (cover, cover_mime) if cover else (part.cover, part.cover_mime)
            warnings.extend(part.warnings)
            continue
        for path in find_stories(source):
            stories, meta, replaced, guessed = _load_text(path)
            if guessed:
                warnings.append(
                    f"{path}: not UTF-8, read as {stories[0].encoding} (detected): "
                    "if any letters sound wrong, save the file as UTF-8"
                )
            chapters.extend(stories)
            if meta is not None:
                title, author, language = title or meta.title, author or meta.author, language or meta.language
            if replaced:
                warnings.append(
                    f"{path}: {replaced} undecodable character{'s' if replaced != 1 else ''} skipped: "
                    "save the file as UTF-8 to keep them"
                )
    if title is None:
        first = sources[0]
        if first.is_dir():
            title = title_from_filename(first.resolve())
        elif len(chapters) > 1 and chapters[0].path == chapters[-1].path:
            title = title_from_filename(first)  # one long text: its name, not "Chapter 1"
        else:
            title = chapters[0].title
    return Book(title, author, language, cover, cover_mime, tuple(chapters), tuple(warnings))


def _load_text(path: Path):
    """The chapters of one text file, its Gutenberg header if any, and the characters replaced."""
    text, encoding, replaced, guessed = read_story_text(path)
    pg = gutenberg(text)
    start, end = (pg.start, pg.end) if pg else (0, len(text))
    spans = split_chapters(text, start, end)
    if len(spans) == 1 and pg is None:
        return [parse_story(path, text, encoding)], None, replaced, guessed  # as load_story: the whole file
    stories = [
        replace(
            parse_story(path, text[s.start : s.end], encoding, s.title, s.start,
                        _within(s.headings, s.start), _within(s.matter, s.start)),
            volume=s.volume.title if s.volume else None,
        )
        for s in spans
    ]
    if pg is None and len(stories) > 1 and (heading := leading_title(text)):
        pg = Gutenberg(start, end, heading, None, None)  # "# Book title" above the chapters
    return stories, pg, replaced, guessed


def _within(spans: Sequence[tuple[int, int]], start: int) -> tuple[tuple[int, int], ...]:
    """Offsets into the file as offsets into a chapter starting at `start`."""
    return tuple((s - start, e - start) for s, e in spans)


def _load_epub(path: Path) -> Book:
    epub = read_epub(path)
    stories: list[Story] = []
    chapters = _without_wrapper(list(epub.chapters))
    pages = ""  # the pages of sections opening here, each holding only its heading (`VOLUME I`, `BOOK I`)
    for k, chapter in enumerate(chapters):
        nxt = chapters[k + 1] if k + 1 < len(chapters) else None
        within = nxt is not None and nxt.sections[: len(chapter.sections)] == chapter.sections
        if chapter.section_page and within and _only_headings(chapter.text):
            pages += chapter.text.rstrip("\n") + "\n\n"  # read before the section's first chapter
            continue
        name, volume = _volume(chapter.sections)
        title = chapter.title
        if chapter.section_page and chapter.sections:  # a part's page with more than its heading: titled as the part
            name, title = _volume(chapter.sections[:-1])[0], chapter.sections[-1]
        stories.append(_epub_story(path, replace(chapter, title=title), len(stories) + 1, name, volume, pages))
        pages = ""
    return Book(
        epub.title or title_from_filename(path),
        epub.author,
        epub.language,
        epub.cover,
        epub.cover_mime,
        tuple(stories),
        epub.warnings,
    )


def _without_wrapper(chapters: list[EpubChapter]) -> list[EpubChapter]:
    """The chapters without a section of the contents that holds them all (a book's title over
    every entry, the cover and a page or two at either end aside): that is no volume."""
    tops = {c.sections[0] for c in chapters if c.sections}
    outside = sum(1 for c in chapters if not c.sections)
    if len(tops) != 1 or outside > 2 or outside * 10 > len(chapters):
        return chapters
    return [replace(c, sections=c.sections[1:]) for c in chapters]


def _volume(sections: Sequence[str]) -> tuple[str | None, str | None]:
    """The sections of an EPUB's contents a chapter is listed under, as the volume of a text book:
    the name its title starts with ("Volume II", "Part One") and its entry in the whole book's
    table of contents ("Book I: Sowing"); nested sections are joined ("Volume I, Book II")."""
    if not sections:
        return None, None
    names, titles = [], []
    for section in sections:
        heading = volume_heading(section)
        names.append(heading.name if heading else section)
        titles.append(heading.title if heading else section)
    return ", ".join(names), ", ".join(titles)


def _only_headings(text: str) -> bool:
    """A page holding only a heading or two (`PART ONE` / `The Arrival`): nothing of the story."""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    return 0 < len(blocks) <= 3 and all(title_page_like(b) for b in blocks)


def _epub_story(
    path: Path, chapter: EpubChapter, number: int, name: str | None, volume: str | None, page: str = ""
) -> Story:
    """An EPUB chapter as a Story: titled with its volume's name ("Part One, Chapter I") when it
    has one, and after `page`, the pages of the sections it opens that hold only their headings,
    read as the chapter's title lines (as a text book's volume heading is)."""
    own = parse_story(path, chapter.text, "utf-8", chapter.title)
    if chapter.title is None and not any(p.is_title for p in own.paragraphs):
        own = parse_story(path, chapter.text, "utf-8", f"Chapter {number}")
    title = own.title
    if name and _words(title)[: len(_words(name))] != _words(name):
        title = f"{name}, {title}"
    if title == own.title and not page:
        return replace(own, volume=volume)
    text = page + chapter.text
    shift = len(page)
    headings = [(0, shift)] if page else []
    headings += [(shift + p.start, shift + p.end) for p in own.paragraphs if p.is_title]
    return replace(parse_story(path, text, "utf-8", title, 0, headings), volume=volume)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())
