"""The rules of the sieve that look at one quote or one paragraph. Each returns a `Decision`, or
None when it does not apply; `attribute` tries them in order. Rules that look across
paragraphs live in `turns` (turn-taking, vocatives) and `unnamed` (voices, descriptions, memories)."""

from __future__ import annotations

import re

from .context import Context, Decision, Paragraph
from .cues import (
    NAME_PHRASE,
    SENTENCES,
    SPEECH_VERBS,
    Who,
    beats,
    introducer,
    listeners,
    open_ended,
    tag_after,
    tag_before,
    trailing_narration,
)
from .unnamed import voice_gender

_CLAUSE_END = re.compile(r"[,:—–-]\s*$")
_LEADS_IN = re.compile(r"[,:][—–-]*\s*$")  # narration ending so runs into the quote after it: its tag
_ENDS_IN_VERB = re.compile(r"\b([a-z]+)\s*$")  # `but the Gryphon only answered "Come on!"`: a lead-in with no comma
_SENTENCE_END = re.compile(r"[.!?]\W*$")
_PRONOUNS = frozenset(("he", "she", "He", "She"))
_REPLIED = re.compile(r"\W*(?:she|he)\s+(?:replied|answered|returned|retorted|responded|rejoined)\b")


def _leads_in(narr: str) -> bool:
    """Whether narration runs into the quote after it: it ends in a comma or a colon (`Tom said,`),
    or in a speech verb with no stop after it (`but Tom only answered "Come on!"`)."""
    if _LEADS_IN.search(narr):
        return True
    last = _ENDS_IN_VERB.search(narr[-24:])
    return last is not None and last.group(1) in SPEECH_VERBS


def continued_quote(ctx: Context, i: int) -> Decision | None:
    """A quotation running on from the previous paragraph is its speaker's."""
    last = ctx.last_quote
    if ctx.segs[i].continues and last is not None and last in ctx.decided:
        return Decision(ctx.decided[last].speaker, "continued-quote", 0.9)
    return None


def answering(ctx: Context, par: Paragraph, i: int) -> None:
    """Who cannot speak quote `i`: someone its tag addresses (`said he to Temple`), and after
    `"…," she replied` the one who spoke the line before."""
    nxt = ctx.neighbour(i, 1)
    if nxt is None or nxt.kind != "narration":
        return
    tag = ctx.text[nxt.start : nxt.end]
    par.exclude |= {n for n in map(ctx.cast.resolve, listeners(tag)) if n}
    last = ctx.last_quote
    if _REPLIED.match(tag) and last is not None and last in ctx.decided and ctx.segs[last].paragraph == par.index - 1:
        par.exclude.add(ctx.decided[last].speaker)


def serves_both(ctx: Context, par: Paragraph, i: int) -> str | None:
    """Whether the narration before quote `i` is the tag of the quote before it and nothing else,
    so that both are one speaker's: "clause" for `"Hi," she said, "how are you?"`, "sentence"
    for `"Hi," she said. "How are you?"` (unless the second quote has a tag of its own)."""
    prv = ctx.neighbour(i, -1)
    if prv is None or prv.kind != "narration" or i - 2 not in par.tags or ctx.segs[i - 2].paragraph != par.index:
        return None
    narr = ctx.text[prv.start : prv.end]
    before = ctx.said(i - 2)
    lead = ctx.neighbour(i - 2, -1)
    if lead is not None and lead.kind == "narration":
        lead_in = ctx.text[lead.start : lead.end]
        if _leads_in(lead_in) and tag_before(lead_in):
            return None  # `when he said, "…!" she answered, "…"`: the quote before had its tag; this is the next's
    sentences = [s for s in SENTENCES.split(narr.strip()) if s]
    if (len(sentences) > 1 or ";" in narr or not open_ended(before)) and _leads_in(narr) and tag_before(narr):
        return None  # `"…," was Mary's reasoning; and Elizabeth's reply was, "…"`: it leads into the next
    if _CLAUSE_END.search(narr) and open_ended(before):
        return "clause"
    return "sentence" if len(sentences) == 1 and tag_after(narr, open_ended(before)) else None


