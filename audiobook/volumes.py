"""Volumes inside one text, and the pages between them.

A novel printed in volumes restarts its chapter numbers in each: ``VOL. II.``, ``VOLUME THE
SECOND``, ``BOOK III``, ``PART TWO`` head the volumes, and ``END OF VOL. I.`` closes one. Between
two volumes an edition may reprint its title page (``PRIDE AND PREJUDICE: / A Novel. / In Three
Volumes.``), and Project Gutenberg texts mark pictures with ``[Illustration: A VICARAGE HOUSE.]``.
This module recognises those lines; :mod:`audiobook.chapters` uses it to put the volume in each
chapter's title ("Volume II, Chapter I") and :mod:`audiobook.load` to mark the pages between as
front matter (read under a mark of their own, or skipped), never as scenes of the story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Style = Literal["roman", "digits", "word"]

_CARDINALS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
]
_ORDINALS = [
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth", "twentieth",
]
_ROMAN_VALUES = (("m", 1000), ("cm", 900), ("d", 500), ("cd", 400), ("c", 100), ("xc", 90), ("l", 50), ("xl", 40),
                 ("x", 10), ("ix", 9), ("v", 5), ("iv", 4), ("i", 1))
_ROMAN = re.compile(r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})", re.IGNORECASE)
_KEYS = {"vol": "Volume", "vol.": "Volume", "volume": "Volume", "book": "Book", "part": "Part"}
_KEY = r"(?P<key>vol\.?|volume|book|part)"
_NUMBER = r"(?P<number>the\s+[a-z]+|\d+|[ivxlcdm]+|[a-z]+)"
_HEADING = re.compile(_KEY + r"\s+" + _NUMBER + r"\.?(?:\s*[:.\-–—]\s*(?P<sub>\S.*?))?\s*", re.IGNORECASE)
_END_OF = re.compile(
    r"(?:the\s+)?end\s+of\s+(?:(?:the\s+)?(?P<ordinal>[a-z]+)\s+" + _KEY + r"|" + _KEY.replace("key", "key2")
    + r"\s+" + _NUMBER + r")\.?\s*",
    re.IGNORECASE,
)
# possessive (*+): the nested brackets never backtrack (the package's patterns nest no plain unbounded repeats)
ILLUSTRATION = re.compile(
    r"\[\s*(?:illustration|frontispiece)\b[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*+\]?\s*", re.IGNORECASE
)
_TITLE_PAGE_MAX_WORDS = 20
_TITLE_PAGE_MAX_LINES = 6


@dataclass(frozen=True)
class Volume:
    """One volume of a book: its name as chapter titles begin with it, and its title for a table of contents."""

    key: str  # "Volume", "Book", "Part"
    number: int
    style: Style  # how the text writes its numbers: "II", "2" or "Two"
    subtitle: str | None = None  # "Sowing" in ``BOOK THE FIRST`` / ``SOWING``

    @property
    def name(self) -> str:
        """"Volume II": what each of its chapters' titles starts with."""
        return f"{self.key} {format_number(self.number, self.style)}"

    @property
    def title(self) -> str:
        """"Book I: Sowing": its entry in the whole book's table of contents."""
        return f"{self.name}: {self.subtitle}" if self.subtitle else self.name

    def next(self) -> Volume:
        return Volume(self.key, self.number + 1, self.style)


def parse_number(text: str) -> tuple[int, Style] | None:
    """ "II" -> (2, roman), "2" -> (2, digits), "two" -> (2, word), "the second" -> (2, roman)."""
    word = text.strip().rstrip(".").casefold()
    if word.startswith("the "):
        ordinal = word[4:].strip()
        return (_ORDINALS.index(ordinal), "roman") if ordinal in _ORDINALS[1:] else None
    if word.isdigit():
        return int(word), "digits"
    if word in _CARDINALS[1:]:
        return _CARDINALS.index(word), "word"
    if word in _ORDINALS[1:]:
        return _ORDINALS.index(word), "roman"
    if _ROMAN.fullmatch(word):
        value, rest = 0, word
        for letters, amount in _ROMAN_VALUES:
            while rest.startswith(letters):
                value, rest = value + amount, rest[len(letters) :]
        return value, "roman"
    return None


def format_number(number: int, style: Style) -> str:
    if style == "digits":
        return str(number)
    if style == "word" and number < len(_CARDINALS):
        return _CARDINALS[number].capitalize()
    out, rest = "", number
    for letters, amount in _ROMAN_VALUES:
        while rest >= amount:
            out, rest = out + letters.upper(), rest - amount
    return out


def volume_heading(block: str) -> Volume | None:
    """The volume a heading block opens (``VOL. II.``, ``BOOK THE FIRST`` / ``_SOWING_``), or None."""
    lines = [line.strip() for line in block.strip().split("\n")]
    if len(lines) > 2 or not (m := _HEADING.fullmatch(lines[0])) or not (number := parse_number(m.group("number"))):
        return None
    named = m.group("sub") or (lines[1] if len(lines) == 2 else None)
    if named is not None and (named := subtitle(named)) is None:
        return None
    return Volume(_KEYS[m.group("key").casefold()], number[0], number[1], named)


def subtitle(line: str) -> str | None:
    """A volume's own name, as a table of contents shows it: ``_SOWING_`` -> "Sowing"; None if it is not one."""
    name = line.strip().strip("_*").strip()
    if not name or "\n" in name or len(name.split()) > 10:
        return None
    return name.title() if name.isupper() else name


def end_of_volume(block: str) -> Volume | None:
    """The volume that ``END OF VOL. I.`` or ``END OF THE SECOND BOOK`` closes, or None."""
    m = _END_OF.fullmatch(block.strip())
    if not m:
        return None
    if m.group("ordinal"):
        number = parse_number(f"the {m.group('ordinal')}")
        key = m.group("key")
    else:
        number = parse_number(m.group("number"))
        key = m.group("key2")
    return Volume(_KEYS[key.casefold()], number[0], number[1]) if number else None


def is_illustration(block: str) -> bool:
    """``[Illustration]``, ``[Illustration: A VICARAGE HOUSE.]``, ``[Frontispiece: ...]``: a picture's place."""
    return bool(ILLUSTRATION.fullmatch(block.strip()))


def title_page_like(block: str) -> bool:
    """A block such as a title page holds: a few short lines whose longer words are capitalised
    (``A Novel.``, ``In Three Volumes.``, ``By the Author of "Sense and Sensibility."``), or an
    illustration. Not a line of the story: ``To Pemberley, therefore, they were to go.``"""
    if is_illustration(block):
        return True
    text = block.strip()
    lines = text.split("\n")
    words = text.split()
    if not words or len(lines) > _TITLE_PAGE_MAX_LINES or len(words) > _TITLE_PAGE_MAX_WORDS:
        return False
    if text[0] in "\"'“‘":
        return False  # dialogue
    long_words = [w.strip("\"'“”‘’()_*,.:;") for w in words]
    return all(w[:1].isupper() or not w[:1].isalpha() for w in long_words if len(w) > 3)
