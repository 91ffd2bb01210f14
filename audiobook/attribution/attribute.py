"""Attribute stage: give every dialogue run a speaker, and say which rule decided it.

A sieve, most confident rule first (the rule names are `context.Rule`):

1. `continued-quote`: a quotation running on from the previous paragraph.
2. `speech-verb` / `speech-tag`: a speech tag next to the quote, either order (`said Kaito`,
   `Haku said`, `she asked`, `said the old man`, `I said`); pronouns go to the last character of
   that gender mentioned (or speaking) before the quote; a definite description never introduced
   as someone new ("the doctor", "the mother") is the named character it stands for.
   `self-introduction`: `"I'm Miku!"`.
3. `same-paragraph`: another quote of the same paragraph was tagged.
4. `action-beat`: the subject of a sentence around the quote in its paragraph (`Haku sighed.`).
   `introduced`: the narration before leads into it (`I heard a voice singing.`).
5. `vocative` / `turn-taking`: the one addressed by name answers; in a run of dialogue
   paragraphs speakers alternate (A-B-A), counted from the nearest attributed paragraph.
6. `memory`, and voices and descriptions named later (`unnamed.py`).
7. `last-mentioned` / `first-person`: the last character named, or a first-person narrator.

Cast discovery lives in `characters.py`; the cues (tags, beats, names called) in `cues.py`; who a
phrase refers to (names, he/she, "her mother") in `referents.py`; the rules for one quote or
paragraph in `rules.py`; turn-taking in `turns.py`; speakers named late, voices and memories in
`unnamed.py`; the first-person narrator in `narrator.py`. They share one `Context`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from ..book import Book
from ..segment import Segment, Segmentation, segment
from .addressed import gendered_turns, tagged_genders, talked_of
from .characters import NAME_RE, STOP_WORDS, SUBJECT_VERB, Cast, KnownCast, Mention, find_cast
from .collector import collector_paused
from .context import Chapter, Context, Decision, Paragraph
from .cues import KIN_VOCATIVE, PARENT_VOCATIVE, asks_name, named_in, names_called, tag_positions
from .narrator import first_person, name_narrator, signed_name
from .referents import NOMINAL, PERSON_NOUN, SUBJECT_AFTER, Resolver
from .rules import (
    action_beat,
    answering,
    beat_before,
    continued_quote,
    introduced_after_quote,
    introduced_by_lead_in,
    last_mentioned,
    same_paragraph,
    self_introduction,
    serves_both,
    speech_tag,
)
from .rules import first_person as first_person_rule
from .script import NARRATOR, Character, Line, Script, format_script
from .seed import UserCast, as_user, seed, speaker
from .speaker_gender import speaker_genders
from .turns import turn_taking
from .unnamed import identify_descriptions, identify_voices, listed_descriptions, memories, self_introduced

__all__ = [
    "NARRATOR", "Character", "Line", "Script", "attribute", "attribute_book", "attribute_chapters", "format_script",
]


Fixed = Mapping[tuple[int, int], str]  # (chapter, segment index in it) -> speaker: the user's `[[lines]]`


@collector_paused()
def attribute_book(
    book: Book, user: UserCast | KnownCast | None = None, fixed: Fixed | None = None
) -> tuple[Script, ...]:
    """Segment and attribute every chapter of a book, with one cast for the whole book: names,
    aliases and genders are found over all its chapters, and each character is called the same
    in every chapter. `audiobook build` and `audiobook segment` both read a book so:
    `attribute_book(load_book(sources))`. `user` is the cast voices.toml lists (it seeds the
    cast found in the text), `fixed` the speakers it gives single quotes."""
    return attribute_chapters([segment(story) for story in book.chapters], user, fixed)


def attribute(
    seg: Segmentation, user: UserCast | KnownCast | None = None, fixed: Mapping[int, str] | None = None
) -> Script:
    """Give every dialogue segment of one story a speaker and say which rule decided it."""
    return attribute_chapters([seg], user, {(0, i): who for i, who in (fixed or {}).items()})[0]


@collector_paused()
def attribute_chapters(
    chapters: Sequence[Segmentation], user: UserCast | KnownCast | None = None, fixed: Fixed | None = None
) -> tuple[Script, ...]:
    """The chapters of one book, with one cast found over all of them (and seeded with the cast
    the user lists). Each work (the chapters read from one file: a novel split at its headings,
    or one story of an anthology) is attributed as one text, with its own first-person narrator
    or none. A fixed quote is an anchor: the rules around it follow it."""
    user = as_user(user)
    book = _join(chapters)
    cast = find_cast(book.text, book.narration, tag_positions(book.text, book.narration), user.known())
    seed(cast, user, book.text, book.narration)
    fixed = fixed or {}
    scripts: list[Script] = []
    for first, last in _works(chapters):
        work = book if (first, last) == (0, len(chapters)) else _join(chapters[first:last])
        start = book.chapters[first].text_start
        ctx = _context(work, cast if work is book else cast.part(start, start + len(work.text)))
        for (c, i), who in fixed.items():
            if first <= c < last:
                ctx.fixed[work.chapters[c - first].first_segment + i] = speaker(user, ctx.cast, who, ctx.narrator)
        scripts += sieve(ctx)
    return tuple(scripts)


def sieve(ctx: Context) -> tuple[Script, ...]:
    """The passes, in order, over one text; a script for each of its chapters."""
    introductions(ctx)  # `"I'm Miku!"`, `"Your name?"` / `"Nell."`
    for p, members in ctx.by_paragraph.items():
        describe(ctx, members)  # `A large man … stood`: someone unnamed, for a later he/she
        pronoun_subjects(ctx, members)  # `He glanced round him`: whom the narration's he/she is about
        par = open_paragraph(ctx, p, members)  # who is addressed, who talked about
        if par is None:
            continue
        for i in par.quotes:
            tag_quote(ctx, par, i)
        par.speaker = (
            same_paragraph(par)
            or action_beat(ctx, par)
            or introduced_after_quote(ctx, par)
            or introduced_by_lead_in(ctx, par)
        )
        for i in par.quotes:
            decision = par.tags.get(i) or beat_before(ctx, par, i) or par.speaker
            if decision:
                ctx.decided[i] = decision
                if i not in par.tags:  # a tagged quote's speaker is a mention from the tag on
                    ctx.cast.add_mention(Mention(ctx.segs[i].start, ctx.segs[i].start, decision.speaker))
            ctx.last_quote = i
    name_narrator(ctx)  # an unnamed "I" called by name by the others
    memories(ctx)  # a first-person story's remembered voices
    turn_taking(ctx)
    gendered_turns(ctx)  # `"Yes, sir."` between a man and a woman is the woman's
    tagged_genders(ctx)  # `"…," she said` is never a man's line
    identify_descriptions(ctx)  # "the parson" is Parson Tringham
    identify_voices(ctx)  # "a familiar voice" is Kaito
    listed_descriptions(ctx)  # with a listed cast, `said one woman` is one of the listed people
    for i, who in ctx.fixed.items():
        ctx.decided[i] = Decision(who, "fixed", 1.0)
    speaker_genders(ctx)  # `said the Jew, rubbing his hands`: speakers the sieve found, men or women
    return tuple(script(ctx, chapter) for chapter in ctx.chapters)


CHAPTER_BREAK = "\n\n"  # between chapters in the joined text


@dataclass(frozen=True)
class _Joined:
    """Chapters as one text: their texts joined by CHAPTER_BREAK, segments and paragraphs
    renumbered (with a gap in the paragraph numbers between chapters)."""

    text: str
    segments: tuple[Segment, ...]
    chapters: tuple[Chapter, ...]

    @cached_property  # (asked by several passes of a book: found once)
    def narration(self) -> list[tuple[int, int]]:
        return [(s.start, s.end) for s in self.segments if s.kind == "narration"]

    @cached_property  # (asked of a first-person story only: listed then)
    def paragraphs(self) -> tuple[str, ...]:
        """Each paragraph's text by its number, "" for the gap between two chapters."""
        paragraphs: list[str] = []
        for k, chapter in enumerate(self.chapters):
            story = chapter.segmentation.story
            paragraphs += [""] * (k > 0) + [story.paragraph_text(i) for i in range(len(story.paragraphs))]
        return tuple(paragraphs)


