"""Gendered address: a line that calls its listener `sir` is spoken to a man, `ma'am` to a woman.

In a conversation between a man and a woman, then, a line that says "sir" is the woman's and
one that says "ma'am" the man's (on whole novels about nine in ten such lines); and one that
says "my husband" is the woman's, "my wife" the man's. Turn-taking
alternates two speakers from the lines a tag decided; where the address in a stretch of its
guesses says the turns go the other way round - more of its lines against than for - the
stretch swaps its two speakers. A stretch takes in a weak opening of the turns (a lead-in, the
last name mentioned), and a line that calls one of the two by name counts as well (nobody calls
themselves). Only between a man and a woman: between two men "sir" says nothing of who speaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .address_words import listener_gender, speaker_gender, told_gender
from .context import Context, Decision
from .names import Gender
from .turns import runs

__all__ = ["gendered_turns", "listener_gender", "speaker_gender", "tagged_genders", "talked_of"]

def talked_of(said: str, name: str, called: list[str]) -> bool:
    """Whether a name that a line seems to call is one it speaks of: the line names it again where
    it calls no one (`"Mrs. Dixon! very true indeed. I had not thought of Mrs. Dixon."`), or an
    aside and a verb follow it, which make it the sentence's subject (`"Mr. Martin, I suppose, is
    not a man of information?"`). (`"Mary Ann! Mary Ann!"` calls her twice.)"""
    if _count_words(said, name) > called.count(name):
        return True
    return any(_ASIDE_THEN_VERB.match(said, at + len(name)) for at in _found(said, name))  # `Mr. Martin, I suppose, is`


_WORD_EDGE = re.compile(r"\b")


def _found(text: str, word: str) -> Iterator[int]:
    """Where `word` stands in `text`, each place it starts (overlapping ones too)."""
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def _count_words(text: str, word: str) -> int:
    """`len(re.findall(rf"\\b{re.escape(word)}\\b", text))`, without a pattern compiled for each word (the
    names of a novel are more than `re` keeps compiled: they were compiled again for every line)."""
    count, end = 0, 0
    for at in _found(text, word):
        if at >= end and _WORD_EDGE.match(text, at) and _WORD_EDGE.match(text, at + len(word)):
            count, end = count + 1, at + len(word)
    return count


_ASIDE_THEN_VERB = re.compile(  # `, I suppose,` / `, you know, (recollecting herself,)` and then a verb
    r",\s+(?:I|you|we|they|one)\s+[a-z]+(?:\s+[a-z]+)?,\s*(?:\([^)]*\)\s*)?"
    r"(?:is|was|has|had|will|would|can|could|must|should|shall|may|might|does|did|seems|looks|never|always|knows|thinks)\b"
)


def gendered_turns(ctx: Context) -> None:
    """Swap the two speakers of a stretch of turn-taking guesses that the lines' address contradicts."""
    all_runs, _ = runs(ctx)
    for run in all_runs:
        stretch: list[int] = []
        for k, p in enumerate(run):
            if _guessed(ctx, p):
                stretch.append(k)
                continue
            _settle(ctx, run, stretch)
            stretch = []
        _settle(ctx, run, stretch)


def _quotes(ctx: Context, p: int) -> list[int]:
    return [i for i in ctx.by_paragraph[p] if ctx.segs[i].kind == "dialogue"]


_WEAK = 0.65  # a lead-in or the last name mentioned: a guess the turns may overrule


def _guessed(ctx: Context, p: int) -> bool:
    """Whether every line of paragraph `p` is a guess: turn-taking, or a weak opening of the turns
    (`Beaver was dressed by then and she had grown to value their gossip.` / `"What was your evening?"`)."""
    decisions = [ctx.decided.get(i) for i in _quotes(ctx, p)]
    return bool(decisions) and all(
        d is not None
        and (d.rule == "turn-taking" or (d.rule in ("introduced", "last-mentioned") and d.confidence < _WEAK))
        for d in decisions
    )


def _called(ctx: Context, p: int, people: tuple[str, str]) -> str | None:
    """Which of the two people of a talk paragraph `p` calls by name, if only one of them."""
    found = set(ctx.vocatives.get(p, [])) & set(people)
    return found.pop() if len(found) == 1 else None


def _speaker(ctx: Context, p: int) -> str | None:
    for i in _quotes(ctx, p):
        if i in ctx.decided:
            return ctx.decided[i].speaker
    return None


def _heard_beside(ctx: Context, run: list[int], n: int, people: tuple[str, str]) -> Gender | None:
    """Whom the tagged turn `run[n]` of one of the two, beside a stretch of guesses, is said to, a
    man or a woman, by its words of address or its tag (`she asked him`): the next turn is theirs."""
    if not 0 <= n < len(run) or _guessed(ctx, run[n]) or _speaker(ctx, run[n]) not in people:
        return None
    members = ctx.by_paragraph[run[n]]
    heard = listener_gender(" ".join(ctx.said(i) for i in members if ctx.is_quote(i)))
    tags = {told_gender(ctx.said(i)) for i in members if not ctx.is_quote(i)} - {None}
    if heard is None and len(tags) == 1:
        heard = tags.pop()
    return heard


