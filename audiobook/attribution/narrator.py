"""A first-person narrator: whether the story has one, and their name - signed at the end of a
letter (`Love,` / `Megurine Luka`), or called by the others (`"You're Hatsune Miku," she said to me`)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from itertools import chain

from .characters import Cast
from .context import Context
from .cues import SPEECH_VERBS, names_called
from .gender import NOUN_VOTE
from .script import NARRATOR

_VERBS = "|".join(sorted(SPEECH_VERBS))
_I_SAID = re.compile(rf"\W*(?:I\s+(?:\w+ly\s+)?(?:{_VERBS})\b|(?:{_VERBS})\s+I\b)")
# `(?<![A-Za-z])(?:i|me|my|he|she|his|her|him)(?![A-Za-z])`, any case, with the look-behind after
# the first letter: the scanner jumps from one I, M, H or S to the next instead of trying it everywhere.
_PRONOUNS = re.compile(
    "(?:" + "|".join(f"{first}(?<![A-Za-z].){rest}" for first, rest in (
        ("I", ""), ("i", ""), ("M", "[EeYy]"), ("m", "[EeYy]"), ("H", "(?:[Ee][Rr]?|[Ii][SsMm])"),
        ("h", "(?:[Ee][Rr]?|[Ii][SsMm])"), ("S", "[Hh][Ee]"), ("s", "[Hh][Ee]"),
    )) + ")(?![A-Za-z])"
)
_FAREWELL = re.compile(r"(?:love|goodbye|yours|sincerely|regards|farewell|best wishes|cheers|with love|your)\b", re.I)


def first_person(text: str, narration: list[tuple[int, int]]) -> bool:
    """Whether the narration is told by an I: more I/me/my than half the he/she/his/her/him,
    or at least two speech tags of an I (`"…?" I inquired.`)."""
    found = Counter(chain.from_iterable(_PRONOUNS.findall(text, start, end) for start, end in narration))
    words: Counter[str] = Counter()
    for word, n in found.items():  # (each way of writing a word counted first: "He", "he", "HE")
        words[word.lower()] += n
    first = words["i"] + words["me"] + words["my"]
    third = sum(words[w] for w in ("he", "she", "his", "her", "him"))
    if first > 0.5 * third and first >= 3:
        return True
    # a frame narrator who says little about themselves but speaks: `"…?" I inquired.`
    tags = sum(1 for start, end in narration if _I_SAID.match(text, start, end))  # (no slice of each span)
    return tags >= 2


def signed_name(paragraphs: list[str], cast: Cast) -> str:
    """A first-person narrator's name, when the story is signed (`Love,` / `Megurine Luka`)."""
    paras = [p.strip() for p in paragraphs]
    for i in range(1, len(paras)):
        if not paras[i - 1].endswith(",") or not _FAREWELL.match(paras[i - 1]):
            continue  # (the cheap test first: few paragraphs end in a comma)
        words = paras[i].split()
        if len(paras[i - 1].split()) <= 5 and 0 < len(words) <= 3:
            if all(w[:1].isupper() and w.isalpha() for w in words):
                full = " ".join(words)  # a signature; "Megurine Luka" is the story's "Luka"
                return cast.resolve(full) or next((n for n in map(cast.resolve, words[::-1]) if n), full)
    return NARRATOR


def name_narrator(ctx: Context) -> None:
    """A first-person narrator: named by how the others address them when the story has not
    signed their name, and a man or a woman by the same (`sir`, `my dear fellow`, `ma'am`)."""
    if ctx.narrator is None:
        return
    votes, gender = addressing(ctx)
    name = ctx.narrator
    if name == NARRATOR and votes:
        called, n = votes.most_common(1)[0]
        if n >= 2:
            name = called
            ctx.resolver.narrator = name
            for i, decision in list(ctx.decided.items()):
                if decision.speaker == NARRATOR:
                    ctx.decided[i] = replace(decision, speaker=name)
            # the lines spoken so far: the turns after them count the narrator by name
            mentions = ctx.cast.mentions
            ctx.cast.set_mentions([replace(m, character=name) if m.character == NARRATOR else m for m in mentions])
            ctx.resolver.forget_presence()  # the mentions per character are counted again
    for g, n in gender.items():
        ctx.cast.vote(name, g, NOUN_VOTE * n)  # type: ignore[arg-type]


_TO_ME = re.compile(r"\bto me\b")
_YOU_ARE = re.compile(r"\byou(?:'re|’re| are)\s+((?:[A-Z][a-z]+\s?){1,2})")
# How one speaks to a man or a woman: `"Yes, sir."`, `"My dear fellow, …"`, `"Thank you, ma'am."`
_ADDRESS = {
    "male": re.compile(r"(?:^|[,;!?“\"‘]\s*)(?:[Ss]ir|[Mm]y (?:dear |good |poor )?(?:fellow|boy|man|lad|chap)|"
                       r"[Oo]ld (?:man|chap|fellow|boy)|[Yy]oung man)(?=\s*[,.!?;—–-])"),
    "female": re.compile(r"(?:^|[,;!?“\"‘]\s*)(?:[Mm]adam|[Mm]a['’]am|[Mm]iss|"
                         r"[Mm]y (?:dear |good |poor )?(?:girl|lass|lady|woman)|"
                         r"[Yy]oung (?:lady|woman))(?=\s*[,.!?;—–-])"),
}


def addressing(ctx: Context) -> tuple[Counter[str], Counter[str]]:
    """How the others address a first-person narrator: the names (`"You're Hatsune Miku," she
    said to me`, or a name called in a line the narrator answers, `"Jane!"` / `"Yes," I said`)
    and the words for a man or a woman, in those same lines. A name the narration itself uses
    for someone (`Dorcas came in`) belongs to a bystander the others talk to, not to the "I"."""
    segs, text = ctx.segs, ctx.text
    names: Counter[str] = Counter()
    gender: Counter[str] = Counter()
    narrator = ctx.narrator
    dialogue = [i for i, s in enumerate(segs) if s.kind == "dialogue"]
    for k, i in enumerate(dialogue):
        if ctx.speaker(i) in (NARRATOR, narrator):
            continue
        after = segs[i + 1] if i + 1 < len(segs) and segs[i + 1].kind == "narration" else None
        to_me = after is not None and bool(_TO_ME.search(text[after.start : min(after.end, after.start + 60)]))
        if to_me:
            for m in _YOU_ARE.finditer(ctx.said(i)):
                names[ctx.cast.resolve(m.group(1).strip()) or m.group(1).strip()] += 2
        # the next line, if it comes within three segments
        reply = dialogue[k + 1] if k + 1 < len(dialogue) and dialogue[k + 1] < i + 4 else None
        answered = reply is not None and ctx.speaker(reply) in (NARRATOR, narrator)
        answered = answered and reply is not None and segs[reply].paragraph == segs[i].paragraph + 1
        if answered:
            for v in names_called(ctx.said(i)):
                name = ctx.cast.resolve(v)
                if name:
                    names[name] += 1
        if answered or to_me:
            quote = ctx.said(i)
            for g, pattern in _ADDRESS.items():
                gender[g] += len(pattern.findall(quote))
    if not names:
        return names, gender
    in_narration = Counter(m.character for m in ctx.cast.mentions if m.start != m.end)
    for name in list(names):
        if in_narration[name] > max(2, names[name] // 5):
            del names[name]  # the narration says "Dorcas": she is someone the "I" sees, not the "I"
    return names, gender