def speech_tag(ctx: Context, par: Paragraph, i: int, joined: str | None) -> Decision | None:
    """A speech tag right after the quote (`"…," said Kaito`) or right before it (`Kaito said, "…"`),
    its phrase resolved to a character; a he/she gives way to a quote naming its speaker."""
    s = ctx.segs[i]
    nxt, prv = ctx.neighbour(i, 1), ctx.neighbour(i, -1)
    before = ctx.text[prv.start : prv.end] if prv is not None and prv.kind == "narration" and not joined else None
    readings = [
        lambda: tag_after(ctx.text[nxt.start : nxt.end], open_ended(ctx.said(i)))
        if nxt is not None and nxt.kind == "narration"
        else None,
        lambda: tag_before(before) if before is not None else None,
    ]
    if before is not None and _leads_in(before):
        readings.reverse()  # `Kanga said to Roo, "…" So Roo…` / `when he said, "…!" she answered`: the lead-in's
    readings.append(  # `her gentle "How do you do?"` / `"Hjckrrh!" from the Gryphon`: no tag, but whose it is
        lambda: _owned(before, ctx.text[nxt.start : nxt.end] if nxt is not None and nxt.kind == "narration" else "")
    )
    for read in readings:
        who = read()
        if who is None:
            continue
        if i in ctx.introduced_as and who.phrase.lower() in ("he", "she"):
            return None  # `"I am Captain Reyes," he said`: the name outweighs a guessed he
        if " ".join(who.phrase.lower().split()) == "the other":
            other = _the_other(ctx, par)
            if other:
                return Decision(other, who.rule, who.confidence)
            continue  # no one to tell: the line is left to the rules after (turn-taking)
        name = ctx.resolver.resolve(who.phrase, s.start, par.exclude)
        if name is None and who.phrase.lower() not in ("he", "she", "i"):
            name = ctx.resolver.named(who.phrase, s.start, who.after_verb)  # a tag names a speaker, known or not
        if name:
            _voice_gender(ctx, par, i, name)
            return Decision(name, who.rule, who.confidence)
    return None


# `but her gentle "How do you do?" brought him out of the straight line`: a line spoken of as someone's own
_OWNER_BEFORE = re.compile(
    r"(?:^|[\s,;(])(?P<who>his|her)\s+(?!(?:a|an|the|this|that|some|no|own)\s)(?:[a-z]+\s+){0,2}[a-z]+(?<!ly)\s*$"
)
# `She had the kindest "Good morning!" from Captain Harville`: a line had from someone
_FROM_AFTER = re.compile(rf"\s*from\s+(?P<who>(?:the\s+)?{NAME_PHRASE.pattern})")


def _owned(before: str | None, after: str) -> Who | None:
    """The one a line in the middle of a sentence belongs to: `her gentle "…"`, `"…" from Tom`."""
    if before is not None and not before.rstrip().endswith((",", ":", ".", "!", "?", ";", "—", "-")):
        owner = _OWNER_BEFORE.search(before[-60:])
        if owner:
            return Who("she" if owner.group("who") == "her" else "he", "speech-verb", 0.8)
    found = _FROM_AFTER.match(after) if after.lstrip().startswith("from ") else None
    return Who(found.group("who"), "speech-verb", 0.8) if found else None


def _the_other(ctx: Context, par: Paragraph) -> str | None:
    """`"…?" asked Mrs. Gardiner.` / `"Yes; …"` / `"…," repeated the other`: of two people talking,
    the other is not the one who spoke the line before - the one that line called by name, else the
    one who spoke the line before it. None when the lines before are no such exchange."""
    before = [ctx.quotes(p) for p in (par.index - 1, par.index - 2)]
    if not before[0]:
        return None
    last = next((ctx.decided[j].speaker for j in before[0] if j in ctx.decided), None)
    if last is not None:
        called = [c for c in ctx.vocatives.get(par.index - 1, ()) if c != last]
        if called:
            return called[0]  # `"Did she say any more, Anny dear?" inquired the messenger.`
    earlier = next((ctx.decided[j].speaker for j in before[1] if j in ctx.decided), None)
    return earlier if earlier != last and earlier not in par.exclude else None


