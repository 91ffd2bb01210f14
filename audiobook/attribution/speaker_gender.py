"""The gender of speakers the sieve found itself: names that only a speech tag made speakers
(`said the Jew`, `said the Caterpillar`, `said Small` where "small" is also a word) and
descriptions of no gender of their own (`said the stranger`, `said the other`).

Cast discovery counts the he/she after every name it knows before the sieve runs; these
speakers come later and had no votes. After the sieve they get the same kinds of evidence:

- a gendered noun in the name (`the Invisible Man`, `the Frog-Footman`, `a man's voice`);
- the pronoun that goes on about them (`said the Jew, rubbing his hands`), counted as for any
  name (`gender.pronoun_votes`): for a name, wherever the narration names it; for a
  description, which may be anyone elsewhere in the book ("the other"), only in the tags of its
  own lines;
- what they say of themselves (`"I'm an invisible man."`);
- the he or she of a speech tag the sieve gave them (`"Come in," he said.`): one vote a line,
  as a pronoun after a name.

The votes decide as any character's (`gender.decide`); a speaker with none keeps no gender.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from operator import attrgetter

from . import gender as genders
from .characters import Cast, Mention, Vote
from .context import Context
from .cues import SPEECH_VERBS
from .patterns import STARTED_NAME, word_trie
from .unnamed import MEMORY

_AFTER_VERB = re.compile(rf"\b(?:{word_trie(SPEECH_VERBS)})\s+(?:the\s+)?$", re.IGNORECASE)
_VERBS = word_trie(SPEECH_VERBS)
# `"…," he said` / `"…," said she` / `He asked, "…"`: the tag's pronoun, right after or before the quote
_TAG_AFTER = re.compile(
    rf"[\s,;—–-]*(?:(?P<a>he|she)\s+(?:\w+ly\s+)?(?:{_VERBS})|(?:{_VERBS})\s+(?P<b>he|she))\b", re.IGNORECASE
)
_TAG_BEFORE = re.compile(rf"\b(?P<a>he|she)\s+(?:\w+ly\s+)?(?:{_VERBS})\s*[,:—–-]?\s*$", re.IGNORECASE)
_SELF_DESCRIBED = re.compile(
    r"\bI(?:['’]m|\s+am)\s+(?:only\s+|just\s+|but\s+)?(?:a|an)\s+((?:[a-z-]+\s+){0,2}[a-z-]+)\b"
)


def speaker_genders(ctx: Context) -> None:
    """Votes for every speaker whose voice has no gender yet (not the narrator, nor a memory)."""
    resolver = ctx.resolver
    lines: dict[str, list[int]] = {}
    for i, d in ctx.decided.items():
        lines.setdefault(d.speaker, []).append(i)
    unsure = [s for s in lines if s not in (ctx.narrator, MEMORY) and resolver.voice_gender(s) is None]
    if not unsure:
        return
    votes: dict[str, Counter[Vote]] = {s: Counter() for s in unsure}
    for who in unsure:
        noun = genders.gender_of_noun(who)
        if noun:
            votes[who][noun] += genders.NOUN_VOTE
        for i in lines[who]:
            described = _SELF_DESCRIBED.search(ctx.said(i))
            said = genders.gender_of_noun(described.group(1)) if described else None
            if said:
                votes[who][said] += genders.NOUN_VOTE
            tagged = _tag_pronoun(ctx, i)
            if tagged:
                votes[who]["female" if tagged == "she" else "male"] += 1
    found = _mentions(ctx, unsure, lines)
    if found:
        new = [m for m in found if not _known(ctx.cast, m)]
        after_verb = {m.start for m in new if _AFTER_VERB.search(ctx.text, max(0, m.start - 20), m.start)}
        for mention, g, weight in genders.pronoun_votes(ctx.text, _bounded(ctx, new), after_verb, set(new)):
            votes[mention.character][g] += weight
    for who, counted in votes.items():
        if who in resolver.nominal_gender:
            resolver.nominal_gender[who] = genders.decide(counted, None)
        else:
            for g, n in counted.items():
                ctx.cast.vote(who, g, n)


def _known(cast: Cast, mention: Mention) -> bool:
    """Whether the cast has a mention of the same character starting where `mention` does."""
    return any(m.character == mention.character for m in cast.mentioned_after(mention.start, mention.start + 1))


def _bounded(ctx: Context, new: list[Mention]) -> list[Mention]:
    """The new mentions among the cast's, in text order (the cast's first where both start at
    once), as `pronoun_votes` reads them: of the cast's, only those that end a new mention's
    window - the first mention of someone else after it - not all of the book's."""
    new = sorted(new, key=attrgetter("start"))
    later: list[Mention | None] = []  # for each, the first new mention of someone else after it
    nearest: Mention | None = None
    other: Mention | None = None  # the first of someone else after `nearest`
    for m in reversed(new):
        later.append(other if nearest is not None and m.character == nearest.character else nearest)
        if nearest is not None and m.character != nearest.character:
            other = nearest
        nearest = m
    later.reverse()
    ends: dict[int, Mention] = {}  # (by id: each of the cast's mentions once)
    for mention, after in zip(new, later, strict=True):
        cast_after = _next_of_another(ctx, mention)
        if cast_after is not None and (after is None or cast_after.start <= after.start):
            ends[id(cast_after)] = cast_after
    return sorted([*ends.values(), *new], key=attrgetter("start"))  # (stable: the cast's first)