def _join(segmentations: Sequence[Segmentation]) -> _Joined:
    texts: list[str] = []
    segments: list[Segment] = []
    paragraphs = 0  # the paragraphs so far
    chapters: list[Chapter] = []
    text_start = 0
    for seg in segmentations:
        story = seg.story
        if chapters:
            texts.append(CHAPTER_BREAK)
            text_start += len(CHAPTER_BREAK)
            paragraphs += 1  # a gap in the paragraph numbers: nothing runs on across it
        chapters.append(Chapter(seg, text_start, paragraphs, len(segments)))
        texts.append(story.text)
        paragraphs += len(story.paragraphs)
        first_paragraph = chapters[-1].first_paragraph
        if not chapters[1:]:
            segments += seg.segments  # the first chapter is where it is
        else:
            segments += [
                Segment(s.start + text_start, s.end + text_start, s.kind, s.paragraph + first_paragraph, s.continues)
                for s in seg.segments
            ]
        text_start += len(story.text)
    return _Joined("".join(texts), tuple(segments), tuple(chapters))


def _works(chapters: Sequence[Segmentation]) -> list[tuple[int, int]]:
    """Runs of chapters read from the same file, as (first, last + 1)."""
    runs: list[tuple[int, int]] = []
    for k, seg in enumerate(chapters):
        if runs and chapters[runs[-1][0]].story.path == seg.story.path:
            runs[-1] = (runs[-1][0], k + 1)
        else:
            runs.append((k, k + 1))
    return runs


