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

import codecs
import html
import re
import warnings
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
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
    # the sections of the table of contents it is listed under (parts, volumes, books), outermost
    # first; a chapter the contents leave out is in the sections of the one before it
    sections: tuple[str, ...] = ()
    section_page: bool = False  # the page of its innermost section itself (a part's title page)


@dataclass(frozen=True)
class EpubBook:
    title: str | None
    author: str | None
    language: str | None
    cover: bytes | None
    cover_mime: str | None
    chapters: tuple[EpubChapter, ...]
    warnings: tuple[str, ...] = ()  # text that could not be read as written, one line each


def read_epub(path: Path) -> EpubBook:
    """Read an EPUB 2 or 3 file; InputError naming the file when it can't be used."""
    import ebooklib
    from ebooklib import epub

    try:
        with zipfile.ZipFile(path) as zf:
            _check_sizes(path, zf)
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

    titles, groups, pages = _toc_titles(book.toc)
    sections: tuple[str, ...] = ()
    chapters: list[EpubChapter] = []
    notes: list[str] = []
    state = _GutenbergState()
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        name = item.get_name()
        anchors = {frag: title for (file, frag), title in titles.items() if file == name and frag}
        # the stored bytes: ebooklib's get_content() re-serialises through lxml, which drops UTF-16
        # documents, misreads Latin-1 ones and cuts deep or huge ones
        document, encoding, replaced = decode_xhtml(item.content or b"")
        pieces = _pieces(document, set(anchors))
        if replaced:
            notes.append(f"{path}: {name}: {replaced} bytes not valid {encoding} were replaced: check the EPUB")
        notes += _lost_text(path, name, document, pieces)
        for frag, text, heading in _split_at_anchors(pieces):
            text = state.filter(text)
            if not _WORD.search(text):
                continue
            title = anchors.get(frag) if frag else titles.get((name, ""))
            key = (name, frag or "")
            page = key in pages and key not in groups
            sections = pages[key] if page else groups.get(key, sections)
            chapters.append(EpubChapter(title or heading, text, f"{name}#{frag}" if frag else name, sections, page))
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
        warnings=tuple(notes),
    )


# Limits on what an EPUB may unpack to (a "zip bomb" of 1 GB of XHTML fits in 1 MB).
MAX_MEMBER_MB = 128  # any one file inside the EPUB
MAX_TOTAL_MB = 512  # all of them
MAX_RATIO = 200  # uncompressed / compressed, for a file over RATIO_FROM_MB (text compresses 3-10x)
RATIO_FROM_MB = 16


def _check_sizes(path: Path, zf: zipfile.ZipFile) -> None:
    """Refuse, before anything is unpacked, an EPUB whose files would unpack to an absurd size."""
    total = 0
    mb = 1 << 20
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_MB * mb or (info.file_size > RATIO_FROM_MB * mb and ratio > MAX_RATIO):
            raise InputError(
                f"{path}: {info.filename} would unpack to {info.file_size / mb:,.0f} MB "
                f"({ratio:,.0f} times its packed size): refusing an EPUB this large (limit {MAX_MEMBER_MB} MB a file, "
                f"{MAX_RATIO}x past {RATIO_FROM_MB} MB)"
            )
        if total > MAX_TOTAL_MB * mb:
            raise InputError(f"{path}: would unpack to over {MAX_TOTAL_MB} MB: refusing an EPUB this large")


def _lost_text(path: Path, name: str, document: str, pieces: list[tuple[str, str]]) -> list[str]:
    """A warning when the text read from a document is not all of its text (counted apart, by `xhtml_words`)."""
    expected = "".join(xhtml_words(document))
    read = "".join(_WORD.findall(" ".join(value for kind, value in pieces if kind in ("text", "heading")).casefold()))
    if read == expected:
        return []
    missing = max(len(expected) - len(read), 0)
    return [
        f"{path}: {name}: some text was not read ({missing:,} of {len(expected):,} letters and digits missing, "
        "or read differently): the chapter may be incomplete"
    ]


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