def _voice_gender(ctx: Context, par: Paragraph, i: int, name: str) -> None:
    """`"…," said a familiar voice … his voice gave him away`: the voice's gender, from what follows."""
    resolver = ctx.resolver
    if name in resolver.voices and resolver.nominal_gender.get(name) is None:
        after = par.members + ctx.by_paragraph.get(par.index + 1, [])
        narr = " ".join(ctx.said(j) for j in after if j > i and ctx.segs[j].kind == "narration")
        resolver.nominal_gender[name] = voice_gender(narr)


def self_introduction(ctx: Context, i: int) -> Decision | None:
    """`"I'm Miku!"`: the speaker says who they are."""
    if i in ctx.introduced_as:
        return Decision(ctx.introduced_as[i], "self-introduction", 0.8)
    return None


def same_paragraph(par: Paragraph) -> Decision | None:
    """A quote without a tag of its own is the speaker's whose quote in the paragraph is tagged."""
    if not par.tags:
        return None
    return Decision(par.tags[min(par.tags)].speaker, "same-paragraph", 0.85)


def action_beat(ctx: Context, par: Paragraph) -> Decision | None:
    """The subject of a sentence around the paragraph's first quote: `Haku sighed. "…"`."""
    first = par.quotes[0]
    narr_before = " ".join(ctx.said(j) for j in par.members if j < first and ctx.segs[j].kind == "narration")
    narr_after = " ".join(ctx.said(j) for j in par.members if j > first and ctx.segs[j].kind == "narration")
    if narr_after and _listened(ctx, par, narr_after):
        narr_after = ""  # `"Why?" She did not answer.`: the one who heard it, not the speaker
    found = beats(narr_before, narr_after)
    heard = _HEARS.search(narr_before[-_HEARS_WITHIN:]) if "hear" in narr_before[-_HEARS_WITHIN:] else None
    if found and heard:
        # `Alice heard it say to itself "…"`: the one who hears the line did not speak it; `she could
        # hear his voice saying "…"`: a he, the nearest other one
        hearer = ctx.resolver.resolve(found[0].phrase, ctx.segs[first].start, par.exclude)
        if hearer:
            par.exclude.add(hearer)
        if heard.group("pronoun"):
            found.insert(0, Who("she" if heard.group("pronoun") == "her" else "he", "action-beat", 0.7))
    return _first_resolved(ctx, par, found)


# a lead-in ending in someone heard speaking: `she heard him say,` / `to hear it say, as it turned a corner,`
_HEARS_WITHIN = 80
_HEARS = re.compile(
    r"\b(?:heard|hear|overheard)\s+(?:(?P<pronoun>him|her|his)\s+(?:voice\s+)?)?(?:[\w'’-]+\s+){0,3}?(?:say|saying|says|ask|asking|add|adding|cry|crying|"
    r"call|calling|exclaim|exclaiming|mutter|muttering|murmur|murmuring|whisper|whispering|shout|shouting|"
    r"speak|speaking|remark|remarking|grumble|grumbling)\b[^.!?\"“”]{0,50}$"
)


_LISTENS = re.compile(  # after the subject of the sentence right after a quote: the one who heard it
    r"\s+(?:\w+ly\s+)?(?:(?:made|gave|returned)\s+no\s+(?:answer|reply|response)|(?:was|remained|kept)\s+silent|"
    r"did\s+not\s+(?:answer|reply|respond)|(?:said|answered)\s+nothing|"
    r"only\s+(?:shook|nodded|smiled|looked|laughed|stared|bowed|sighed|shrugged))\b"
)
_LISTENING_WORD = re.compile(r"\b(?:no|silent|not|nothing|only)\b")


