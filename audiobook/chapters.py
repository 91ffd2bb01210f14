"""Long plain texts: the story inside a Project Gutenberg file, and its chapters.

Everything here works on offsets into the text as read, so each chapter is a slice
``text[start:end]`` that still points back into the source file.

* Project Gutenberg: the ``*** START OF THE PROJECT GUTENBERG EBOOK ... ***`` and
  ``*** END OF ... ***`` lines fence the book; the header before (with its ``Title:``,
  ``Author:`` and ``Language:`` lines) and the licence after are not read aloud. Only the
  markers decide: without them nothing is cut, so no story word is ever lost to a guess.
* Chapters: a heading alone in its block (blank lines around it) starts a chapter:
  ``Chapter 1``, ``CHAPTER IV.``, ``Chapter Twelve: The Storm``, ``Part One``, ``Prologue``,
  optionally with a subtitle on the next line (``CHAPTER I.`` / ``Down the Rabbit-Hole``),
  or Markdown ``#`` headings. Three or more headings in a row are a table of contents, not
  chapters (but the last one starts a chapter when it is not listed again later); two in a row
  (``Part One`` then ``Chapter 1``) start one chapter together.
* Volumes: when ``VOL. II.``, ``VOLUME THE SECOND``, ``BOOK III`` or ``PART TWO`` headings (or
  ``END OF VOL. I.`` lines) stand above chapter headings, each chapter's title starts with its
  volume's ("Volume II, Chapter I"), so that numbers restarting in each volume still give unique
  titles; chapters before a ``VOL. II.`` are volume I. A volume's title page (short, capitalised
  lines and illustrations around its heading) starts its first chapter, marked as front matter
  (see :mod:`audiobook.volumes`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace

from .volumes import Volume, end_of_volume, is_illustration, subtitle, title_page_like, volume_heading

_NUMBER_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[- ]?(?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    r"|seventeen|eighteen|nineteen|hundred"
    r"|(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
    r"|last|final)"
)
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_HEADING = re.compile(
    r"(?P<key>chapter|chap\.|part|book|volume|vol\.?|act)\s+(?:\d+|" + _ROMAN + "|" + _NUMBER_WORD + r")\b\.?"
    r"(?P<sub>\s*[:.\-–—]\s*\S.*|\s+(?-i:[A-Z])\S*(?:\s.*)?)?"
    r"|(?P<named>prologue|epilogue|interlude|afterword)\b\.?(?:\s*[:.\-–—]\s*\S.*)?",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(r"(#{1,6})\s+(\S.*?)\s*#*\s*")
_SUBTITLE_MAX_WORDS = 10
_HEADING_MAX_CHARS = 100
_CONTENTS_RUN = 3  # this many headings in a row, with nothing between, are a table of contents
_TITLE_PAGE_BLOCKS = 40  # a book's own title page and contents before chapter 1, at most

_PG_START = re.compile(r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b.*$", re.IGNORECASE | re.MULTILINE)
_PG_END = re.compile(r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b.*$", re.IGNORECASE | re.MULTILINE)
_PG_END_LINE = re.compile(r"^\s*End of (?:the )?Project Gutenberg'?s?\b.*$", re.IGNORECASE | re.MULTILINE)
_PG_FIELD = re.compile(r"^(Title|Author|Language):[ \t]*(\S[^\n]*)", re.MULTILINE)
_PG_CREDIT = re.compile(r"\s*(?:Produced by|E-?text prepared by|Transcribed (?:from|by))\b", re.IGNORECASE)
_LANGUAGES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it",
    "portuguese": "pt", "dutch": "nl", "finnish": "fi", "swedish": "sv", "japanese": "ja",
    "chinese": "zh", "russian": "ru", "latin": "la", "greek": "el", "polish": "pl",
}
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Gutenberg:
    """Where the book sits inside a Project Gutenberg file, and what its header says."""

    start: int  # the book: text[start:end]
    end: int
    title: str | None
    author: str | None
    language: str | None  # an ISO 639-1 code when the header names a known language


@dataclass(frozen=True)
class ChapterSpan:
    start: int  # offsets into the text; the heading, when there is one, starts the span
    end: int
    title: str | None  # None: the text before the first heading (a title page, a preface)
    volume: Volume | None = None  # the volume the chapter belongs to, in a book of volumes
    headings: tuple[tuple[int, int], ...] = ()  # (start, end) of the heading blocks read as its title
    matter: tuple[tuple[int, int], ...] = ()  # (start, end) of the blocks of a volume's title page in it


def gutenberg(text: str) -> Gutenberg | None:
    """The body of a Project Gutenberg file between its START and END markers, or None."""
    start_mark = _PG_START.search(text)
    end_mark = _PG_END.search(text, start_mark.end() if start_mark else 0)
    if not start_mark and not end_mark:
        return None
    start = start_mark.end() if start_mark else 0
    end = end_mark.start() if end_mark else len(text)
    closing = [m for m in _PG_END_LINE.finditer(text, start, end)]
    if closing and not _WORD.search(text[closing[-1].end() : end]):
        end = closing[-1].start()  # "End of the Project Gutenberg EBook of ..." is theirs too
    credit = _PG_CREDIT.match(text, start)
    if credit and start_mark:
        blank = text.find("\n\n", credit.end())
        start = blank if 0 <= blank < end else start
    fields: dict[str, str] = {}
    for m in _PG_FIELD.finditer(text, 0, start_mark.start() if start_mark else 0):
        fields.setdefault(m.group(1).lower(), m.group(2).strip())
    language = fields.get("language")
    code = _LANGUAGES.get(language.split()[0].casefold()) if language else None
    return Gutenberg(start, end, fields.get("title"), fields.get("author"), code)


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    heading: str | None  # the chapter title this block announces
    level: int  # Markdown heading level, 0 for a "Chapter N" heading


def _blocks(text: str, start: int, end: int, first_only: bool = False) -> list[_Block]:
    """Runs of non-blank lines, found line by line (a pattern spanning lines backtracks over long blank ones);
    `first_only`: the first of them, without reading on through the rest of the text."""
    blocks: list[_Block] = []
    block_start = block_end = -1
    pos = start
    while pos <= end and not (first_only and blocks):
        newline = text.find("\n", pos, end)
        line_end = end if newline < 0 else newline
        if text[pos:line_end].strip():
            if block_start < 0:
                block_start = pos
            block_end = line_end
        elif block_start >= 0:
            blocks.append(_block(text, block_start, block_end))
            block_start = -1
        pos = line_end + 1
    if block_start >= 0 and not (first_only and blocks):
        blocks.append(_block(text, block_start, block_end))
    return blocks


def _block(text: str, start: int, end: int) -> _Block:
    heading, level = _heading(text[start:end])
    return _Block(start, end, heading, level)


def _heading(block: str) -> tuple[str | None, int]:
    lines = [line.strip() for line in block.strip().split("\n")]
    first = lines[0]
    if len(first) > _HEADING_MAX_CHARS:
        return None, 0  # a heading is short: longer lines are never matched against the patterns below
    if len(lines) == 1 and (md := _MARKDOWN.fullmatch(first)):
        return md.group(2), len(md.group(1))
    if len(lines) > 2 or not (m := _HEADING.fullmatch(first)):
        return None, 0
    if m.group("sub") and first[-1] in ".!?,;" and len(first.split()) > 4:
        return None, 0  # "Chapter one. She ran away." is a sentence, not a heading
    title = first.rstrip(".:").strip()
    key = m.group("key") or m.group("named")
    if key.isupper() and len(key) > 1:  # "CHAPTER IV." -> "Chapter IV"
        title = key.capitalize() + title[len(key) :]
    if len(lines) == 2:
        subtitle = lines[1]
        if _HEADING.fullmatch(subtitle) or len(subtitle.split()) > _SUBTITLE_MAX_WORDS or len(subtitle) > 80:
            return None, 0
        title = f"{title}: {subtitle}" if title[-1:].isalnum() else f"{title} {subtitle}"
    return title, 0


def split_chapters(text: str, start: int = 0, end: int | None = None) -> list[ChapterSpan]:
    """Chapters of `text[start:end]` at their headings; one span (title None) when there are fewer than two.

    The spans tile the range's words: text between them is whitespace only.
    """
    end = len(text) if end is None else end
    blocks = _blocks(text, start, end)
    markdown_levels = sorted({b.level for b in blocks if b.level})
    level = next((lv for lv in markdown_levels if sum(b.level == lv for b in blocks) >= 2), None)
    if level is not None:
        is_heading = [b.level == level for b in blocks]
    else:
        is_heading = [b.heading is not None and b.level == 0 for b in blocks]

    runs: list[tuple[int, int]] = []  # blocks [first, end) of each chapter's heading run
    i = 0
    while i < len(blocks):
        if not is_heading[i]:
            i += 1
            continue
        run = i
        while run < len(blocks) and is_heading[run]:
            run += 1
        if run == len(blocks):
            break  # headings with nothing after them: not chapters
        if run - i >= _CONTENTS_RUN:
            # a table of contents; its last heading may be the first chapter's own
            headings = [b.heading or "" for b in blocks]  # "" where no heading: never a chapter
            last = _WORD.findall(headings[run - 1].casefold())
            later = (_WORD.findall(headings[k].casefold()) for k in range(run, len(blocks)) if is_heading[k])
            if last in later:
                i = run
                continue
            i = run - 1
        runs.append((i, run))
        i = run
    if len(runs) < 2:
        if not blocks:
            return [ChapterSpan(start, end, None)]
        return [ChapterSpan(blocks[0].start, blocks[-1].end, None)]
    if level is None and _has_volumes(text, blocks, runs):
        starts = _volume_chapters(text, blocks, runs)
    else:
        starts = [
            _Start(i, ": ".join(b.heading or "" for b in blocks[i:run]), None, list(range(i, run))) for i, run in runs
        ]
    spans = []
    front = blocks[: starts[0].block]
    if len(front) == 1 and front[0].heading is not None:
        starts[0].block = 0  # only a book heading before chapter 1: read it with chapter 1
    elif all(title_page_like(_block_text(text, b)) for b in front) and len(front) <= _TITLE_PAGE_BLOCKS:
        # the book's title page (title, author, contents) opens chapter 1, as front matter
        starts[0].matter = [k for k in range(starts[0].block) if _WORD.search(_block_text(text, blocks[k]))]
        starts[0].block = 0
    elif any(_WORD.search(text[b.start : b.end]) for b in front):
        spans.append(ChapterSpan(front[0].start, front[-1].end, None))
    ends = [b.end for b in blocks]
    for n, s in enumerate(starts):
        next_start = blocks[starts[n + 1].block].start if n + 1 < len(starts) else end
        spans.append(ChapterSpan(
            blocks[s.block].start, _last_end(ends, next_start), s.title, s.volume,
            tuple((blocks[k].start, blocks[k].end) for k in s.headings),
            tuple((blocks[k].start, blocks[k].end) for k in s.matter),
        ))
    return spans


@dataclass
class _Start:
    """A chapter as found: its first block, its own title, its volume, and the blocks read as its
    title (headings) or as a volume's title page (matter)."""

    block: int
    heading: str
    volume: Volume | None = None
    headings: list[int] = field(default_factory=list)
    matter: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.volume.name}, {self.heading}" if self.volume else self.heading


