"""Load stage: a story file becomes a `Story`: its text, title, paragraphs and sections.

Offsets everywhere in the project point into `Story.text`, which is exactly what
``open(path, encoding=story.encoding).read()`` returns (universal newlines, no BOM).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import charset_normalizer

from .errors import InputError
from .volumes import end_of_volume, is_illustration

STORY_SUFFIXES = (".txt", ".text", ".md")

SectionKind = Literal["front-matter", "scene", "back-matter"]
AUTHORS_NOTE = "Author's note"  # the title of an author's-note section

# A line with no letters or digits ("***", "* * *", "---", "~~~", "___") or a fan-fiction
# divider such as "oOoOo" / "xXx" / "000" separates scenes. Neither pattern nests a
# quantifier: each character is looked at once, however long or odd the block.
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_OX_DIVIDER = re.compile(r"[oO0xX\s]+")
# Author's notes, disclaimers and edit notes that frame a story.
_MATTER = re.compile(  # used with .match(text, pos): anchored there, no slice of the rest of the book
    r"\W*(?:author'?s?'?\s*notes?|a\s*/\s*n\b|an:|disclaimer|edit(?:ed)?\b(?:\s+on)?|"
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
    title: str  # "Scene 2", the chapter's title if it is the only scene, "Author's note", "Illustration", "Title page"


@dataclass(frozen=True)
class Story:
    """One story or chapter as read: its text (line endings normalised, offsets into it used by every
    later stage), its title, paragraphs and sections (scenes, author's notes, a volume's pages)."""

    path: Path
    text: str
    encoding: str
    title: str
    paragraphs: tuple[Paragraph, ...]
    sections: tuple[Section, ...]
    offset: int = 0  # where `text` starts in the source file (a chapter of a longer text)
    volume: str | None = None  # the volume it belongs to ("Volume II"), in a book of volumes
    # Scene dividers ("xXx", "oOoOo", "* * *"): read as breaks, never spoken
    dividers: tuple[tuple[int, int], ...] = ()

    def paragraph_text(self, index: int) -> str:
        p = self.paragraphs[index]
        return self.text[p.start : p.end]


def find_stories(source: Path) -> list[Path]:
    """A file is one story; a folder is a book whose stories are its text files in name order."""
    if not source.exists():
        raise InputError(f"{source}: no such file or folder: check the path")
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise InputError(
            f"{source}: not a story file or folder (a device or other special file): give a .txt, .md or .epub file"
        )
    stories = sorted(
        # hidden files (".notes.txt") and macOS resource forks ("._chapter.txt") are not chapters
        (
            p
            for p in source.iterdir()
            if p.is_file() and p.suffix.lower() in STORY_SUFFIXES and not p.name.startswith(".")
        ),
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

    UTF-8 is preferred, then a byte order mark (UTF-16 from Windows Notepad's "Unicode", UTF-32),
    then detection (see `detect_encoding`, whose choice the caller should warn about). A file that
    is UTF-8 but for a few broken bytes (a bad copy, a lone surrogate written by a careless
    program) keeps its UTF-8 text with those bytes replaced, instead of being misread whole as
    some legacy encoding. ``open(path, encoding=..., errors="replace")`` then returns the same text.
    """
    text, encoding, replaced, _ = read_story_text(path)
    return text, encoding, replaced