def context(*segmentations: Segmentation) -> Context:
    """The chapters as one text with its own cast: see `_context`."""
    joined = _join(segmentations)
    return _context(joined, find_cast(joined.text, joined.narration, tag_positions(joined.text, joined.narration)))


def _context(joined: _Joined, cast: Cast) -> Context:
    """The context of one text: whether it has a first-person narrator (and their name, if it is
    signed, or the user lists one), and its segments by paragraph."""
    narration = joined.narration
    narrator = signed_name(list(joined.paragraphs), cast) if first_person(joined.text, narration) else None
    if narrator is not None and cast.first_person:
        narrator = cast.first_person  # the user's word: this character is the "I" (of the works told so)
    by_paragraph: dict[int, list[int]] = {}
    for i, s in enumerate(joined.segments):
        by_paragraph.setdefault(s.paragraph, []).append(i)
    return Context(
        joined.text, joined.segments, by_paragraph, cast, Resolver(joined.text, cast, narrator), joined.chapters
    )


def introductions(ctx: Context) -> None:
    """Quotes whose speaker says who they are: `"I'm Miku!"`, or a name given when asked
    (`"Tell us your name!"` / `"Pip, sir."`)."""
    cast = ctx.cast
    asking: set[int] = set()  # paragraphs asking for a name
    for i, s in enumerate(ctx.segs):
        if s.kind != "dialogue":
            continue
        quote = ctx.said(i)
        who = self_introduced(quote, cast)
        if s.paragraph - 1 in asking and not who:
            m = NAME_RE.match(quote.lstrip("\"“‘' "))
            if m and m.group(0) not in STOP_WORDS and not cast.resolve(m.group(0)):
                cast.add_character(m.group(0))  # `"Nell."`: a name said only in answer
            who = cast.resolve(m.group(0)) if m and m.group(0) not in STOP_WORDS else None
            if who:
                ctx.answered[s.paragraph] = who
        if who and who != ctx.narrator:
            ctx.introduced_as[i] = who
            cast.add_mention(Mention(s.start, s.start, who))
        if asks_name(quote):
            asking.add(s.paragraph)


_DESCRIPTION_START = re.compile(
    r"(?:^|(?<=[.!?…]\s)|(?<=[.!?…][\"”’']\s))(?=(?:A|An|The|One|Another)\s)|(?<=[\s,;(])(?=(?:a|an|the|one|another)\s)"
)
# Where a description may start: the scanner jumps from one determiner to the next (the
# look-behinds above, tried at every character of the book, cost three times as much). Each is the
# start of a determiner after a space or a sentence's end, so no determiner found before it overlaps it.
_DETERMINER = re.compile(r"(?:An?|The|One|Another|an?|the|one|another)\s")


