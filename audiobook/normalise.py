"""Normalise stage: what eSpeak NG is given to say, so that it reads a story as a person would.

It sits between segmentation and synthesis and changes only what is spoken: offsets,
transcripts and titles keep the story's own text. Each change is a `Rewrite` of a span of
the input; everything between rewrites passes through untouched. Only what eSpeak NG
(1.51) was measured to get wrong is rewritten (``espeak-ng -q -x TEXT`` prints its phonemes;
tests/test_normalise.py keeps the measurements):

=====================  ===============================  =================================
input                  eSpeak NG alone says             given instead
=====================  ===============================  =================================
``Mr. Smith``          "mister" + sentence break        ``Mister Smith`` (Mrs, Ms, Dr, St,
                                                        Prof, Sgt, Capt, Lt, Col, Gen, Mt)
``No. 5``, ``#1``      "no" + break, "hash one"         ``number 5``, ``number 1``
``in 1999``            "nineteen hundred and ninety     ``in nineteen ninety-nine``
                       nine"
``1990s``, ``'90s``    "... ninety z"                   ``nineteen nineties``, ``nineties``
``3:05``, ``3:00``     "three zero five", "... zero     ``three oh five``, ``three o'clock``
                       zero"
``$5``, ``£3.50``      "dollar five", "pound three      ``five dollars``, ``three pounds
                       point five zero"                 fifty``
``pages 2–3``          "two three"                      ``two to three``
``L-Luka``, ``y-you``  "el Luka", "why you"             ``Lu- Luka``, ``you- you``
``-nii`` honorific     "nee-eye"                        ``-nee``
``IT IS``, ``US``      spelt "I T", "U S"               lowercase, except known acronyms
``*sigh*``, ``Miku~``  "asterisk", "tilde"              the marks dropped
emoji, zero-width      "red heart", letter names        dropped (they carry no words)
=====================  ===============================  =================================

Left alone because eSpeak NG already reads them well: plain and decimal numbers, ordinals
(``23rd``), percentages, ``a.m./p.m.``, ellipses and em-dashes (it pauses), Japanese
honorifics (``Shiroshi-san`` is one word), ``Main St.`` ("street").

Every word of the input is either passed through or inside exactly one rewrite whose
spoken text has words of its own, and rewrites never cut a word in half: that is what lets
the every-word-once check run on the story text while the engine hears the normalised text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from num2words import num2words

_WORD_CHAR = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Rewrite:
    start: int  # the span of the input text it replaces
    end: int
    spoken: str  # what is said instead ("" drops the span)


def normalise(text: str, pronunciations: Mapping[str, str] = {}) -> str:
    """The text as eSpeak NG should be given it. `pronunciations` maps whole words to respellings."""
    return apply(text, rewrites(text, pronunciations))


def apply(text: str, changes: tuple[Rewrite, ...]) -> str:
    out = []
    pos = 0
    for r in changes:
        out.append(text[pos : r.start])
        out.append(r.spoken)
        pos = r.end
    out.append(text[pos:])
    return "".join(out)


def rewrites(text: str, pronunciations: Mapping[str, str] = {}) -> tuple[Rewrite, ...]:
    """Non-overlapping rewrites in text order; rules earlier in `_RULES` win a contested span."""
    taken: list[Rewrite] = []
    rules: list[Callable[[str], Iterator[Rewrite]]] = [_unspeakable]
    if pronunciations:
        rules.append(_pronunciation_rule(pronunciations))
    rules.extend(_RULES)
    starts: list[int] = []  # `taken`, kept in text order, and its starts for bisecting: linear in rewrites
    for rule in rules:
        for r in rule(text):
            i = bisect.bisect_right(starts, r.start)
            free = (i == 0 or taken[i - 1].end <= r.start) and (i == len(taken) or r.end <= taken[i].start)
            if r.start < r.end and free:
                taken.insert(i, _padded(text, r))
                starts.insert(i, r.start)
    return tuple(taken)


def _padded(text: str, r: Rewrite) -> Rewrite:
    """Keep a rewrite from gluing onto a neighbouring word: 'a\u200bb' -> 'a b', not 'ab'."""
    spoken = r.spoken
    before = text[r.start - 1] if r.start > 0 else " "
    after = text[r.end] if r.end < len(text) else " "
    if _WORD_CHAR.match(before) and (not spoken or _WORD_CHAR.match(spoken[0])):
        spoken = " " + spoken
    if _WORD_CHAR.match(after) and (not spoken.strip() or _WORD_CHAR.match(spoken[-1])):
        spoken = spoken + " "
    if spoken.strip() == "" and spoken:
        spoken = " "
    return Rewrite(r.start, r.end, spoken)


# --- rules -------------------------------------------------------------------------------


def _unspeakable(text: str) -> Iterator[Rewrite]:
    """Lone surrogates, controls, zero-width and format characters, emoji and pictographs."""
    for run in _NOT_PLAIN_ASCII.finditer(text):  # printable ASCII is always spoken: only look past it
        start = None
        for i in range(run.start(), run.end()):
            bad = _is_unspeakable(text[i])
            if bad and start is None:
                start = i
            elif not bad and start is not None:
                yield Rewrite(start, i, "")
                start = None
        if start is not None:
            yield Rewrite(start, run.end(), "")


_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e\n\t]+")


def _is_unspeakable(ch: str) -> bool:
    if ch in "\n\t":
        return False
    code = ord(ch)
    category = unicodedata.category(ch)
    if category in ("Cs", "Cc", "Cf", "Co", "Cn"):  # lone surrogates, controls, zero-width, bidi marks
        return True
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors
        return True
    if category == "Sk" and code >= 0x1F000:  # emoji skin tones
        return True
    return category == "So" and code >= 0x2190  # arrows, dingbats, emoji, U+FFFD; keeps (c) and degrees


def _pronunciation_rule(pronunciations: Mapping[str, str]) -> Callable[[str], Iterator[Rewrite]]:
    """Whole words (or phrases), longest first. A lowercase key matches any case; a key with
    capitals matches that case only. A capitalised match keeps its capital."""
    keys = sorted((k for k in pronunciations if k.strip()), key=len, reverse=True)
    if not keys:
        return lambda text: iter(())
    exact = [k for k in keys if k != k.lower()]
    loose = [k for k in keys if k == k.lower()]
    patterns = []
    if exact:
        patterns.append(re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, exact)) + r")(?![\w])"))
    if loose:
        patterns.append(re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, loose)) + r")(?![\w])", re.IGNORECASE))

    def rule(text: str) -> Iterator[Rewrite]:
        for pattern in patterns:
            for m in pattern.finditer(text):
                word = m.group(0)
                spoken = pronunciations.get(word, pronunciations.get(word.lower(), word))
                if word[:1].isupper() and spoken[:1].islower():
                    spoken = spoken[:1].upper() + spoken[1:]
                yield Rewrite(m.start(), m.end(), spoken)

    return rule


_TITLES = {
    "mr": "Mister", "mrs": "Missus", "ms": "Miz", "mx": "Mix", "dr": "Doctor", "st": "Saint",
    "prof": "Professor", "sgt": "Sergeant", "capt": "Captain", "lt": "Lieutenant",
    "col": "Colonel", "gen": "General", "mt": "Mount", "fr": "Father", "rev": "Reverend",
}
_TITLE = re.compile(r"\b(" + "|".join(_TITLES) + r")\.(?=\s+[A-Z])", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"\b(?:No|no|NO)\.(?=\s*\d)|#(?=\d)")


def _titles(text: str) -> Iterator[Rewrite]:
    for m in _TITLE.finditer(text):
        word = _TITLES[m.group(1).lower()]
        yield Rewrite(m.start(), m.end(), word.upper() if m.group(1).isupper() and len(m.group(1)) > 1 else word)
    for m in _NUMBER_SIGN.finditer(text):
        yield Rewrite(m.start(), m.end(), "number")


def _words(n: int | float) -> str:
    return num2words(n).replace(",", "")


_TIME = re.compile(r"(?<![\w:.,])([01]?\d|2[0-4]):([0-5]\d)(?![\w:])")


def _times(text: str) -> Iterator[Rewrite]:
    for m in _TIME.finditer(text):
        hours, minutes = int(m.group(1)), int(m.group(2))
        if minutes == 0:
            before_am_pm = re.match(r"\s*[ap]\.?m\b", text[m.end() :], re.I)
            spoken = _words(hours) if before_am_pm else f"{_words(hours)} o'clock"
        elif minutes < 10:
            spoken = f"{_words(hours)} oh {_words(minutes)}"
        else:
            spoken = f"{_words(hours)} {_words(minutes)}"
        yield Rewrite(m.start(), m.end(), spoken)


_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "sen", "sen")}
# At most 15 digits: a larger sum is no amount anyone says in words (num2words overflows past 10**306,
# and int() refuses 4,300 digits); it is left to eSpeak NG as digits.
_MONEY = re.compile(
    r"([$£€¥])\s?(\d{1,3}(?:,\d{3}){1,4}|\d{1,15})(?:\.(\d{2}))?(?:\s?(thousand|million|billion|trillion)\b)?(?![\w]|[.,]\d)"
)


def _money(text: str) -> Iterator[Rewrite]:
    for m in _MONEY.finditer(text):
        one, many, small_one, small_many = _CURRENCIES[m.group(1)]
        whole = int(m.group(2).replace(",", ""))
        cents = int(m.group(3) or 0)
        scale = m.group(4)
        if scale:
            amount = _words(whole) + f" {scale.lower()}"
            if cents:
                amount = f"{_words(float(f'{whole}.{m.group(3)}'))} {scale.lower()}"
            spoken = f"{amount} {many}"
        elif whole == 0 and cents:
            spoken = f"{_words(cents)} {small_one if cents == 1 else small_many}"
        else:
            spoken = f"{_words(whole)} {one if whole == 1 else many}"
            if cents:
                spoken += f" {_words(cents)}"
        yield Rewrite(m.start(), m.end(), spoken)


_DECADE = re.compile(r"(?<![\w'’])(1[1-9]|20)([0-9]0)[’']?s\b|(?<![\w])['’]([0-9]0)s\b")
_YEAR_BEFORE = re.compile(
    r"(?:\b(?:in|since|of|by|until|till|from|to|year|circa|c\.|summer|winter|spring|autumn|fall|early|late|mid|"
    r"january|february|march|april|may|june|july|august|september|october|november|december)"
    r"|\d(?:st|nd|rd|th)|\d,)\s+$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\w$£€¥.,:#-])(1[1-9]\d\d|20\d\d)(?![\w]|[.,:]\d)")
_ERA_AFTER = re.compile(r"\s*(?:AD|BC|BCE|CE|A\.D\.|B\.C\.)\b")


def _plural(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last == "six":
        last = "sixes"
    else:
        last += "s"
    return f"{head} {last}".strip()


def _years(text: str) -> Iterator[Rewrite]:
    for m in _DECADE.finditer(text):
        if m.group(3):  # '90s
            spoken = _plural(_words(int(m.group(3))) if m.group(3) != "00" else "two thousand")
        else:
            spoken = _plural(num2words(int(m.group(1) + m.group(2)), to="year"))
        yield Rewrite(m.start(), m.end(), spoken.replace("-", " "))
    for m in _YEAR.finditer(text):
        if _YEAR_BEFORE.search(text[max(0, m.start() - 20) : m.start()]) or _ERA_AFTER.match(text, m.end()):
            yield Rewrite(m.start(), m.end(), num2words(int(m.group(1)), to="year").replace("-", " "))


_RANGE = re.compile(r"(?<=\d)\s?–\s?(?=\d)")


def _ranges(text: str) -> Iterator[Rewrite]:
    for m in _RANGE.finditer(text):
        yield Rewrite(m.start(), m.end(), " to ")


_STAMMER = re.compile(r"(?<![\w'’-])((?:[A-Za-z]{1,3}-)+)([A-Za-z][A-Za-z'’]*)")


def _stammers(text: str) -> Iterator[Rewrite]:
    """'L-Luka' -> 'Lu- Luka': each repeated beginning is said as the word's first syllable."""
    for m in _STAMMER.finditer(text):
        word = m.group(2)
        prefixes = m.group(1).split("-")[:-1]
        if not all(word.lower().startswith(p.lower()) for p in prefixes):
            continue
        if word[0].lower() in "aeiou":
            continue  # "I-it's", "a-and": eSpeak says the vowel already
        pattern = r"y[aeiou]*" if word[0].lower() == "y" else r"[^aeiouy]*[aeiouy]*"
        first = re.match(pattern, word, re.IGNORECASE)
        assert first is not None  # both patterns match the empty string
        syllable = first.group(0) or word
        pos = m.start()
        for p in prefixes:
            if not any(c in "aeiouAEIOU" for c in p):  # "L", "Th", "y": eSpeak would spell it
                said = syllable[0].upper() + syllable[1:].lower() if p[0].isupper() else syllable.lower()
                yield Rewrite(pos, pos + len(p) + 1, f"{said}- ")
            pos += len(p) + 1


