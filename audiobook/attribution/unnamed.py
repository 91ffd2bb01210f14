"""Speakers the text does not name when they speak.

- A voice recognised later: `"…," said a familiar voice, … his voice gave away his identity`.
  The voice is a placeholder speaker; once the story names who it was (the narration soon after
  says whose voice it was: `rose the voice of the tall lady`; or the narration right after calls
  them by name, or the one they talk to addresses them: `"…, Kaito!"`; else the narration of
  the next few paragraphs introduces someone: `conscious of a man behind`), every line of the
  voice goes to that character.
- Remembered voices in a first-person story: a lone untagged quote with nobody present in the
  narration around it (`"You're worthless."`) is a memory, not the narrator speaking now; it
  goes to an unnamed "a voice". A remembered line calling for a parent (`"Mommy, someday I'm
  gonna learn how to fly…"`) is the narrator's own childhood voice.
- Self-introductions: `"I'm Miku! You're in my class…"` is said by Miku.
- Descriptions named later: `"…," said the parson.` … `"I am Parson Tringham"` (or, asked their
  name two lines on, they give it: `"What name?"` / `"Greyson."`); or the one the
  parson talks to answers `"…, Parson Tringham."`; or the description is a title the story
  later gives a name (`the parson` / `Parson Tringham`). Every line of the description goes to
  the named character, unless that character also speaks beside it, as someone else.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import replace

from .characters import Cast, Gender, gender_of_noun
from .context import Context, Decision
from .cues import NAME_PHRASE, beats
from .referents import NOMINAL

MEMORY = "a voice"  # the speaker of a remembered line nobody present says

_SELF_INTRO = re.compile(
    r"(?:^|[.!?]\s+|,\s+)(?:I['’]m|I am|[Mm]y name['’]s|[Mm]y name(?:,\s+[\w' ]{1,20},)?\s+is|[Cc]all me|"
    r"(?:[Ii]t|[Tt]his)(?:['’]s|\s+_?is_?)\s+(?:only\s+|just\s+)?me,)\s+"  # `"It's me, Brenda."` (on the telephone)
    r"([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)(?=\s*[.!?,…]|\s*$)"
)
_INTRODUCING = ("I'm", "I’m", "I am", "y name", "all me", "me,")  # what any match of _SELF_INTRO holds
_ON_THE_LINE = re.compile(  # `"This is Jock speaking."`, `"It's Ann here."` (on the telephone)
    r"(?:^|[.!?]\s+)(?:[Ii]t|[Tt]his)(?:['’]s|\s+is)\s+([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)\s+(?:speaking|here)"
    r"(?=\s*[.!?,…]|\s*$)"
)
_PARENT_CALL = re.compile(r"^\W*(?:Mommy|Mom|Mama|Mamma|Mummy|Mum|Daddy|Dad|Papa|Mother|Father)\b\s*[,!?]")
_I = re.compile(r"\bI\b")
_THIRD_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)
_OWN_VOICE = re.compile(r"\b(his|her)\s+(?:\w+\s+)?voice\b", re.IGNORECASE)
_NOD = re.compile(r"I(?:\s+[\w'’-]+){1,7}[.!]")  # `I nodded.`, `I shook my head.`: one short sentence of the narrator's
_SENTENCE = re.compile(r"(?<=[.!?…])['’\"”)]*\s+")


def self_introduced(quote: str, cast: Cast) -> str | None:
    """`"I'm Miku!"` / `"My name is Jane Eyre."`: the character the speaker says they are."""
    said = quote.strip().lstrip("\"“‘'")
    if (" speaking" in quote or " here" in quote) and (m := _ON_THE_LINE.search(said)):
        return cast.resolve(m.group(1))
    if not any(words in quote for words in _INTRODUCING):
        return None  # (most quotes: the pattern is not tried)
    m = _SELF_INTRO.search(said)
    return cast.resolve(m.group(1)) if m else None


def voice_gender(narration_after: str) -> Gender | None:
    """`… his voice gave away his identity`: the gender of a voice not yet recognised."""
    m = _OWN_VOICE.search(narration_after)
    if not m:
        return None
    return "male" if m.group(1).lower() == "his" else "female"


def identify_voices(ctx: Context) -> None:
    """Give the lines of each voice placeholder ("a familiar voice") to the character it turns out to be.
    A remembered voice (`memories`) is no one voice: its lines all over the book stay as they are."""
    gender = ctx.resolver.gender
    voices = sorted(ctx.resolver.voices)
    said_by: dict[str, list[int]] = {voice: [] for voice in voices}  # its lines (listed once, not once a voice)
    for i, d in ctx.decided.items():
        if d.speaker in said_by and d.rule != "memory":
            said_by[d.speaker].append(i)
    for voice in voices:
        lines = sorted(said_by[voice])
        if not lines:
            continue
        paragraphs = sorted({ctx.segs[i].paragraph for i in lines})
        last = paragraphs[0]  # the end of the voice's first turn (a song may run over paragraphs)
        while last + 1 in paragraphs:
            last += 1
        who = _voice_of(ctx, ctx.segs[lines[0]].end)  # the narration says whose voice it was
        if who is None:
            who = _named_after(ctx, last, gender(voice))
        if who is None:
            who = _addressed_next_to(ctx, paragraphs, voice)
        if who is None:
            who = _described_after(ctx, last, gender(voice))
        if who is None:
            continue
        for i in lines:
            ctx.decided[i] = replace(ctx.decided[i], speaker=who)
        if who in said_by:
            said_by[who] += lines  # (a voice found to be another voice: its lines are that one's now)


def _named_after(ctx: Context, p: int, voice_gender_: Gender | None) -> str | None:
    """A character named in the narration right after the voice's first quote (the rest of its
    paragraph, and the next paragraph if it is all narration): `When it registered that Miku had
    lyrics…`."""
    segs, by_paragraph = ctx.segs, ctx.by_paragraph
    spans = [(segs[i].start, segs[i].end) for i in by_paragraph[p] if segs[i].kind == "narration"]
    quote_ends = [segs[i].end for i in by_paragraph[p] if segs[i].kind == "dialogue"]
    spans = [s for s in spans if quote_ends and s[0] >= quote_ends[0]]
    nxt = by_paragraph.get(p + 1, [])
    if nxt and all(segs[i].kind == "narration" for i in nxt):
        spans += [(segs[i].start, segs[i].end) for i in nxt]
    for start, end in spans:
        for m in ctx.cast.mentioned_after(start, end):
            if m.start == m.end or m.character == ctx.narrator or ctx.text[m.start : m.end].lower() in ("he", "she"):
                continue
            if voice_gender_ is None or ctx.resolver.gender(m.character) in (voice_gender_, None):
                return m.character
    return None


_VOICE_OF = re.compile(
    rf"\bvoice\s+of\s+(?:(?P<description>the\s+(?:[a-z-]+\s+){{0,2}}[a-z-]+)|(?P<name>{NAME_PHRASE.pattern}))"
)
_VOICE_OF_REACH = 1500  # characters after the voice's first line


def _voice_of(ctx: Context, after: int) -> str | None:
    """`"No!" cried a voice from the top of the table.` … `above all rose the voice of the clever
    lady`: the one whose voice the narration soon after says it was - a character by name, or a
    description the story goes on to use."""
    for seg in ctx.segs[bisect_right(ctx.starts(), after) :]:
        if seg.start > after + _VOICE_OF_REACH:
            break
        if seg.kind != "narration":
            continue
        m = _VOICE_OF.search(ctx.text, seg.start, seg.end)
        if m is None:
            continue
        if m.group("name"):
            return ctx.cast.resolve(m.group("name"))
        described = " ".join(m.group("description").split())
        if NOMINAL.fullmatch(described):
            ctx.resolver.nominal_gender.setdefault(described, gender_of_noun(described))
            return described
    return None


_SOMEONE = re.compile(
    r"\b(?:a|an)\s+(?:[a-z-]+\s+){0,2}?(?:man|woman|girl|boy|lady|gentleman|fellow|youth)\b(?![-'’])"
)


def _described_after(ctx: Context, p: int, voice_gender_: Gender | None) -> str | None:
    """`"That," said a voice in her ear, "is a pretty town."` / `"Is it?" she answered.` / `For
    some time she had been conscious of a man behind.`: someone the narration of the next few
    paragraphs first introduces (a man, a young woman) is the voice - to the first paragraph of
    narration alone, and never when anyone is named there first."""
    for q in range(p, p + 4):
        members = ctx.by_paragraph.get(q, [])
        for i in members:
            seg = ctx.segs[i]
            if seg.kind != "narration" or (q == p and i < min(ctx.quotes(p), default=i)):
                continue
            m = _SOMEONE.search(ctx.text, seg.start, seg.end)
            if m is None:
                continue
            named = ctx.cast.mentioned_after(seg.start, m.start())
            if any(x.start != x.end and x.character != ctx.narrator for x in named):
                return None  # someone named comes first: `_named_after`'s to say
            described = " ".join(m.group(0).lower().split())
            gender = gender_of_noun(described)
            if voice_gender_ not in (None, gender):
                return None
            ctx.resolver.nominal_gender.setdefault(described, gender)
            return described
        if members and not ctx.quotes(q):
            return None  # a paragraph of narration only, and nobody introduced in it
    return None


def _addressed_next_to(ctx: Context, paragraphs: list[int], voice: str) -> str | None:
    """`"They don't know who I really am, Kaito!"` said to the voice in the next (or the previous)
    paragraph: the voice was Kaito."""
    for p in paragraphs:
        for q in (p + 1, p - 1):
            speakers = {ctx.decided[i].speaker for i in ctx.by_paragraph.get(q, []) if i in ctx.decided}
            if voice in speakers:
                continue
            for name in ctx.vocatives.get(q, []):
                if name not in speakers:  # being addressed by name outweighs the gender guessed for a name
                    return name
    return None


_PLURAL = re.compile(r"[^s]s$")  # "the strangers", not "the actress"


def identify_descriptions(ctx: Context) -> None:
    """Give the lines of each unnamed description ("the parson") to the named character it turns
    out to be, who takes the description as an alias. A group ("the strangers") is no one person."""
    resolver = ctx.resolver
    descriptions = {
        d.speaker
        for d in ctx.decided.values()
        if d.speaker in resolver.nominal_gender and d.speaker not in resolver.voices and not _PLURAL.search(d.speaker)
    }
    for description, name in _named_descriptions(ctx, descriptions).items():
        ctx.cast.aliases[name] = tuple(sorted({*ctx.cast.aliases.get(name, ()), description}))


def _named_descriptions(ctx: Context, descriptions: set[str]) -> dict[str, str]:
    """Description -> the named character it turns out to be, for those found; their lines go to that character."""
    segs, by_paragraph, decided = ctx.segs, ctx.by_paragraph, ctx.decided
    gender = ctx.resolver.gender
    voiced = ctx.resolver.voice_gender  # a name's gender: the story's word, else the first-name prior
    namings = _namings(ctx) if descriptions else []
    found: dict[str, str] = {}
    strength: dict[str, int] = {}
    said_by: dict[str, list[int]] = {}  # description -> its lines (listed once, not once a description)
    for i, d in decided.items():
        if d.speaker in descriptions:
            said_by.setdefault(d.speaker, []).append(i)
    for who in sorted(descriptions):
        lines = sorted(said_by.get(who, ()))
        if not lines:
            continue
        paragraphs = sorted({segs[i].paragraph for i in lines})
        votes: dict[str, int] = {}
        for i in lines:
            name = self_introduced(ctx.said(i), ctx.cast)
            if name:
                votes[name] = votes.get(name, 0) + 3
        for p in paragraphs:
            if p + 2 in ctx.answered and p + 2 not in paragraphs:  # `"…"` / `"What name?"` / `"Greyson."`
                votes[ctx.answered[p + 2]] = votes.get(ctx.answered[p + 2], 0) + 3
            for q in (p + 1, p - 1):
                speakers = {decided[i].speaker for i in by_paragraph.get(q, []) if i in decided}
                if who in speakers:
                    continue
                for name in ctx.vocatives.get(q, []):
                    if name not in speakers:
                        votes[name] = votes.get(name, 0) + 1
        called = _called_in_view(ctx, who, lines)
        if called:
            votes[called] = votes.get(called, 0) + 3
        later = _named_in_turn(ctx, who, paragraphs)
        if later:
            votes[later] = votes.get(later, 0) + 2
        given = _name_given(ctx.text, who, gender(who), namings)
        if given:
            votes[given] = votes.get(given, 0) + 3
        titled = ctx.resolver.titled(who, segs[lines[0]].start)
        if titled:
            votes[titled] = votes.get(titled, 0) + 3
        for name, n in sorted(votes.items(), key=lambda kv: -kv[1]):
            if n < 2 and not (gender(who) and voiced(name) == gender(who)):
                continue  # once is chance, unless the genders agree
            if gender(who) and voiced(name) not in (gender(who), None if n >= 3 else gender(who)):
                continue  # a description's gender must be the name's
            if re.search(r"\b(?:mother|wife|widow)\b", who) and re.match(r"Miss\b", name):
                continue  # `my mother` is no Miss
            if n < 3 and _speaks_beside(ctx, name, paragraphs):
                continue  # addressed, but also speaking beside the description: someone else
            found[who] = name
            strength[who] = n
            break
    claims = dict(found)  # two descriptions cannot both be one person: the surer one is, if one is surer
    for who, name in claims.items():
        if any(other != who and claims[other] == name and strength[other] >= strength[who] for other in claims):
            del found[who]
    for i, d in list(decided.items()):
        if d.speaker in found:
            decided[i] = replace(d, speaker=found[d.speaker])
    return found


def listed_descriptions(ctx: Context) -> None:
    """With a listed cast (the user lists who talks), the lines still given to someone unnamed
    once the story has had its say (`said one woman`, `said the young lady`) go to a listed
    character: the one listed by that description (`The Genial Passenger`, or an alias `The
    Stranger`), else the listed character of the description's gender named last before the
    line who does not talk with it in the lines around (`Resolver.listed_epithet`). A group (`the
    other boys`) and a voice stay as they are."""
    cast, resolver = ctx.cast, ctx.resolver
    if not cast.listed:
        return
    by_description: dict[str, str] = {}
    for form, name in cast.forms.items():
        if name in cast.listed:
            by_description.setdefault(_bare(form), name)
    for i, d in list(ctx.decided.items()):
        who = d.speaker
        if who in cast.listed or who not in resolver.nominal_gender or who in resolver.voices:
            continue
        m = NOMINAL.fullmatch(who)
        if m is None or m.end() > m.end("noun") or m.group("noun") == "voice":
            continue
        p = ctx.segs[i].paragraph
        beside = {  # who talks with the description in the lines around: someone else
            ctx.decided[j].speaker for q in (p - 1, p + 1) for j in ctx.by_paragraph.get(q, []) if j in ctx.decided
        }
        named = by_description.get(_bare(who)) or resolver.listed_epithet(m.group("noun"), ctx.segs[i].start, beside)
        if named:
            ctx.decided[i] = replace(d, speaker=named)


def _bare(description: str) -> str:
    """`The Genial Passenger`, `a genial passenger` -> `genial passenger`."""
    words = description.lower().split()
    return " ".join(words[1:] if words[:1] in (["the"], ["a"], ["an"]) else words)


# (`\b([Hh]is|[Hh]er)`, the boundary checked after the H: the scanner jumps from one H to the next)
_NAMED_AS = re.compile(
    r"([Hh](?<!\w.)(?:is|er))\s+(?:real\s+|Christian\s+|first\s+)?name\s+(?:was|is)\s+([A-Z][a-z]+)\b"
)
_NAMING_REACH = 300  # characters from a mention of the description to the sentence that names it


def _namings(ctx: Context) -> list[re.Match[str]]:
    """`Her name was Duchess` in the narration (not someone's word in a quote)."""
    starts = ctx.starts()
    found = []
    for m in _NAMED_AS.finditer(ctx.text):
        k = bisect_right(starts, m.start()) - 1
        if k >= 0 and ctx.segs[k].kind == "narration":
            found.append(m)
    return found


def _name_given(text: str, who: str, gender: Gender | None, namings: list[re.Match[str]]) -> str | None:
    """`… my mother's advice; I knew she was a wise old horse … Her name was Duchess`: the name the
    narration gives someone it has just called by a definite description (my mother, the old man;
    not "a young woman", who may be anyone), his/her agreeing with its gender."""
    if re.match(r"(?:a|an|one|another)\s", who, re.IGNORECASE):
        return None
    for m in namings:
        said = "male" if m.group(1).lower() == "his" else "female"
        if gender not in (None, said):
            continue
        if who.lower() in text[max(0, m.start() - _NAMING_REACH) : m.start()].lower():
            return m.group(2)
    return None


_CALLED_REACH = 3000  # characters after a description's last line in which it may be called by its name


def _called_in_view(ctx: Context, who: str, lines: list[int]) -> str | None:
    """`The little boy had now turned his stick into a vaulting pole. "Randolph," said the young
    lady, "what are you doing?"`: after the description's last line, a paragraph whose narration
    shows it (or the paragraph right after one) and whose quotes, said by someone else, call one
    name the story had not named before the description spoke - its name."""
    segs = ctx.segs
    starts = ctx.starts()
    first, last = segs[lines[0]].start, segs[lines[-1]].end
    for m in ctx.cast.mentioned_after(last, last + _CALLED_REACH):
        if m.character != who or m.start == m.end:
            continue
        p = segs[bisect_right(starts, m.start) - 1].paragraph
        if not ctx.quotes(p):
            p += 1  # the narration shows it, and the next paragraph calls it
        if any(ctx.speaker(i) == who for i in ctx.quotes(p)):
            continue  # the description calls someone: not its own name
        called = [name for name in ctx.vocatives.get(p, []) if name != who]
        if len(called) == 1 and not any(
            x.character == called[0] for x in ctx.cast.mentioned_after(0, first) if x.start != x.end
        ):
            return called[0]
    return None


def _named_in_turn(ctx: Context, who: str, paragraphs: list[int]) -> str | None:
    """`"How much?" asked a gentleman.` / `"Ten cents," said Dick.` / … / `"Greyson, office on second
    floor."`: a named character who takes the description's turns later in the same conversation,
    answering the same partner, and never speaks beside it."""
    last = paragraphs[-1]
    turns: list[set[str]] = []  # speakers of the paragraphs after the description's last turn
    q = last + 1
    while ctx.quotes(q) and len(turns) < 12:
        turns.append({ctx.decided[i].speaker for i in ctx.quotes(q) if i in ctx.decided})
        q += 1
    partners = set().union(*turns[0::2]) if turns else set()
    for k in range(1, len(turns), 2):
        named = {n for n in turns[k] if n != who and n not in ctx.resolver.nominal_gender}
        gender = ctx.resolver.gender(who)
        if len(named) == 1 and not named & partners and who not in set().union(*turns[: k + 1]):
            name = named.pop()
            return name if gender and ctx.resolver.gender(name) == gender else None
        if named or len(partners) > 1:
            return None
    return None


def _speaks_beside(ctx: Context, name: str, paragraphs: list[int]) -> bool:
    """`name` speaks in one of `paragraphs`, or right before or after one: someone else."""
    near = {q for p in paragraphs for q in (p - 1, p, p + 1)}
    return any(ctx.speaker(i) == name for q in near for i in ctx.by_paragraph.get(q, []))


def memories(ctx: Context) -> None:
    """In a first-person story, runs of at most four lone untagged quotes with nobody in the
    narration around them (the sentence before, the sentence after, the quotes' own paragraphs)
    are remembered voices."""
    narrator = ctx.narrator
    if narrator is None:
        return  # a third-person story has no memories told by an I
    paragraphs = sorted(ctx.by_paragraph)
    k = 0
    while k < len(paragraphs):
        run: list[int] = []
        while k < len(paragraphs) and _remembered(ctx, paragraphs[k]):
            if run and paragraphs[k] != run[-1] + 1:
                break
            run.append(paragraphs[k])
            k += 1
        if not run:
            k += 1
            continue
        if len(run) <= 4 and not _in_conversation(ctx, run) and _nobody_around(ctx, run):
            for p in run:
                for i in ctx.quotes(p):
                    quote = ctx.said(i)
                    if _PARENT_CALL.match(quote) and _I.search(quote):
                        ctx.decided[i] = Decision(narrator, "memory", 0.4)  # the narrator as a child
                    else:
                        ctx.decided[i] = Decision(MEMORY, "memory", 0.4)


def _in_conversation(ctx: Context, run: list[int]) -> bool:
    """Whether the run answers or is answered across the narrator's short reply without words:
    `"…?"` / `I nodded.` / `"Well, …"` is a conversation going on."""
    for beat, other in ((run[0] - 1, run[0] - 2), (run[-1] + 1, run[-1] + 2)):
        if beat in ctx.by_paragraph and not ctx.quotes(beat) and other in ctx.by_paragraph and ctx.quotes(other):
            if _NOD.fullmatch(" ".join(ctx.said(i) for i in ctx.by_paragraph[beat]).strip()):
                return True
    return False


def _remembered(ctx: Context, p: int) -> bool:
    """Whether paragraph `p` holds lone quotes the narrator is taken to say: the narrator's lines
    first, as the lone quotes' test reads the narration around them."""
    quotes = ctx.quotes(p)
    return bool(quotes) and _introduced_by_narrator(ctx, quotes) and _lone_quote(ctx, p, quotes)


def _lone_quote(ctx: Context, p: int, quotes: list[int]) -> bool:
    members = ctx.by_paragraph[p]
    if not quotes or any(ctx.segs[i].continues for i in quotes):
        return False
    if any(i in ctx.decided and ctx.decided[i].rule != "introduced" for i in quotes):
        return False  # "introduced": the narrator did something, then the quote (maybe only remembered)
    narration = " ".join(ctx.said(i) for i in members if ctx.segs[i].kind == "narration")
    return not beats(narration, "") and not _THIRD_PERSON.search(narration) and not _I.search(narration)


def _introduced_by_narrator(ctx: Context, quotes: list[int]) -> bool:
    """Whether the narrator says each of `quotes` that is decided."""
    narrator, decided = ctx.narrator, ctx.decided
    return all(i not in decided or decided[i].speaker == narrator for i in quotes)


def _nobody_around(ctx: Context, run: list[int]) -> bool:
    """Neither the last sentence before the run nor the first after it mentions anyone but the narrator."""
    segs, text = ctx.segs, ctx.text
    before = ctx.by_paragraph.get(run[0] - 1, [])
    after = ctx.by_paragraph.get(run[-1] + 1, [])
    checks = []
    if before:
        if any(segs[i].kind == "dialogue" for i in before):
            return False
        start, end = segs[before[0]].start, segs[before[-1]].end
        last = _SENTENCE.split(text[start:end].strip())[-1]
        at = text.rfind(last, start, end)
        checks.append((at, at + len(last), last))
    if after:
        if any(segs[i].kind == "dialogue" for i in after):
            return False
        start, end = segs[after[0]].start, segs[after[-1]].end
        first = _SENTENCE.split(text[start:end].strip())[0]
        checks.append((start, start + len(first) + 1, first))
    for start, end, sentence in checks:
        if _THIRD_PERSON.search(sentence):
            return False
        if any(m.character != ctx.narrator for m in ctx.cast.mentioned_after(start, end)):
            return False
    return True