def _settle(ctx: Context, run: list[int], stretch: list[int]) -> None:
    if not stretch:
        return
    speakers = [_speaker(ctx, run[k]) for k in stretch]
    people = set(speakers)
    if len(people) == 1:  # one guess between two turns: its partner is the speaker beside it
        beside = [_speaker(ctx, run[k]) for k in (stretch[0] - 1, stretch[-1] + 1) if 0 <= k < len(run)]
        people |= {who for who in beside if who} - people
    named = sorted(who for who in people if who)
    if len(named) != 2 or len(people) != 2:
        return
    a, b = named
    gender = {who: ctx.resolver.voice_gender(who) for who in (a, b)}
    if None in gender.values() or gender[a] == gender[b]:
        return
    against = agree = 0
    for k, who in zip(stretch, speakers, strict=True):
        said = " ".join(ctx.said(i) for i in _quotes(ctx, run[k]))
        heard, own = listener_gender(said), speaker_gender(said)
        called = _called(ctx, run[k], (a, b))
        if called is not None and who is not None:
            if called == who:
                against += 1  # nobody calls themselves by name
            else:
                agree += 1
        if heard is not None and who is not None:
            if heard == gender[who]:
                against += 1  # `"Yes, sir."` in a man's mouth, in a talk between a man and a woman
            else:
                agree += 1
        if own is not None and who is not None:
            if own == gender[who]:
                agree += 1
            else:
                against += 1  # `"My husband is out."` in a man's mouth
    for n, who in ((stretch[0] - 1, speakers[0]), (stretch[-1] + 1, speakers[-1])):
        heard = _heard_beside(ctx, run, n, (a, b))
        if heard is not None and who is not None:
            if heard == gender[who]:
                agree += 1  # `"Yes, sir," she said.` / `"No."`: a man answers her
            else:
                against += 1
    if against <= agree:
        return
    for k, who in zip(stretch, speakers, strict=True):
        other = b if who == a else a
        for i in _quotes(ctx, run[k]):
            d = ctx.decided[i]
            ctx.decided[i] = Decision(other, "turn-taking", d.confidence)


_SAID = r"(?:said|asked|replied|returned|answered|cried|exclaimed|added|continued|whispered|murmured|observed|rejoined)"
_PRONOUN_TAG = re.compile(rf"[\s,—–-]*(?:(he|she)\s+(?:[a-z]+ly\s+)?{_SAID}|{_SAID}\s+(he|she))\b", re.IGNORECASE)
# `he said to her at the dinner-table, "…"`: a lead-in closing right before the quote, its subject the last he or she
_PRONOUN_LEAD = re.compile(
    rf"(?s:.*)\b(he|she)\s+(?:[a-z]+ly\s+)?{_SAID}\b[^.!?;\"“”]{{0,80}}[,:—–-]\s*$", re.IGNORECASE
)
_LEAD_REACH = 120  # characters of the narration before a quote that such a lead-in may take
_GUESSES = ("turn-taking", "vocative", "introduced", "last-mentioned", "action-beat", "same-paragraph")


def _tag_pronoun(ctx: Context, i: int) -> str | None:
    """The he or she of quote `i`'s own tag: right after it (`"…," she said`), or a lead-in right
    before it (`he said to her at the dinner-table, on the day before her departure, "…"`)."""
    nxt = ctx.neighbour(i, 1)
    if nxt is not None and nxt.kind == "narration":
        m = _PRONOUN_TAG.match(ctx.text, nxt.start, nxt.end)
        if m:
            return (m.group(1) or m.group(2)).lower()
    prv = ctx.neighbour(i, -1)
    if prv is not None and prv.kind == "narration":
        m = _PRONOUN_LEAD.match(ctx.text, max(prv.start, prv.end - _LEAD_REACH), prv.end)  # (the last he or she)
        if m:
            return m.group(1).lower()
    return None


def tagged_genders(ctx: Context) -> None:
    """A line whose own tag is a he or a she that nothing resolved (`"Being so impulsive," she said.`)
    is not a guess's of the other gender: it goes to the nearest speaker of that gender in the
    lines around it (six either way), or to no one."""
    for i, d in list(ctx.decided.items()):
        if d.rule not in _GUESSES:
            continue
        pronoun = _tag_pronoun(ctx, i)
        if pronoun is None:
            continue
        gender: Gender = "male" if pronoun == "he" else "female"
        if ctx.resolver.voice_gender(d.speaker) in (None, gender):
            continue
        near = [
            ctx.decided[j].speaker
            for step in range(1, 7)
            for j in (i - step, i + step)
            if j in ctx.decided and ctx.is_quote(j) and ctx.resolver.voice_gender(ctx.decided[j].speaker) == gender
        ]
        if near:
            ctx.decided[i] = Decision(near[0], d.rule, d.confidence)
        else:
            del ctx.decided[i]