def _listened(ctx: Context, par: Paragraph, narr_after: str) -> bool:
    """Whether the sentence right after the paragraph's first quote has its subject not answer
    (`She did not answer.` / `Tom only shook his head.`): if so, that one heard the quote and did
    not speak it, and cannot be its speaker."""
    sentence = narr_after.strip()
    end = SENTENCES.search(sentence)
    sentence = sentence[: end.start()] if end else sentence
    if not _LISTENING_WORD.search(sentence):
        return False  # (most sentences: no word of the pattern below, no subject looked for)
    found = beats("", sentence)[:1]
    if not found or not _LISTENS.match(sentence.lstrip("(—–-, "), len(found[0].phrase)):
        return False
    name = ctx.resolver.resolve(found[0].phrase, ctx.segs[par.quotes[0]].start)
    if name:
        par.exclude.add(name)
    return True


def introduced_after_quote(ctx: Context, par: Paragraph) -> Decision | None:
    """A paragraph of quotes only, after a paragraph whose last quote is followed by someone starting
    to speak or sing: `…," Haku replied. … she began singing.` then the song; or by a lead-in, a
    sentence ending in a comma or a colon: `…," said Ann. Tom was silent a while, and then added,`."""
    trailing = trailing_narration(ctx.text, ctx.segs, ctx.by_paragraph.get(par.index - 1, []))
    if par.tags or len(par.members) != len(par.quotes) or not trailing or par.index - 1 in ctx.narration_only:
        return None
    cues = introducer(trailing)[:1]
    if not cues and trailing.rstrip().endswith((":", ",", "-", "—", "–")):
        tag = tag_before(trailing)  # `…," said Ann. Tom shrugged, and then added,` ends in the next line's tag
        cues = [tag] if tag else []
    found = _first_resolved(ctx, par, cues)
    return Decision(found.speaker, "introduced", 0.6) if found else None


def introduced_by_lead_in(ctx: Context, par: Paragraph) -> Decision | None:
    """A paragraph of quotes only after a paragraph of narration that leads into it:
    `Luka stepped forward and spoke.` / `Then he said:` / `Mrs. Reed followed her, saying,` (a
    paragraph ending in a colon or a comma ends in the line's tag). Such a tag also leads into a
    paragraph that opens with the quote and goes on with narration of its own, when that
    narration names no one who speaks: `…, he cried,` / `"Ah! by the bye," then sinking his voice--`."""
    if par.tags or par.index - 1 not in ctx.narration_only:
        return None
    quotes_only = len(par.members) == len(par.quotes)
    if not quotes_only and par.members[0] != par.quotes[0]:
        return None
    lead_in = ctx.narration_text(par.index - 1)
    leads = lead_in.rstrip().endswith((":", ",", "-", "—", "–"))
    if not quotes_only and not leads:
        return None  # a beat before a paragraph with narration of its own: that narration says who speaks
    last_sentence = ([s for s in SENTENCES.split(lead_in.strip()) if s] or [""])[-1]
    tag = tag_before(lead_in) if leads else None
    if not quotes_only and tag is None:
        return None
    if tag is None and _SILENT.search(last_sentence):  # (not `He was silent a while, then said:`)
        return _after_silence(ctx, par, last_sentence)
    found = _first_resolved(ctx, par, ([tag] if tag else introducer(lead_in) or beats(lead_in, ""))[:1])
    return Decision(found.speaker, "introduced", 0.6) if found else None


_SILENT = re.compile(  # at the end of the sentence: not `He was silent a while, but finally said:`
    r"\b(?:(?:made|gave|returned)\s+no\s+(?:answer|reply|response)|(?:was|remained|kept)\s+silent|"
    r"did\s+not\s+(?:answer|reply|speak)|said\s+nothing|said\s+(?:not|never)\s+a\s+word|in\s+silen(?:ce|t\s+[a-z]+))(?:\s+[\w']+){0,4}\W*$"
)