_HONORIFIC_RESPELL = re.compile(r"(?<=\w-)(nii)(?=\b|-)", re.IGNORECASE)


def _honorifics(text: str) -> Iterator[Rewrite]:
    for m in _HONORIFIC_RESPELL.finditer(text):
        yield Rewrite(m.start(), m.end(), "nee" if m.group(1).islower() else "Nee")


_MARKS = re.compile(r"[*~]+")
_TWO_DOTS = re.compile(r"(?<![.])\.\.(?![.])")


def _marks(text: str) -> Iterator[Rewrite]:
    for m in _MARKS.finditer(text):
        yield Rewrite(m.start(), m.end(), "")
    for m in _TWO_DOTS.finditer(text):
        yield Rewrite(m.start(), m.end(), "…")


ACRONYMS = frozenset(
    "AI ATM BBC CCTV CD CEO CIA CPU DJ DNA DVD EU FBI GPS HIV HQ ID IQ IT KGB LA MI5 MI6 MP3 NASA NATO NYC NYPD "
    "OK PC PE PhD PM AM PS RPG SMS SOS TV UFO UK UN US USA VIP".split()
)
_AMBIGUOUS = frozenset("AM ID IT PM US PE PS OK".split())  # also plain words: lowercase when shouted
_CAPS = re.compile(r"(?<![\w'’])[A-Z][A-Z'’]*[A-Z](?![\w'’])")
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")


