"""Load stage: a story file becomes a `Story`: its text, title, paragraphs and sections.

Offsets everywhere in the project point into `Story.text`, which is exactly what
``open(path, encoding=story.encoding).read()`` returns (universal newlines, no BOM).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import charset_normalizer

from .errors import InputError

STORY_SUFFIXES = (".txt", ".text", ".md")

SectionKind = Literal["front-matter", "scene", "back-matter"]

# A line with no letters or digits ("***", "* * *", "---", "~~~") or a fan-fiction
# divider such as "oOoOo" / "xXx" separates scenes.
_SEPARATOR = re.compile(r"^\s*(?:[^\w\s]+(?:\s*[^\w\s]+)*|(?:[oO0xX]\s*){3,}|_{3,})\s*$")
# Author's notes, disclaimers and edit notes that frame a story.
_MATTER = re.compile(
    r"^\W*(?:author'?s?'?\s*notes?|a\s*/\s*n\b|an:|disclaimer|edit(?:ed)?\b(?:\s+on)?|"
    r"note\s*:|warning\s*:|summary\s*:|dedication\s*:)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_WRAPPED_LINE_MAX = 100  # longer lines in a block mean "one paragraph per line"
_MATTER_TAIL_PARAGRAPHS = 12  # back matter must start within this many paragraphs of the end


@dataclass(frozen=True)
class Paragraph:
    start: int  # offsets into Story.text, without surrounding whitespace
    end: int
    section: int  # index into Story.sections
    is_title: bool = False


@dataclass(frozen=True)
class Section:
    kind: SectionKind
    title: str  # "Author's note", "Scene 2", or the chapter title when it is the only scene


@dataclass(frozen=True)
class Story:
    path: Path
    text: str
    encoding: str
    title: str
    paragraphs: tuple[Paragraph, ...]
    sections: tuple[Section, ...]
    offset: int = 0  # where `text` starts in the source file (a chapter of a longer text)

    def paragraph_text(self, index: int) -> str:
        p = self.paragraphs[index]
        return self.text[p.start : p.end]


def find_stories(source: Path) -> list[Path]:
    """A file is one story; a folder is a book whose stories are its text files in name order."""
    if not source.exists():
        raise InputError(f"{source}: no such file or folder: check the path")
    if source.is_file():
        return [source]
    stories = sorted(
        (p for p in source.iterdir() if p.is_file() and p.suffix.lower() in STORY_SUFFIXES),
        key=lambda p: p.name,
    )
    if not stories:
        raise InputError(
            f"{source}: folder has no stories: add .txt or .md files, one per chapter"
        )
    return stories


def read_text(path: Path) -> tuple[str, str]:
    """Decode a story file: UTF-8 (with or without BOM), else the encoding detected."""
    text, encoding, _ = read_text_replacing(path)
    return text, encoding


def read_text_replacing(path: Path) -> tuple[str, str, int]:
    """Like `read_text`, and how many undecodable characters became U+FFFD.

    A file that is UTF-8 but for a few broken bytes (a bad copy, a lone surrogate written by
    a careless program) keeps its UTF-8 text with those bytes replaced, instead of being
    misread whole as some legacy encoding. ``open(path, encoding=..., errors="replace")``
    then returns the same text.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file: check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a story file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if b"\x00" in data:
        raise InputError(f"{path}: binary file, not a story: give a plain text file")
    replaced = 0
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
        text = data.decode(encoding, errors="replace")
        replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    else:
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            lenient = data.decode("utf-8", errors="replace")
            replaced = lenient.count("\ufffd") - data.count("\ufffd".encode())
            multibyte = sum(1 for ch in lenient if ord(ch) > 127 and ch != "\ufffd")
            if multibyte >= replaced or _encoded_surrogates(data):
                text, encoding = lenient, "utf-8"
            else:
                best = charset_normalizer.from_bytes(data).best()
                if best is None:
                    raise InputError(
                        f"{path}: not readable as text: save it as UTF-8 and try again"
                    ) from None
                encoding = best.encoding
                text = data.decode(encoding)
                replaced = 0
    # What open(path, encoding=...).read() returns: universal newlines.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, replaced


def _encoded_surrogates(data: bytes) -> bool:
    """UTF-8 apart from surrogate code points encoded as if they were characters (CESU-8 style)."""
    try:
        data.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def title_from_filename(path: Path) -> str:
    """'03 - flying_off-the tower.txt' -> 'Flying Off The Tower' (number prefix dropped)."""
    stem = re.sub(r"^\s*\d+\s*[-._)\]]*\s*", "", path.stem) or path.stem
    stem = re.sub(r"[_]+|(?<=\w)-(?=\w)", " ", stem).strip()
    words = stem.split()
    if stem.islower() or stem.isupper():
        return " ".join(w.capitalize() for w in words)
    return " ".join(words) or path.stem


def _blocks(text: str) -> list[tuple[int, int, int]]:
    """(start, end, blank_lines_before) for each run of non-blank lines."""
    blocks = []
    blank_run = 0
    block_start = None
    pos = 0
    for line in text.split("\n"):
        line_end = pos + len(line)
        if line.strip():
            if block_start is None:
                block_start, before = pos, blank_run
            block_end = line_end
            blank_run = 0
        else:
            if block_start is not None:
                blocks.append((block_start, block_end, before))
                block_start = None
            blank_run += 1
        pos = line_end + 1
    if block_start is not None:
        blocks.append((block_start, block_end, before))
    return blocks