def _toc_titles(
    toc,
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], tuple[str, ...]], dict[tuple[str, str], tuple[str, ...]]]:
    """For every entry of the table of contents, (file, anchor) -> its title (first one wins);
    for every link, the titles of the sections holding it (nested navPoints, a nav's nested
    <ol>: parts, volumes, books), outermost first; and for a section that links a page of its
    own, that page -> the sections down to itself."""
    titles: dict[tuple[str, str], str] = {}
    groups: dict[tuple[str, str], tuple[str, ...]] = {}
    pages: dict[tuple[str, str], tuple[str, ...]] = {}
    sections: list[tuple[str | None, str | None]] = []

    def visit(entries, path: tuple[str, ...]) -> None:
        for entry in entries:
            if isinstance(entry, tuple):  # (Section, children): a part title, used only when no link names the file
                section, children = entry
                href, title = getattr(section, "href", None), getattr(section, "title", None)
                sections.append((href, title))
                inner = (*path, " ".join(title.split())) if title and title.strip() else path
                if (key := _key(href)) is not None:
                    pages.setdefault(key, inner)
                visit(children, inner)
            else:
                href = getattr(entry, "href", None) or getattr(entry, "file_name", None)
                add(href, getattr(entry, "title", None))
                if (key := _key(href)) is not None:
                    groups.setdefault(key, path)

    def add(href: str | None, title: str | None) -> None:
        key = _key(href)
        if key is None or not title or not title.strip():
            return
        titles.setdefault(key, " ".join(title.split()))

    visit(toc if isinstance(toc, (list, tuple)) else [toc], ())  # ebooklib gives one Link for an empty navMap
    for href, title in sections:
        add(href, title)
    return titles, groups, pages


def _key(href: str | None) -> tuple[str, str] | None:
    if not href:
        return None
    file, _, frag = unquote(href).partition("#")
    return normpath(file), frag


# A document becomes pieces: ("text", paragraph), ("break", ""), ("anchor", id), ("heading", text)