def _shouting(text: str) -> Iterator[Rewrite]:
    """Words in capitals are said as words: eSpeak NG spells short ones ("IT" -> "I T")."""
    matches = list(_CAPS.finditer(text))
    # runs of capitalised words with only spaces and punctuation between them
    runs: list[list[int]] = []
    for k, m in enumerate(matches):
        gap = text[matches[k - 1].end() : m.start()] if k else "x"
        if k and not gap.strip(" ,!?.;:'’\"“”-—…"):
            runs[-1].append(k)
        else:
            runs.append([k])
    for run in runs:
        shouted = sum(matches[k].group(0) not in ACRONYMS for k in run) >= 1 and len(run) > 1
        for k in run:
            m = matches[k]
            word = m.group(0)
            if word in ACRONYMS and not (shouted and word in _AMBIGUOUS):
                continue
            before = text[max(0, m.start() - 30) : m.start()]
            if not shouted and _ROMAN.fullmatch(word) and re.search(r"\b[A-Z][a-z]+\s+$", before):
                continue  # Henry VIII, Chapter IV
            yield Rewrite(m.start(), m.end(), word.lower())


_RULES: list[Callable[[str], Iterator[Rewrite]]] = [
    _titles, _money, _times, _years, _ranges, _stammers, _honorifics, _marks, _shouting,
]