def read_story_text(path: Path) -> tuple[str, str, int, bool]:
    """The text, its encoding, how many characters were replaced, and whether the encoding was guessed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file: check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a story file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    replaced = 0
    guessed = False
    bom = next((encoding for mark, encoding in _BOMS if data.startswith(mark)), None)
    if bom is not None:
        encoding = bom
        text = data.decode(encoding, errors="replace")
        replaced = text.count("\ufffd") - data.decode(encoding, errors="ignore").count("\ufffd")
        if "\x00" in text:
            raise InputError(f"{path}: binary file, not a story: give a plain text file")
    elif b"\x00" in data:
        raise InputError(f"{path}: binary file, not a story: give a plain text file")
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
                detected = detect_encoding(data)
                if detected is None:
                    raise InputError(f"{path}: not readable as text: save it as UTF-8 and try again") from None
                text, encoding = data.decode(detected), detected
                replaced = 0
                guessed = True
    # What open(path, encoding=...).read() returns: universal newlines.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, replaced, guessed


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
# Legacy encodings stories are saved in, most likely first: a tie goes to the earlier one.
_LEGACY = ("cp1252", "iso-8859-15", "cp1250", "cp1251", "koi8-r", "iso-8859-7", "cp1253", "iso-8859-2", "mac-roman")


def detect_encoding(data: bytes) -> str | None:
    """The legacy encoding a non-UTF-8 file was most likely saved in.

    Short texts defeat statistical detectors (charset-normalizer reads "Café naïve" in Latin-1
    as Urdu, and Russian in KOI8-R as Japanese), so each likely encoding, and the detector's own
    choice, is scored by how much its decoding looks like words: letters of one script, capital
    only at the start, and no symbols or presentation forms in the middle of words.
    """
    best_guess = charset_normalizer.from_bytes(data[: 1 << 20]).best()
    candidates = list(_LEGACY) + ([best_guess.encoding] if best_guess is not None else [])
    scored = []
    for rank, encoding in enumerate(candidates):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        scored.append((_plausibility(text), -rank, encoding))
    return max(scored)[2] if scored else None


def _plausibility(text: str) -> int:
    score = 0
    for token in text[: 1 << 20].split():
        if token.isascii():
            continue
        word = token.strip("".join(ch for ch in set(token) if unicodedata.category(ch)[0] in "PN"))  # «Ça» -> Ça
        if not word:
            continue
        letters = [ch for ch in word if ch.isalpha()]
        if len(letters) != len(word):
            score -= 2  # a symbol, a box-drawing or control character inside a word
            continue
        scripts = {unicodedata.name(ch, "?").split()[0] for ch in letters}
        if len(scripts) > 1 or any(unicodedata.category(ch) == "Lo" for ch in letters):
            score -= 2  # two scripts in one word, or presentation forms: a misreading
        elif scripts == {"LATIN"} and 2 * sum(ord(ch) > 127 for ch in letters) > len(letters):
            score -= 1  # "Ïðèâåò": Latin words are mostly plain letters with an accent here and there
        elif all(ch.islower() for ch in letters[1:]):
            score += 1  # "Привет", "naïve"
        elif not word.isupper():
            score -= 1  # "пРИВЕТ": case flipped inside the word
    return score




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


def _is_divider(block: str) -> bool:
    if not _LETTER_OR_DIGIT.search(block):
        return True  # a block is never blank, so it has some punctuation or symbol
    return _OX_DIVIDER.fullmatch(block) is not None and sum(not ch.isspace() for ch in block) >= 3


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
    path: Path,
    text: str,
    encoding: str,
    title: str | None = None,
    offset: int = 0,
    headings: Sequence[tuple[int, int]] = (),
    matter: Sequence[tuple[int, int]] = (),
) -> Story:
    """Find title line, paragraphs, scene breaks, author's notes and a volume's pages in `text`.

    `title`, when given, is the chapter's known title (a heading found by the chapter
    splitter, or a table-of-contents entry): a first paragraph that reads the same (a
    heading line) is then the title line even when it would not look like one. `headings`
    and `matter` (offsets into `text`), when given, are the heading lines read as the title
    (a volume's and a chapter's) and the blocks of a volume's title page, which are front
    matter. Illustration markers and ``END OF VOL. I.`` lines are front matter anywhere.
    """
    paras, dividers = _paragraphs(text)
    if not paras or not _WORD.search(text):
        raise InputError(f"{path}: the story is empty: it has no words to read")
    titles, title = _title_lines(path, text, paras, title, headings)
    labels = _labels(text, paras, titles, matter)
    sections, continues, section_of = _sections(paras, titles, labels)
    paragraphs = tuple(
        Paragraph(s, e, section_of[j], is_title=j in titles)
        for j, (s, e, _) in enumerate(paras)
    )
    return Story(
        path, text, encoding, title, paragraphs, tuple(_name_sections(sections, continues, title)), offset,
        dividers=tuple(dividers),
    )


_Para = tuple[int, int, bool]  # a paragraph's start and end in the text, and whether a scene break comes before it


def _paragraphs(text: str) -> tuple[list[_Para], list[tuple[int, int]]]:
    """The paragraphs, each marked with whether a scene break comes before it, and the divider lines."""
    spans: list[tuple[int, int, bool]] = []  # (start, end, scene break before)
    dividers: list[tuple[int, int]] = []
    for b_start, b_end, blank_before in _blocks(text):
        if _is_divider(text[b_start:b_end]):
            spans.append((-1, -1, True))  # a separator line: only marks a break
            dividers.append((b_start, b_end))
            continue
        for i, (s, e) in enumerate(_paragraph_spans(text, b_start, b_end)):
            spans.append((s, e, i == 0 and blank_before >= 2))
    # Merge separator markers into the following paragraph's break flag.
    paras: list[_Para] = []
    pending_break = False
    for s, e, brk in spans:
        if s < 0:
            pending_break = True
            continue
        paras.append((s, e, (brk or pending_break) and bool(paras)))
        pending_break = False
    return paras, dividers


def _within(para: _Para, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(s <= para[0] and para[1] <= e for s, e in ranges)


def _title_lines(
    path: Path, text: str, paras: list[_Para], title: str | None, headings: Sequence[tuple[int, int]]
) -> tuple[set[int], str]:
    """The paragraphs read as the title (the heading lines), and the title."""
    titles = {j for j in range(len(paras)) if _within(paras[j], headings)}
    if len(titles) == len(paras):
        titles = set()  # nothing but headings: read them as the story
    first_text = text[paras[0][0] : paras[0][1]]
    if titles:
        title = title or text[paras[min(titles)][0] : paras[min(titles)][1]].strip()
    elif title is not None:
        if len(paras) > 1 and _same_heading(first_text, title):
            titles = {0}
    elif len(paras) > 1 and _looks_like_title(first_text):
        titles = {0}
        title = first_text.strip().lstrip("#").strip()
    else:
        title = title_from_filename(path)
    return titles, title


def _labels(
    text: str, paras: list[_Para], titles: set[int], matter: Sequence[tuple[int, int]]
) -> list[str | None]:
    """What each paragraph is if it is not the story (None: the story): a volume's title page,
    an illustration, "END OF VOL. I.", an author's note at the start or the end."""
    labels: list[str | None] = [None] * len(paras)
    for j in set(range(len(paras))) - titles:
        paragraph = text[paras[j][0] : paras[j][1]]
        if _within(paras[j], matter):
            labels[j] = "Title page"  # with the volume's frontispiece
        elif is_illustration(paragraph):
            labels[j] = "Illustration"
        elif closed := end_of_volume(paragraph):
            labels[j] = f"End of {closed.name}"
    body = [j for j in range(len(paras)) if j not in titles and labels[j] is None]
    body_start = body[0] if body else len(paras)
    # Author's notes: marker paragraphs at the start, up to a scene break close behind them...
    if body_start < len(paras) and _MATTER.match(text, paras[body_start][0]):
        end = body_start + 1
        for j in range(body_start + 1, min(len(paras), body_start + 7)):
            if paras[j][2]:
                end = j
                break
        else:
            while end < len(paras) and _MATTER.match(text, paras[end][0]):
                end += 1
        for j in range(body_start, end):
            labels[j] = labels[j] or AUTHORS_NOTE
    # ...and from the first marker paragraph near the end, to the end.
    tail_from = max(body_start + 1, len(paras) - _MATTER_TAIL_PARAGRAPHS)
    for j in range(tail_from, len(paras)):
        if labels[j] is None and j not in titles and _MATTER.match(text, paras[j][0]):
            for k in range(j, len(paras)):
                labels[k] = AUTHORS_NOTE if k not in titles else None
            break
    return labels