def _block_text(text: str, block: _Block) -> str:
    return text[block.start : block.end]


def _has_volumes(text: str, blocks: list[_Block], runs: list[tuple[int, int]]) -> bool:
    """Volume headings above chapter headings, or lines closing a volume between chapters."""
    kinds = [
        "volume" if volume_heading(_block_text(text, blocks[k])) else "chapter"
        for i, run in runs
        for k in range(i, run)
    ]
    if "volume" in kinds and "chapter" in kinds[kinds.index("volume") :]:
        return True
    return any(end_of_volume(_block_text(text, b)) for b in blocks[runs[0][1] : runs[-1][0]])


def _volume_chapters(text: str, blocks: list[_Block], runs: list[tuple[int, int]]) -> list[_Start]:
    """The chapters of a book in volumes: each titled with its volume, each volume's title page
    (and the illustrations around it) starting the volume's first chapter as front matter."""
    starts: list[_Start] = []
    volume: Volume | None = None
    pending: _Start | None = None  # a volume heading whose title page leads into its first chapter
    floor = 0  # the first block the next chapter may take: never the whole of the previous one
    for n, (i, run) in enumerate(runs):
        following = runs[n + 1][0] if n + 1 < len(runs) else len(blocks)
        opened = [v for k in range(i, run) if (v := volume_heading(_block_text(text, blocks[k])))]
        chapter_blocks = [k for k in range(i, run) if not volume_heading(_block_text(text, blocks[k]))]
        closing = [k for k in range(floor, i) if end_of_volume(_block_text(text, blocks[k]))]
        lead: list[int] = []
        if opened or closing:
            closed = end_of_volume(_block_text(text, blocks[closing[-1]])) if closing else None
            if closed is not None and volume is None:
                for earlier in starts:  # "END OF VOL. I.": the chapters so far were volume I
                    earlier.volume = earlier.volume or closed
            if opened:
                if volume is None and opened[-1].number == 2 and starts:
                    first = Volume(opened[-1].key, 1, opened[-1].style)
                    for earlier in starts:  # "VOL. II." after chapters: those were volume I
                        earlier.volume = earlier.volume or first
                volume = opened[-1]
            elif pending is None and closed is not None:
                volume = volume.next() if volume is not None and volume.key == closed.key else closed.next()
                if len(between := range(closing[-1] + 1, i)) == 1:  # "END OF THE FIRST BOOK" / "_REAPING_"
                    volume = replace(volume, subtitle=subtitle(_block_text(text, blocks[between[0]])))
            between = range(closing[-1] + 1, i) if closing else range(0)
            if closing and all(title_page_like(_block_text(text, blocks[k])) for k in between):
                lead = list(between)  # all of the page after "END OF VOL. I." is the next volume's
            else:
                lead = _title_page_before(text, blocks, i, closing[-1] + 1 if closing else floor + 1)
        if not chapter_blocks:  # a volume heading on its own
            after = list(range(run, following))
            if n + 1 < len(runs) and all(title_page_like(_block_text(text, blocks[k])) for k in after):
                pending = _Start(lead[0] if lead else i, "", volume, list(range(i, run)), lead + after)
                floor = following
                continue
            # prose follows it: the volume's opening, a chapter of its own
            starts.append(_Start(lead[0] if lead else i, volume.title if volume else "", None, [], lead))
            pending, floor = None, run
            continue
        heading = ": ".join(blocks[k].heading or _block_text(text, blocks[k]) for k in chapter_blocks)
        if pending is not None:
            start = _Start(pending.block, heading, volume, pending.headings + list(range(i, run)), pending.matter)
        else:
            start = _Start(lead[0] if lead else i, heading, volume, list(range(i, run)), lead)
        starts.append(start)
        pending, floor = None, run
    return starts


def _title_page_before(text: str, blocks: list[_Block], index: int, floor: int) -> list[int]:
    """The blocks just before a volume's heading that belong to its title page: illustrations, and
    short capitalised lines on the same page (one blank line apart), never before `floor`."""
    first = index
    while first - 1 >= floor:
        block = _block_text(text, blocks[first - 1])
        gap = text.count("\n", blocks[first - 1].end, blocks[first].start) - 1
        if is_illustration(block) or (title_page_like(block) and gap <= 1 and not end_of_volume(block)):
            first -= 1
        else:
            break
    return list(range(first, index))


def leading_title(text: str, start: int = 0, end: int | None = None) -> str | None:
    """The book's title when the text opens with a Markdown ``#`` heading."""
    blocks = _blocks(text, start, len(text) if end is None else end, first_only=True)
    return blocks[0].heading if blocks and blocks[0].level == 1 else None


def _last_end(ends: list[int], before: int) -> int:
    """The end of the last block that ends by `before`, bisected in the blocks' ends (in text order):
    a scan of every block for every chapter was quadratic in the length of the book."""
    return ends[bisect_right(ends, before) - 1]