def decode_xhtml(data: bytes) -> tuple[str, str, int]:
    """A chapter's bytes as text: by its byte order mark, else its XML declaration, else UTF-8
    (the XML default). Returns the text, the encoding used and how many bytes could not be decoded."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            data, declared = data[len(bom) :], encoding
            break
    else:
        m = _XML_DECLARATION.match(data)
        declared = m.group(1).decode("ascii").lower() if m else "utf-8"
    try:
        codecs.lookup(declared)
    except LookupError:
        declared = "utf-8"
    text = data.decode(declared, errors="replace")
    replaced = text.count("\ufffd") - data.decode(declared, errors="ignore").count("\ufffd")
    return text, declared, replaced


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECLARATION = re.compile(rb"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']")
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())


class _Reader(HTMLParser):
    """Pieces of a document, from a streaming parser: no tree, so no limit on depth or text size,
    and unclosed or stray tags cost nothing (an end tag closes up to its matching start tag)."""

    def __init__(self, anchors: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors = anchors
        self.pieces: list[tuple[str, str]] = []
        self.current: list[str] = []
        self.stack: list[tuple[str, int, bool]] = []  # (tag, pieces when it opened, is a scene-break candidate)
        self.skipping = 0  # inside <script>, <style>, <head>, ...: depth of such elements
        self.emphasis: list[tuple[int, int]] = []  # open <em>: (len(current), flushes) when it opened
        self.flushes = 0
        self.in_body = False

    def flush(self) -> None:
        self.flushes += 1
        text = "".join(self.current)
        self.current.clear()
        para: list[str] = []
        for line in text.split("\n") + [""]:  # two <br> in a row are a paragraph break
            line = _SPACE.sub(" ", line).strip()
            if line:
                para.append(line)
            elif para:
                self.pieces.append(("text", "\n".join(para)))
                para = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.in_body = True
        if self.skipping or tag in _SKIP_TAGS:
            if tag not in _VOID_TAGS:
                self.skipping += 1
                self.stack.append((tag, len(self.pieces), False))
            return
        values = dict(attrs)
        ident = values.get("id")
        if ident and ident in self.anchors:
            self.flush()
            self.pieces.append(("anchor", ident))
        if tag == "hr":
            self.flush()
            self.pieces.append(("break", ""))
        elif tag == "br":
            self.current.append("\n")
        elif tag in _VOID_TAGS:
            pass
        elif tag in _BLOCK_TAGS:
            self.flush()
            breaks = bool(_BREAK_CLASS.search(values.get("class") or ""))
            self.stack.append((tag, len(self.pieces), breaks))
        else:
            if tag in _EMPHASIS_TAGS:
                self.emphasis.append((len(self.current), self.flushes))
            self.stack.append((tag, len(self.pieces), False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS or tag in _BLOCK_TAGS or tag in _SKIP_TAGS:
            self.handle_starttag(tag, attrs)
            if tag not in _VOID_TAGS:
                self.handle_endtag(tag)
        # any other self-closed element (<a id="x"/>, <span/>) holds no text
        elif not self.skipping:
            ident = dict(attrs).get("id")
            if ident and ident in self.anchors:
                self.flush()
                self.pieces.append(("anchor", ident))

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _, _ in self.stack):
            return  # a stray end tag
        while self.stack:
            open_tag, started, breaks = self.stack.pop()
            self._close(open_tag, started, breaks)
            if open_tag == tag:
                break

    def _close(self, tag: str, started: int, breaks: bool) -> None:
        if self.skipping:
            if tag in _SKIP_TAGS:
                self.skipping -= 1
            return
        if tag in _BLOCK_TAGS:
            self.flush()
            if breaks and not any(_WORD.search(value) for _, value in self.pieces[started:]):
                del self.pieces[started:]
                self.pieces.append(("break", ""))
            elif tag in ("h1", "h2", "h3") and len(self.pieces) == started + 1 and self.pieces[started][0] == "text":
                self.pieces[started] = ("heading", self.pieces[started][1])
        elif tag in _EMPHASIS_TAGS and self.emphasis:
            at, flushes = self.emphasis.pop()
            if flushes == self.flushes and not self.emphasis:  # outermost, and no paragraph ended inside
                inner = "".join(self.current[at:])
                del self.current[at:]
                self.current.append(_mark_emphasis(inner))

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data.replace("\n", " "))

    def close(self) -> None:
        super().close()
        while self.stack:
            self._close(*self.stack.pop())
        self.flush()


def _pieces(text: str, anchors: set[str]) -> list[tuple[str, str]]:
    reader = _Reader(anchors)
    reader.feed(text)
    reader.close()
    return reader.pieces


def xhtml_words(text: str) -> list[str]:
    """The words of a document's text, counted apart from `_Reader` as a check on it: everything
    outside tags, comments and the elements never read, with entities resolved."""
    out: list[str] = []
    skip_until: str | None = None
    pos = 0
    while pos < len(text):
        lt = text.find("<", pos)
        if lt < 0:
            lt = len(text)
        if skip_until is None:
            out.append(text[pos:lt])
        if lt >= len(text):
            break
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            pos = len(text) if end < 0 else end + 3
            continue
        tag = _TAG_NAME.match(text, lt + 1)
        if not tag and not text.startswith(("<!", "<?"), lt):
            if skip_until is None:
                out.append("<")  # "a < b": not a tag, so text, as an HTML parser reads it
            pos = lt + 1
            continue
        gt = _tag_end(text, lt)
        if gt < 0:
            break  # an unclosed tag runs to the end
        if tag:
            name = tag.group(2).lower()
            if skip_until is None and not tag.group(1) and name in _SKIP_TAGS and text[gt - 1] != "/":
                skip_until = name
            elif skip_until == name and tag.group(1):
                skip_until = None
        elif text.startswith("<![CDATA[", lt):
            end = text.find("]]>", lt)
            gt = len(text) - 1 if end < 0 else end + 2
        pos = gt + 1
    body = html.unescape("".join(out))
    return _WORD.findall(body.casefold())


_TAG_NAME = re.compile(r"(/?)([A-Za-z][A-Za-z0-9:_.-]*)")


def _tag_end(text: str, lt: int) -> int:
    """The ">" closing the tag at `lt`, skipping quoted attribute values (`alt="a > b"`); -1 if none."""
    i = lt + 1
    while i < len(text):
        ch = text[i]
        if ch == ">":
            return i
        if ch == "=":
            i += 1
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if i < len(text) and text[i] in "\"'":
                close = text.find(text[i], i + 1)
                if close < 0:
                    return -1
                i = close
        i += 1
    return -1


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