def _sections(
    paras: list[_Para], titles: set[int], labels: list[str | None]
) -> tuple[list[Section], list[bool], dict[int, int]]:
    """The sections in order, whether each is a scene going on after an illustration inside it, and
    each paragraph's section (a heading's is the section after it)."""
    story = [j for j in range(len(paras)) if j not in titles and labels[j] is None]
    first_scene, last_scene = (story[0], story[-1]) if story else (len(paras), -1)
    sections: list[Section] = []
    continues: list[bool] = []  # a scene going on after an illustration inside it
    section_of: dict[int, int] = {}
    for j in range(len(paras)):
        if j in titles:
            continue
        label = labels[j]
        kind: SectionKind = "scene" if label is None else "back-matter" if j > last_scene else "front-matter"
        current = sections[-1] if sections else None
        if current is None or (kind, label or "") != (current.kind, current.title) or (paras[j][2] and kind == "scene"):
            after_picture = len(sections) >= 2 and current is not None and current.title == "Illustration"
            continues.append(kind == "scene" and after_picture and sections[-2].kind == "scene" and j > first_scene)
            sections.append(Section(kind=kind, title=label or ""))
        section_of[j] = len(sections) - 1
    # A heading is read at the start of the section after it (a volume's heading inside its title page).
    following = len(sections) - 1
    for j in reversed(range(len(paras))):
        if j in titles:
            section_of[j] = max(following, 0)
        else:
            following = section_of[j]
    return sections, continues, section_of


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


def _name_sections(sections: list[Section], continues: list[bool], title: str) -> list[Section]:
    """Scenes are "Scene 1", "Scene 2"... (or the chapter's title when there is one); a scene going
    on after an illustration keeps its name; other sections keep theirs ("Author's note")."""
    scenes = sum(1 for s, more in zip(sections, continues, strict=True) if s.kind == "scene" and not more)
    named: list[Section] = []
    n = 0
    for s, more in zip(sections, continues, strict=True):
        if s.kind != "scene":
            named.append(s)
            continue
        if not more:
            n += 1
        named.append(Section(kind="scene", title=title if scenes == 1 else f"Scene {n}"))
    return named


def load_story(path: Path) -> Story:
    text, encoding = read_text(path)
    return parse_story(path, text, encoding)
