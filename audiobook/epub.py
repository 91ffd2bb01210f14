"""EPUB books: chapters in reading order with their table-of-contents titles, and metadata.

The only module importing ebooklib and BeautifulSoup. Each chapter's text is *extracted*:
its HTML becomes plain paragraphs separated by blank lines, so offsets in its `Story` point
into that extracted text, not into the XHTML inside the EPUB.

* Reading order is the spine's; titles come from the table of contents (EPUB 3 nav or EPUB 2
  NCX), else the chapter's first heading. A file the contents enters at several anchors is
  split there, so one big XHTML file with many chapters gives many chapters.
* Emphasis (``<em>``, ``<i>``), which fan fiction uses for thoughts, is kept with its words
  and marked ``_like this_`` (underscores carry no words and eSpeak NG reads them as nothing).
* ``<hr>``, ornament classes ("scenebreak", "dinkus", ...) and symbol-only paragraphs such
  as ``* * *`` become a ``* * *`` line: the loader's scene break.
* Project Gutenberg's header and licence, when the book carries them, are left out.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from posixpath import normpath
from urllib.parse import unquote

from .chapters import _PG_END, _PG_START
from .errors import InputError

SCENE_BREAK = "* * *"
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol blockquote pre section article aside header footer "
    "dd dt dl table tr td th figure figcaption nav main body center".split()
)
_SKIP_TAGS = frozenset("script style head title svg math rt rp".split())
_EMPHASIS_TAGS = frozenset("em i cite".split())
_BREAK_CLASS = re.compile(r"scene.?break|section.?break|\bsep|dinkus|ornament|asterism|\bbreak\b|\bhr\b", re.I)
_WORD = re.compile(r"[^\W_]+")
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0\u2028\u2029]+")


@dataclass(frozen=True)
class EpubChapter:
    title: str | None  # from the table of contents or the first heading; None: neither
    text: str  # extracted plain text: paragraphs separated by blank lines
    href: str  # the XHTML file inside the EPUB (with #anchor when the file was split)


@dataclass(frozen=True)
class EpubBook:
    title: str | None
    author: str | None
    language: str | None
    cover: bytes | None
    cover_mime: str | None
    chapters: tuple[EpubChapter, ...]


def read_epub(path: Path) -> EpubBook:
    """Read an EPUB 2 or 3 file; InputError naming the file when it can't be used."""
    import ebooklib
    from ebooklib import epub

    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "META-INF/encryption.xml" in names and b"EncryptedData" in zf.read("META-INF/encryption.xml"):
                raise InputError(f"{path}: the EPUB is DRM-protected: use a DRM-free copy")
            if "META-INF/container.xml" not in names:
                raise InputError(f"{path}: not an EPUB (no META-INF/container.xml): check the file")
            container = zf.read("META-INF/container.xml").decode("utf-8", errors="replace")
            for package in re.findall(r'full-path\s*=\s*["\']([^"\']+)', container):
                if unquote(package) not in names:
                    raise InputError(f"{path}: broken EPUB ({unquote(package)} is missing): check the file")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(str(path), {"ignore_ncx": False})
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file: check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not an EPUB (not a zip archive): check the file") from None
    except Exception as exc:  # ebooklib raises KeyError, EpubException, lxml errors...
        reason = " ".join(str(exc).split())[:80] or type(exc).__name__
        raise InputError(f"{path}: broken EPUB ({reason}): check the file") from None

    titles = _toc_titles(book.toc)
    chapters: list[EpubChapter] = []
    state = _GutenbergState()
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        name = item.get_name()
        anchors = {frag: title for (file, frag), title in titles.items() if file == name and frag}
        pieces = _pieces(item.get_content(), set(anchors))
        for frag, text, heading in _split_at_anchors(pieces):
            text = state.filter(text)
            if not _WORD.search(text):
                continue
            title = anchors.get(frag) if frag else titles.get((name, ""))
            chapters.append(EpubChapter(title or heading, text, f"{name}#{frag}" if frag else name))
        if state.ended:
            break
    if not chapters:
        raise InputError(f"{path}: the EPUB has no text to read: is it a picture book or comic?")

    cover, mime = _cover(book, epub)
    return EpubBook(
        title=_meta(book, "title"),
        author=" & ".join(v for v, _ in book.get_metadata("DC", "creator") if v and v.strip()) or None,
        language=_meta(book, "language"),
        cover=cover,
        cover_mime=mime,
        chapters=tuple(chapters),
    )


def _meta(book, name: str) -> str | None:
    values = [v for v, _ in book.get_metadata("DC", name) if v and v.strip()]
    return " ".join(values[0].split()) if values else None


def _cover(book, epub) -> tuple[bytes | None, str | None]:
    items = [i for i in book.get_items() if isinstance(i, epub.EpubCover)]
    if not items:  # EPUB 2: <meta name="cover" content="ITEM-ID"/>
        for _, attrs in book.get_metadata("OPF", "cover"):
            item = book.get_item_with_id(attrs.get("content", ""))
            if item is not None:
                items.append(item)
    for item in items:
        data = item.get_content()
        if data:
            return data, item.media_type
    return None, None