def _after_silence(ctx: Context, par: Paragraph, sentence: str) -> Decision | None:
    """`"How can you write so even?"` / `He was silent.` / `"Tell your sister…"`: the one who made no
    answer does not speak next; the one who spoke before the silence goes on."""
    silent = _first_resolved(ctx, par, beats(sentence, "")[:1])
    if silent is None:
        return None
    par.exclude.add(silent.speaker)
    last = ctx.last_quote
    if last is None or ctx.segs[last].paragraph != par.index - 2 or last not in ctx.decided:
        return None
    before = ctx.decided[last].speaker
    return Decision(before, "introduced", 0.6) if before != silent.speaker else None


def beat_before(ctx: Context, par: Paragraph, i: int) -> Decision | None:
    """In a paragraph where another quote is tagged, the subject of the sentence right before an
    untagged quote: `"…," said Ann. Tom shrugged. "…"` is Tom's."""
    if not par.tags:
        return None
    beat = _beat_before(ctx, par, i)
    if beat is None:
        return None
    name = ctx.resolver.resolve(beat.phrase, ctx.segs[i].start, par.exclude)
    return Decision(name, beat.rule, beat.confidence) if name else None


def _beat_before(ctx: Context, par: Paragraph, i: int) -> Who | None:
    """The subject of the sentence of narration right before a quote, unless that sentence is the
    tag of the quote before (`"…," said Ann. "…"`) or a he/she (most likely still Ann)."""
    prv = ctx.neighbour(i, -1)
    if prv is None or prv.kind != "narration":
        return None
    narr = ctx.text[prv.start : prv.end]
    if not _SENTENCE_END.search(narr.rstrip()):
        return None
    sentences = [s for s in SENTENCES.split(narr.strip()) if s]
    if not sentences:
        return None
    before = ctx.segs[i - 2] if i >= 2 and ctx.segs[i - 2].paragraph == par.index else None
    if len(sentences) == 1 and before and tag_after(narr, open_ended(ctx.text[before.start : before.end])):
        return None  # `"…," said Ann. "…"`: the tag of the quote before
    found = beats(sentences[-1], "")
    if not found or found[0].phrase.lower() in ("he", "she"):
        return None  # `"…," said Ann. She smiled. "…"`: a he or she is most likely still Ann
    return found[0]


def _first_resolved(ctx: Context, par: Paragraph, cues: list[Who]) -> Decision | None:
    """The first cue that resolves to a character, as of the paragraph's first quote. A he or she
    whose nearest referent is someone the quote cannot be by (the one it calls by name) is that
    listener, not another of the same gender: `She was still looking at him. / "…, my Ann"`."""
    at = ctx.segs[par.quotes[0]].start
    for who in cues:
        if par.exclude and who.phrase in _PRONOUNS and ctx.resolver.resolve(who.phrase, at) in par.exclude:
            continue
        name = ctx.resolver.resolve(who.phrase, at, par.exclude)
        if name and name not in par.exclude:  # `Harriet looked grave. "My dear Harriet, …"`: not Harriet
            return Decision(name, who.rule, who.confidence)
    return None


def first_person(ctx: Context, i: int) -> Decision | None:
    """Nothing else decided, in a first-person story: the narrator."""
    return Decision(ctx.narrator, "first-person", 0.3) if ctx.narrator else None


def last_mentioned(ctx: Context, i: int) -> Decision | None:
    """Nothing else decided: the last character named before the quote (not one it addresses or
    speaks of: `"That was Brenda."`)."""
    p = ctx.segs[i].paragraph
    skip = {*ctx.vocatives.get(p, ()), *ctx.named.get(p, ())}
    for m in ctx.cast.mentioned_before(ctx.segs[i].start):
        if m.character != ctx.narrator and m.character not in skip:
            return Decision(m.character, "last-mentioned", 0.3)
    return None