def describe(ctx: Context, members: list[int]) -> None:
    """Descriptions opening a sentence of narration (`A large man … stood`, `The man nodded`) are
    mentions of an unnamed character, candidates for a later he/she."""
    text, resolver = ctx.text, ctx.resolver
    for seg in (ctx.segs[i] for i in members if ctx.segs[i].kind == "narration"):
        if not PERSON_NOUN.search(text, max(0, seg.start - 1), seg.end):
            continue  # no noun of a person: no description (most short runs, `said Pooh.`)
        chunk = text[seg.start : seg.end]
        for candidate in _DETERMINER.finditer(chunk):
            at = seg.start + candidate.start()
            nominal = NOMINAL.match(text, at, seg.end)  # tried first: most determiners open no person
            if not nominal or not _DESCRIPTION_START.match(chunk, candidate.start()):
                continue
            if nominal.group("noun") == "voice":
                continue
            subject = SUBJECT_AFTER.match(text, nominal.end(), seg.end)
            if text[at].islower() and not subject:
                continue  # mid-sentence, only a subject: `Concerning that ride, the man spoke`
            det = nominal.group("det").lower()
            worn = bool(subject and subject.group("worn"))  # `the seaman with the sabre cut`: someone described anew
            noun = nominal.group("noun")
            named = resolver.apposed(noun, at) if det == "the" and not worn and not nominal.group("adj") else None
            if named:  # `The doctor shut the door.`, after `Mr. Losberne, a surgeon`
                ctx.cast.add_mention(Mention(at, nominal.end(), named))
                continue
            if det == "the" and not worn and not resolver.known_head(noun, at):  # `The doctor shut the door.`
                named = resolver.epithet(noun, at, True)
                if named:
                    ctx.cast.add_mention(Mention(at, nominal.end(), named))
                    continue
            new = worn or det in ("a", "an", "one", "another")
            name = resolver.nominal(nominal.group(0), at, new=new, speaker=False)
            if name:
                ctx.cast.add_mention(Mention(at, nominal.end(), name))


# `\b(?:[Hh]e|[Ss]he)\b`, with the word boundary checked after the first letter: the scanner
# jumps from one h or s to the next instead of testing a boundary at every character.
_HE_SHE = re.compile(r"(?:H(?<!\w.)e|h(?<!\w.)e|S(?<!\w.)he|s(?<!\w.)he)\b")
_NOT_TAG_START = re.compile(r"[^ ,—–\-\n]")  # what text[start:he].strip(" ,—–-\n") would keep
_CLAUSE_OPENS = re.compile(r"(?:[.!?;:][\"”’']?\s+|\b(?:and|but|then|when|as)\s+)$")  # before a subject


def pronoun_subjects(ctx: Context, members: list[int]) -> None:
    """Each he/she that is the subject of a sentence or clause of narration is a mention of the
    character it stands for, resolved in the order of the text: `He glanced round him, and saw
    that … Mr. Fortescue was a celebrity. "Have you been to Manchester?" he asked` - he is still
    the one who glanced. A speech tag's own he/she is left to the tag (`"…," he said`)."""
    text = ctx.text
    for i in members:
        seg = ctx.segs[i]
        if seg.kind != "narration":
            continue
        after_quote = i > 0 and ctx.segs[i - 1].kind == "dialogue" and ctx.segs[i - 1].paragraph == seg.paragraph
        for m in _HE_SHE.finditer(text, seg.start, seg.end):
            if m.start() > seg.start and not _CLAUSE_OPENS.search(text, max(seg.start, m.start() - 8), m.start()):
                continue
            if after_quote and not _NOT_TAG_START.search(text, seg.start, m.start()):
                continue  # `"…," he said`: the tag's
            if not SUBJECT_VERB.match(text, m.end(), seg.end):
                continue
            who = ctx.resolver.resolve(m.group(0), m.start())
            if who:
                ctx.cast.add_mention(Mention(m.start(), m.end(), who))