def _paragraph_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A block is one hard-wrapped paragraph, or one paragraph per line when its lines are long."""
    lines = []
    pos = start
    for line in text[start:end].split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    if len(lines) > 1 and any(e - s > _WRAPPED_LINE_MAX for s, e in lines[:-1]):
        spans = lines
    else:
        spans = [(start, end)]
    result = []
    for s, e in spans:
        chunk = text[s:e]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            result.append((s + lead, s + len(chunk.rstrip())))
    return result


def _looks_like_title(line: str) -> bool:
    line = line.strip().lstrip("#").strip()
    words = line.split()
    if not words or len(words) > 12 or len(line) > 100 or "\n" in line:
        return False
    if line[0] in "\"'“‘(" or line[-1] in ".,;:\"'”’-–—" or _MATTER.match(line):
        return False
    long_words = [w for w in words if len(w) > 3]
    return bool(long_words) and all(w[0].isupper() or not w[0].isalpha() for w in long_words)


def parse_story(
    path: Path, text: str, encoding: str, title: str | None = None, offset: int = 0
) -> Story:
    """Find title line, paragraphs, scene breaks and author's notes in `text`.

    `title`, when given, is the chapter's known title (a heading found by the chapter
    splitter, or a table-of-contents entry): a first paragraph that reads the same (a
    heading line) is then the title line even when it would not look like one.
    """
    spans: list[tuple[int, int, bool]] = []  # (start, end, scene break before)
    for b_start, b_end, blank_before in _blocks(text):
        if _SEPARATOR.match(text[b_start:b_end]):
            spans.append((-1, -1, True))  # a separator line: only marks a break
            continue
        for i, (s, e) in enumerate(_paragraph_spans(text, b_start, b_end)):
            spans.append((s, e, i == 0 and blank_before >= 2))
    # Merge separator markers into the following paragraph's break flag.
    paras: list[tuple[int, int, bool]] = []
    pending_break = False
    for s, e, brk in spans:
        if s < 0:
            pending_break = True
            continue
        paras.append((s, e, (brk or pending_break) and bool(paras)))
        pending_break = False
    if not paras or not _WORD.search(text):
        raise InputError(f"{path}: the story is empty: it has no words to read")

    title_index = None
    first_text = text[paras[0][0] : paras[0][1]]
    if title is not None:
        if len(paras) > 1 and _same_heading(first_text, title):
            title_index = 0
    elif len(paras) > 1 and _looks_like_title(first_text):
        title_index = 0
        title = first_text.strip().lstrip("#").strip()
    else:
        title = title_from_filename(path)
    body_start = 0 if title_index is None else 1

    kinds = ["scene"] * len(paras)
    # Front matter: marker paragraphs at the start, up to a scene break close behind them.
    if body_start < len(paras) and _MATTER.match(text[paras[body_start][0] :]):
        end = body_start + 1
        for j in range(body_start + 1, min(len(paras), body_start + 7)):
            if paras[j][2]:
                end = j
                break
        else:
            while end < len(paras) and _MATTER.match(text[paras[end][0] :]):
                end += 1
        for j in range(body_start, end):
            kinds[j] = "front-matter"
    # Back matter: from the first marker paragraph near the end, to the end.
    tail_from = max(body_start + 1, len(paras) - _MATTER_TAIL_PARAGRAPHS)
    for j in range(tail_from, len(paras)):
        if kinds[j] == "scene" and _MATTER.match(text[paras[j][0] :]):
            for k in range(j, len(paras)):
                kinds[k] = "back-matter"
            break

    sections: list[Section] = []
    section_of: list[int] = []
    for j in range(body_start, len(paras)):
        kind = kinds[j]
        if not sections or kind != sections[-1].kind or (paras[j][2] and kind == "scene"):
            sections.append(Section(kind=kind, title=""))
        section_of.append(len(sections) - 1)
    if title_index is not None:  # the title is read at the start of the first section
        section_of.insert(0, 0)
    paragraphs = tuple(
        Paragraph(s, e, section_of[j], is_title=j == title_index)
        for j, (s, e, _) in enumerate(paras)
    )
    sections = _name_sections(sections, title)
    return Story(path, text, encoding, title, paragraphs, tuple(sections), offset)


def _same_heading(line: str, title: str) -> bool:
    def words(s: str) -> list[str]:
        return _WORD.findall(s.casefold())

    line_words, title_words = words(line), words(title)
    if line_words == title_words:
        return True
    # "Chapter 1" in the contents and "Chapter 1: The Beginning" as the heading, or
    # "1. Arrival" and "Arrival", either way round
    shorter = min(len(line_words), len(title_words))
    return (
        shorter > 0
        and (line_words[:shorter] == title_words[:shorter] or line_words[-shorter:] == title_words[-shorter:])
        and len(line_words) <= 12
        and "\n" not in line.strip()
        and line.rstrip()[-1:] not in ".!?,;\"'”’"
    )


def _name_sections(sections: list[Section], title: str) -> list[Section]:
    scenes = sum(1 for s in sections if s.kind == "scene")
    named = []
    n = 0
    for s in sections:
        if s.kind == "scene":
            n += 1
            name = title if scenes == 1 else f"Scene {n}"
        else:
            name = "Author's note"
        named.append(Section(kind=s.kind, title=name))
    return named


def load_story(path: Path) -> Story:
    text, encoding = read_text(path)
    return parse_story(path, text, encoding)