def _next_of_another(ctx: Context, mention: Mention) -> Mention | None:
    """The cast's first mention of someone else starting after `mention`."""
    start, width = mention.start + 1, 2000
    while start < len(ctx.text):
        for m in ctx.cast.mentioned_after(start, start + width):
            if m.character != mention.character:
                return m
        start, width = start + width, width * 2
    return None


def _mentions(ctx: Context, speakers: list[str], lines: dict[str, list[int]]) -> list[Mention]:
    """Where the narration names each speaker: a name anywhere (any of its forms), a description
    only in the narration beside its own lines."""
    text, segs = ctx.text, ctx.segs
    found: list[Mention] = []
    forms: dict[str, str] = {}
    for who in speakers:
        if who in ctx.resolver.nominal_gender:
            phrase = re.compile(re.escape(who), re.IGNORECASE)
            for i in lines[who]:
                for j in (i - 1, i + 1):
                    nxt = ctx.neighbour(i, j - i)
                    if nxt is None or nxt.kind != "narration":
                        continue
                    at = phrase.search(text, nxt.start, nxt.end)
                    if at:
                        found.append(Mention(at.start(), at.end(), who))
        else:
            for form in (who, *ctx.cast.aliases.get(who, ())):
                if form[:1].isupper():  # a name, not a description merged into it ("his wife")
                    forms.setdefault(form, who)
    if forms:
        narration = [(s.start, s.end) for s in segs if s.kind == "narration"]
        starts = [a for a, _ in narration]
        # (not after a letter or a hyphen: checked after the first letter, so the scanner jumps between capitals)
        pattern = re.compile(rf"(?:{word_trie(forms, STARTED_NAME)})(?![\w-])")
        for m in pattern.finditer(text):
            k = bisect_right(starts, m.start()) - 1
            if k >= 0 and m.end() <= narration[k][1]:
                found.append(Mention(m.start(), m.end(), forms[m.group(0)]))
    return found


def _tag_pronoun(ctx: Context, i: int) -> str | None:
    """The he or she of the speech tag beside quote `i`, if its tag is a pronoun and a verb of speech."""
    after, before = ctx.neighbour(i, 1), ctx.neighbour(i, -1)
    if after is not None and after.kind == "narration":
        m = _TAG_AFTER.match(ctx.text, after.start, after.end)
        if m:
            return (m.group("a") or m.group("b")).lower()
    if before is not None and before.kind == "narration":
        m = _TAG_BEFORE.search(ctx.text, before.start, before.end)
        if m:
            return m.group("a").lower()
    return None