def open_paragraph(ctx: Context, p: int, members: list[int]) -> Paragraph | None:
    """A paragraph with quotes, with who its quotes address and talk about (none of whom speak
    them); a paragraph of narration only is kept for the quotes it may lead into."""
    quotes = ctx.quotes(p)
    if not quotes:
        ctx.narration_only[p] = members
        return None
    addressed: list[str] = []
    saids = [ctx.said(i) for i in quotes]
    for i, said in zip(quotes, saids, strict=True):
        lower = said.lower()
        called = names_called(said)
        for v in called:
            if talked_of(said, v, called):
                continue  # `"Mrs. Dixon! very true. I had not thought of Mrs. Dixon."`: spoken of, not called
            name = ctx.resolver.holder(v, ctx.segs[i].start) or ctx.cast.resolve(v)  # `"…, John?"`: the John in view
            if name and ctx.introduced_as.get(i) != name and not _echoed(said, v, name, ctx.named.get(p - 1, ())):
                addressed.append(name)
        for kin in _vocatives(KIN_VOCATIVE, _KIN_WORDS, said, lower):
            name = ctx.resolver.kin(kin)
            if name and name not in addressed:
                addressed.append(name)  # `"Surely, uncle, …"`: the one the story calls Uncle John
        for parent in _vocatives(PARENT_VOCATIVE, _PARENT_WORDS, said, lower):
            name = ctx.resolver.parent(parent, ctx.segs[i].start)
            if name and name not in addressed:
                addressed.append(name)  # `"…, papa."`: the Mr. of the scene
    ctx.vocatives[p] = addressed
    if addressed:
        ctx.resolver.calls.append((ctx.segs[quotes[0]].start, tuple(addressed)))  # for a he/she that answers
    ctx.named[p] = {n for said in saids for n in named_in(said, ctx.cast)} - set(addressed)
    return Paragraph(p, members, quotes, set(addressed))


def _echoed(said: str, called: str, name: str, named_before: Collection[str]) -> bool:
    """`"…a friend called Mr Beaver."` / `"John Beaver? How odd."` / `"Mr. Dixon.--Very well."`: a name
    the line before spoke of, asked or cried back at the start of a line, is echoed, not called."""
    return name in named_before and re.match(rf"\W*{re.escape(called)}(?:\W*[?!]|\.\s*[—–-])", said) is not None


_KIN_WORDS = ("uncle", "aunt", "cousin", "sister", "brother")
_PARENT_WORDS = ("papa", "mama", "mamma", "mother", "father")


def _vocatives(pattern: re.Pattern[str], words: tuple[str, ...], quote: str, lower: str) -> list[str]:
    """`pattern.findall(quote)`, skipped for the many quotes without any of `words` (in `lower`,
    the quote in lower case): `KIN_VOCATIVE` with `_KIN_WORDS`, `PARENT_VOCATIVE` with `_PARENT_WORDS`."""
    return pattern.findall(quote) if any(word in lower for word in words) else []


def tag_quote(ctx: Context, par: Paragraph, i: int) -> None:
    """The rules that give one quote a speaker of its own, surest first."""
    if i in ctx.fixed:
        par.tags[i] = Decision(ctx.fixed[i], "fixed", 1.0)
        return
    decision = continued_quote(ctx, i)
    if decision is None:
        answering(ctx, par, i)  # `said he to Temple`, `"…," she replied`: who it is not
        joined = serves_both(ctx, par, i)
        if joined == "clause":  # `"Hi," she said, "how are you?"`: the tag between serves both halves
            decision = par.tags[i - 2]
        else:  # `"Hi," she said. "How are you?"`, with no tag of its own
            decision = (
                speech_tag(ctx, par, i, joined) or (par.tags[i - 2] if joined else None) or self_introduction(ctx, i)
            )
    if decision:
        par.tags[i] = decision
        # for a he/she later in the paragraph
        ctx.cast.add_mention(Mention(ctx.segs[i].start, ctx.segs[i].start, decision.speaker))


def script(ctx: Context, chapter: Chapter) -> Script:
    """A chapter's lines, each quote with its decision (or the last resort), and its speakers."""
    seg = chapter.segmentation
    lines: list[Line] = []
    for k, s in enumerate(seg.segments):
        i = chapter.first_segment + k
        if s.kind == "narration":
            lines.append(Line(s.start, s.end, s.kind, s.paragraph))
            continue
        d = ctx.decided.get(i) or first_person_rule(ctx, i) or last_mentioned(ctx, i)
        if d is None:
            lines.append(Line(s.start, s.end, "dialogue", s.paragraph, None, "unknown", 0.0))
        else:
            lines.append(Line(s.start, s.end, "dialogue", s.paragraph, d.speaker, d.rule, d.confidence))
    return Script(seg, tuple(lines), _characters(ctx, lines), ctx.narrator)


def _characters(ctx: Context, lines: list[Line]) -> tuple[Character, ...]:
    """Every speaker, with aliases, gender and line count, most lines first."""
    counts = Counter(line.speaker for line in lines if line.kind == "dialogue" and line.speaker)
    return tuple(
        Character(name, ctx.cast.aliases.get(name, ()), ctx.resolver.voice_gender(name), n)
        for name, n in counts.most_common()
    )