def _toc_titles(toc) -> dict[tuple[str, str], str]:
    """(file, anchor) -> title for every entry of the table of contents, first one wins."""
    titles: dict[tuple[str, str], str] = {}

    sections: list[tuple[str | None, str | None]] = []

    def visit(entries) -> None:
        for entry in entries:
            if isinstance(entry, tuple):  # (Section, children): a part title, used only when no link names the file
                section, children = entry
                sections.append((getattr(section, "href", None), getattr(section, "title", None)))
                visit(children)
            else:
                add(getattr(entry, "href", None) or getattr(entry, "file_name", None), getattr(entry, "title", None))

    def add(href: str | None, title: str | None) -> None:
        if not href or not title or not title.strip():
            return
        file, _, frag = unquote(href).partition("#")
        titles.setdefault((normpath(file), frag), " ".join(title.split()))

    visit(toc if isinstance(toc, (list, tuple)) else [toc])  # ebooklib gives one Link for an empty navMap
    for href, title in sections:
        add(href, title)
    return titles


# A document becomes pieces: ("text", paragraph), ("break", ""), ("anchor", id), ("heading", text)


def _pieces(content: bytes, anchors: set[str]) -> list[tuple[str, str]]:
    from bs4 import BeautifulSoup, NavigableString, Tag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # XHTML read as HTML on purpose: lxml's HTML parser forgives broken files
        soup = BeautifulSoup(content, "lxml")
    body = soup.body or soup
    pieces: list[tuple[str, str]] = []
    current: list[str] = []

    def flush() -> None:
        text = "".join(current)
        lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
        # two <br> in a row are a paragraph break
        para: list[str] = []
        for line in lines + [""]:
            if line:
                para.append(line)
            elif para:
                pieces.append(("text", "\n".join(para)))
                para = []
        current.clear()

    def walk(node, emphasis: bool) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child).__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction", "CData"):
                    continue
                current.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower() if child.name else ""
            if name in _SKIP_TAGS:
                continue
            ident = child.get("id")
            if ident in anchors:
                flush()
                pieces.append(("anchor", ident))
            if name == "hr":
                flush()
                pieces.append(("break", ""))
                continue
            if name == "br":
                current.append("\n")
                continue
            if name in _BLOCK_TAGS:
                flush()
                classes = " ".join(child.get("class") or [])
                if _BREAK_CLASS.search(classes) and not _WORD.search(child.get_text()):
                    pieces.append(("break", ""))
                    continue
                start = len(pieces)
                walk(child, emphasis)
                flush()
                if name in ("h1", "h2", "h3") and len(pieces) == start + 1 and pieces[start][0] == "text":
                    pieces[start] = ("heading", pieces[start][1])
                continue
            if name in _EMPHASIS_TAGS and not emphasis:
                inner: list[str] = []
                saved = current[:]
                current.clear()
                walk(child, True)
                inner = current[:]
                current[:] = saved
                current.append(_mark_emphasis("".join(inner)))
                continue
            walk(child, emphasis)

    walk(body, False)
    flush()
    return pieces


def _mark_emphasis(text: str) -> str:
    """'  why me?  ' -> '  _why me_?  ': underscores hug the words, punctuation and quotes stay outside."""
    words = list(_WORD.finditer(text))
    if not words or "\n" in text:
        return text
    first, last = words[0].start(), words[-1].end()
    return f"{text[:first]}_{text[first:last]}_{text[last:]}"


def _split_at_anchors(pieces: list[tuple[str, str]]) -> list[tuple[str | None, str, str | None]]:
    """(anchor or None, chapter text, first heading) for each part of a document."""
    parts: list[tuple[str | None, list[tuple[str, str]]]] = [(None, [])]
    for kind, value in pieces:
        if kind == "anchor":
            parts.append((value, []))
        else:
            parts[-1][1].append((kind, value))
    result = []
    for frag, items in parts:
        paragraphs: list[str] = []
        heading = None
        for kind, value in items:
            if kind == "break":
                if paragraphs and paragraphs[-1] != SCENE_BREAK:
                    paragraphs.append(SCENE_BREAK)
                continue
            if kind == "heading" and heading is None and not any(_WORD.search(p) for p in paragraphs):
                heading = " ".join(value.split())
            paragraphs.append(value)
        while paragraphs and paragraphs[-1] == SCENE_BREAK:
            paragraphs.pop()
        result.append((frag, "\n\n".join(paragraphs) + "\n", heading))
    return result


class _GutenbergState:
    """Drops a Project Gutenberg header (up to START) and licence (from END on), across files."""

    def __init__(self) -> None:
        self.ended = False

    def filter(self, text: str) -> str:
        if self.ended:
            return ""
        start = _PG_START.search(text)
        if start:
            text = text[start.end() :]
        end = _PG_END.search(text)
        if end:
            self.ended = True
            text = text[: end.start()].rstrip() + "\n"
        return text
