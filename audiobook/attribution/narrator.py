"""A first-person narrator: whether the story has one, and their name - signed at the end of a
letter (`Love,` / `Megurine Luka`), or called by the others (`"You're Hatsune Miku," she said to me`)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from .characters import Cast
from .context import Context
from .cues import SPEECH_VERBS, names_called
from .script import NARRATOR

_VERBS = "|".join(sorted(SPEECH_VERBS))
_I_SAID = re.compile(rf"\W*(?:I\s+(?:\w+ly\s+)?(?:{_VERBS})\b|(?:{_VERBS})\s+I\b)")
_PRONOUNS = re.compile(r"(?<![A-Za-z])(?:i|me|my|he|she|his|her|him)(?![A-Za-z])", re.IGNORECASE | re.ASCII)
_FAREWELL = re.compile(r"(?:love|goodbye|yours|sincerely|regards|farewell|best wishes|cheers|with love|your)\b", re.I)


def first_person(text: str, narration: list[tuple[int, int]]) -> bool:
    """Whether the narration is told by an I: more I/me/my than half the he/she/his/her/him,
    or at least two speech tags of an I (`"…?" I inquired.`)."""
    words: Counter[str] = Counter()
    for start, end in narration:
        words.update(m.lower() for m in _PRONOUNS.findall(text, start, end))
    first = words["i"] + words["me"] + words["my"]
    third = sum(words[w] for w in ("he", "she", "his", "her", "him"))
    if first > 0.5 * third and first >= 3:
        return True
    # a frame narrator who says little about themselves but speaks: `"…?" I inquired.`
    tags = sum(1 for start, end in narration if _I_SAID.match(text[start:end]))
    return tags >= 2


def signed_name(paragraphs: list[str], cast: Cast) -> str:
    """A first-person narrator's name, when the story is signed (`Love,` / `Megurine Luka`)."""
    paras = [p.strip() for p in paragraphs]
    for i in range(1, len(paras)):
        words = paras[i].split()
        farewell = _FAREWELL.match(paras[i - 1])
        if farewell and paras[i - 1].endswith(",") and len(paras[i - 1].split()) <= 5 and 0 < len(words) <= 3:
            if all(w[:1].isupper() and w.isalpha() for w in words):
                full = " ".join(words)  # a signature; "Megurine Luka" is the story's "Luka"
                return cast.resolve(full) or next((n for n in map(cast.resolve, words[::-1]) if n), full)
    return NARRATOR


def name_narrator(ctx: Context) -> None:
    """An unnamed first-person narrator takes the name the others call them by, and their lines with it."""
    if ctx.narrator != NARRATOR:
        return
    name = addressed_narrator(ctx)
    if name is None:
        return
    ctx.resolver.narrator = name
    for i, decision in list(ctx.decided.items()):
        if decision.speaker == NARRATOR:
            ctx.decided[i] = replace(decision, speaker=name)


def addressed_narrator(ctx: Context) -> str | None:
    """A first-person narrator's name from how others address them: `"You're Hatsune Miku," she said to me`,
    or a name called out in the line the narrator answers (`"Jane!"` / `"Yes," I said`)."""
    segs = ctx.segs
    votes: Counter[str] = Counter()
    for i, s in enumerate(segs):
        if s.kind != "dialogue" or ctx.speaker(i) == NARRATOR:
            continue
        quote = ctx.said(i)
        tag = ctx.said(i + 1) if i + 1 < len(segs) and segs[i + 1].kind == "narration" else ""
        if re.search(r"\bto me\b", tag[:60]):
            for m in re.finditer(r"\byou(?:'re|’re| are)\s+((?:[A-Z][a-z]+\s?){1,2})", quote):
                votes[ctx.cast.resolve(m.group(1).strip()) or m.group(1).strip()] += 2
        reply = next((j for j in range(i + 1, min(len(segs), i + 4)) if segs[j].kind == "dialogue"), None)
        if reply is not None and ctx.speaker(reply) == NARRATOR and segs[reply].paragraph == s.paragraph + 1:
            for v in names_called(quote):
                name = ctx.cast.resolve(v)
                if name:
                    votes[name] += 1
    if votes:
        name, n = votes.most_common(1)[0]
        if n >= 2:
            return name
    return None
