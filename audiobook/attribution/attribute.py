"""Attribute stage: give every dialogue run a speaker, and say which rule decided it.

A sieve, most confident rule first:

1. `continued-quote`: a quotation running on from the previous paragraph.
2. `speech-verb`: a speech tag next to the quote, either order (`said Kaito`, `Haku said`,
   `she asked`, `said the old man`, `I said`); pronouns go to the last character of that
   gender mentioned (or speaking) before the quote; a definite description never introduced as
   someone new ("the doctor", "the mother") is the named character it stands for (`Resolver.epithet`).
3. `same-paragraph`: another quote of the same paragraph was tagged.
4. `action-beat`: the subject of a sentence around the quote in its paragraph (`Haku sighed.`).
5. `turn-taking`: in a run of dialogue paragraphs speakers alternate (A-B-A), counted from the
   nearest attributed paragraph either side.
6. `vocative`: the one addressed by name in the previous line answers.
7. `last-mentioned` / `first-person`: the last character named, or a first-person narrator.

Also: `self-introduction` (`"I'm Miku!"`), `introduced` (`I heard a voice singing.` before a
song), and from `unnamed.py` voices recognised later and `memory` (remembered voices).

Cast discovery lives in `characters.py`; the cues (tags, beats, names called) in `cues.py`; who a
phrase refers to (names, he/she, "her mother") in `referents.py`; turn-taking in `turns.py`;
speakers named late, voices and memories in `unnamed.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .characters import NAME_RE, STOP_WORDS, SUBJECT_VERB, Cast, Gender, Mention, find_cast
from .cues import (
    KIN_VOCATIVE,
    SENTENCES,
    Who,
    NAME_ASKED,
    NAME_PHRASE,
    SPEECH_VERBS,
    beats,
    introducer,
    listeners,
    named_in,
    names_called,
    open_ended,
    tag_after,
    tag_before,
    trailing_narration,
)
from .referents import NOMINAL, Resolver
from ..segment import Kind, Segment, Segmentation
from .turns import turn_taking
from .unnamed import identify_descriptions, identify_voices, memories, self_introduced, voice_gender

__all__ = ["NARRATOR", "SPEECH_VERBS", "Character", "Line", "Script", "attribute", "format_script"]

NARRATOR = "narrator"  # the name of a first-person narrator whose name the text never reveals


@dataclass(frozen=True)
class Character:
    name: str
    aliases: tuple[str, ...] = ()
    gender: Gender | None = None
    lines: int = 0


@dataclass(frozen=True)
class Line:
    """A segment with who speaks it. Narration has speaker None (the narrator voice)."""

    start: int
    end: int
    kind: Kind
    paragraph: int
    speaker: str | None = None
    rule: str | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class Script:
    segmentation: Segmentation
    lines: tuple[Line, ...]
    characters: tuple[Character, ...]
    narrator: str | None  # the first-person narrator's name, NARRATOR if never revealed, None if third person

    @property
    def story(self):
        return self.segmentation.story


def _first_person(text: str, narration: list[tuple[int, int]]) -> bool:
    words: Counter[str] = Counter()
    for start, end in narration:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text[start:end]))
    first = words["i"] + words["me"] + words["my"]
    third = sum(words[w] for w in ("he", "she", "his", "her", "him"))
    if first > 0.5 * third and first >= 3:
        return True
    # a frame narrator who says little about themselves but speaks: `"…?" I inquired.`
    tags = sum(1 for start, end in narration if re.match(rf"\W*(?:I\s+(?:\w+ly\s+)?(?:{_VERBS})\b|(?:{_VERBS})\s+I\b)", text[start:end]))
    return tags >= 2


_VERBS = "|".join(sorted(SPEECH_VERBS))
_TAG_SCAN = re.compile(
    rf"(?:\b(?:{'|'.join(sorted(SPEECH_VERBS))})\s+(?P<a>{NAME_PHRASE.pattern}))|"
    rf"(?P<b>{NAME_PHRASE.pattern})\s+(?:\w+ly\s+)?(?:{'|'.join(sorted(SPEECH_VERBS))})\b"
)


def attribute(seg: Segmentation) -> Script:
    """Give every dialogue segment a speaker and say which rule decided it."""
    text = seg.story.text
    segs = list(seg.segments)
    narration = [(s.start, s.end) for s in segs if s.kind == "narration"]
    tag_positions = set()
    for start, end in narration:
        for m in _TAG_SCAN.finditer(text, start, end):
            tag_positions.add(m.start("a") if m.group("a") else m.start("b"))
    cast = find_cast(text, narration, tag_positions)
    first_person = _first_person(text, narration)
    narrator_name = _narrator_name(seg, cast) if first_person else None
    resolver = Resolver(text, cast, narrator_name or NARRATOR if first_person else None)

    by_paragraph: dict[int, list[int]] = {}
    for i, s in enumerate(segs):
        by_paragraph.setdefault(s.paragraph, []).append(i)

    decided: dict[int, tuple[str, str, float]] = {}  # segment index -> speaker, rule, confidence
    paragraph_speaker: dict[int, tuple[str, str, float]] = {}
    vocatives: dict[int, list[str]] = {}  # paragraph -> characters addressed in it
    named: dict[int, set[str]] = {}  # paragraph -> characters its quotes talk about
    last_quote: int | None = None

    introduced_as: dict[int, str] = {}  # `"I'm Miku!"`: a quote whose speaker says who they are
    asking: set[int] = set()  # paragraphs asking for a name: `"Tell us your name!"` / `"Pip, sir."`
    answered: dict[int, str] = {}  # paragraph -> the name it gives in answer
    for i, s in enumerate(segs):
        if s.kind == "dialogue":
            quote = text[s.start : s.end]
            who = self_introduced(quote, cast)
            if s.paragraph - 1 in asking and not who:
                m = NAME_RE.match(quote.lstrip("\"“‘' "))
                if m and m.group(0) not in STOP_WORDS and not cast.resolve(m.group(0)):
                    cast.add_character(m.group(0))  # `"Nell."`: a name said only in answer
                who = cast.resolve(m.group(0)) if m and m.group(0) not in STOP_WORDS else None
                if who:
                    answered[s.paragraph] = who
            if who and who != resolver.narrator:
                introduced_as[i] = who
                cast.add_mention(Mention(s.start, s.start, who))
            if NAME_ASKED.search(quote):
                asking.add(s.paragraph)

    narration_only: dict[int, str] = {}
    for p, members in by_paragraph.items():
        quotes = [i for i in members if segs[i].kind == "dialogue"]
        for i in members:  # `A large man … stood behind a counter.`: a description as a candidate
            if segs[i].kind == "narration":
                _describe(text, segs[i], resolver, cast)
        if not quotes:
            narration_only[p] = " ".join(text[segs[i].start : segs[i].end] for i in members)
            continue
        addressed = []
        for i in quotes:
            for v in names_called(text[segs[i].start : segs[i].end]):
                name = cast.resolve(v)
                if name and introduced_as.get(i) != name:
                    addressed.append(name)
            for kin in KIN_VOCATIVE.findall(text[segs[i].start : segs[i].end]):
                name = resolver.kin(kin)
                if name and name not in addressed:
                    addressed.append(name)  # `"Surely, uncle, …"`: the one the story calls Uncle John
        vocatives[p] = addressed
        named[p] = {n for i in quotes for n in named_in(text[segs[i].start : segs[i].end], cast)} - set(addressed)
        exclude = set(addressed)
        tags: dict[int, tuple[str, str, float]] = {}
        for i in quotes:
            s = segs[i]
            if s.continues and last_quote is not None and last_quote in decided:
                tags[i] = (decided[last_quote][0], "continued-quote", 0.9)
                continue
            nxt = segs[i + 1] if i + 1 < len(segs) and segs[i + 1].paragraph == p else None
            prv = segs[i - 1] if i > 0 and segs[i - 1].paragraph == p else None
            if nxt is not None and nxt.kind == "narration":
                exclude |= {n for n in map(cast.resolve, listeners(text[nxt.start : nxt.end])) if n}
                if re.match(r"\W*(?:she|he)\s+(?:replied|answered|returned|retorted|responded|rejoined)\b", text[nxt.start : nxt.end]) and (
                    last_quote is not None and last_quote in decided and segs[last_quote].paragraph == p - 1
                ):
                    exclude.add(decided[last_quote][0])  # `"…," she replied`: not the one who just spoke
            joined = None  # the narration before is the tag of the quote before and nothing else
            if prv is not None and prv.kind == "narration" and i - 2 in tags and segs[i - 2].paragraph == p:
                joined = _serves_both(text[prv.start : prv.end], text[segs[i - 2].start : segs[i - 2].end])
            if joined == "clause":
                tags[i] = tags[i - 2]  # `"Hi," she said, "how are you?"`: the tag between serves both halves
                continue
            for who in (
                tag_after(text[nxt.start : nxt.end], open_ended(text[s.start : s.end])) if nxt is not None and nxt.kind == "narration" else None,
                tag_before(text[prv.start : prv.end]) if prv is not None and prv.kind == "narration" and not joined else None,
            ):
                if who is None:
                    continue
                if i in introduced_as and who.phrase.lower() in ("he", "she"):
                    break  # `"I am Captain Reyes," he said`: the name outweighs a guessed he
                name = resolver.resolve(who.phrase, s.start, exclude)
                if name:
                    tags[i] = (name, who.rule, who.confidence)
                    if name in resolver.voices and resolver.nominal_gender.get(name) is None:  # `… his voice gave him away`
                        after = by_paragraph[p] + by_paragraph.get(p + 1, [])
                        narr = " ".join(text[segs[j].start : segs[j].end] for j in after if j > i and segs[j].kind == "narration")
                        resolver.nominal_gender[name] = voice_gender(narr)
                    break
            if i not in tags and joined:
                tags[i] = tags[i - 2]  # `"Hi," she said. "How are you?"`, with no tag of its own
            if i not in tags and i in introduced_as:
                tags[i] = (introduced_as[i], "self-introduction", 0.8)
        if not tags:
            narr_before = " ".join(text[segs[j].start : segs[j].end] for j in members if j < quotes[0] and segs[j].kind == "narration")
            narr_after = " ".join(text[segs[j].start : segs[j].end] for j in members if j > quotes[0] and segs[j].kind == "narration")
            for who in beats(narr_before, narr_after):
                name = resolver.resolve(who.phrase, segs[quotes[0]].start, exclude)
                if name:
                    paragraph_speaker[p] = (name, who.rule, who.confidence)
                    break
        else:
            first = tags[min(tags)]
            paragraph_speaker[p] = (first[0], "same-paragraph", 0.85)
        trailing = trailing_narration(text, segs, by_paragraph.get(p - 1, []))
        if p not in paragraph_speaker and not tags and len(members) == len(quotes) and trailing and p - 1 not in narration_only:
            for who in introducer(trailing)[:1]:  # `…," Haku replied. … she began singing.` then the song
                name = resolver.resolve(who.phrase, segs[quotes[0]].start, exclude)
                if name:
                    paragraph_speaker[p] = (name, "introduced", 0.6)
        if p not in paragraph_speaker and not tags and len(members) == len(quotes) and p - 1 in narration_only:
            # `Luka stepped forward and spoke.` then the quote in a paragraph of its own
            tag = tag_before(narration_only[p - 1]) if narration_only[p - 1].rstrip().endswith(":") else None
            if tag and tag.phrase.lower() in ("he", "she"):
                tag = None  # `He said:` after a paragraph about others: the beat rules weigh that better
            for who in ([tag] if tag else introducer(narration_only[p - 1]) or beats(narration_only[p - 1], ""))[:1]:
                name = resolver.resolve(who.phrase, segs[quotes[0]].start, exclude)
                if name:
                    paragraph_speaker[p] = (name, "introduced", 0.6)
        for i in quotes:
            beat = _beat_before(text, segs, i, p) if tags and i not in tags else None
            if i in tags:
                decided[i] = tags[i]
            elif beat and (name := resolver.resolve(beat.phrase, segs[i].start, exclude)):
                decided[i] = (name, beat.rule, beat.confidence)  # `"…," said Ann. Tom shrugged. "…"`: Tom
            elif p in paragraph_speaker:
                decided[i] = paragraph_speaker[p]
            if i in decided:
                speaker = decided[i][0]
                cast.add_mention(Mention(segs[i].start, segs[i].start, speaker))
            last_quote = i

    if first_person and narrator_name == NARRATOR:
        narrator_name = _addressed_narrator(text, segs, decided, cast) or NARRATOR
        if narrator_name != NARRATOR:
            resolver.narrator = narrator_name
            for i, (who, rule, conf) in list(decided.items()):
                if who == NARRATOR:
                    decided[i] = (narrator_name, rule, conf)
    if first_person:
        memories(text, segs, by_paragraph, decided, cast, narrator_name or NARRATOR, lambda narr: bool(beats(narr, "")))
    turn_taking(segs, by_paragraph, decided, vocatives, named, resolver, narrator_name or NARRATOR if first_person else None)
    # descriptions that may turn out to be someone named; a group ("the strangers") is no one person
    plural = re.compile(r"[^s]s$")  # "the strangers", not "the actress"
    descriptions = {
        who for who, _, _ in decided.values() if who in resolver.nominal_gender and who not in resolver.voices and not plural.search(who)
    }
    for description, name in identify_descriptions(
        text, segs, by_paragraph, decided, descriptions, resolver.gender, vocatives, answered, cast, resolver.titled
    ).items():
        cast.aliases[name] = tuple(sorted({*cast.aliases.get(name, ()), description}))
    identify_voices(text, segs, by_paragraph, decided, resolver.voices, resolver.gender, vocatives, cast, narrator_name)

    lines: list[Line] = []
    for i, s in enumerate(segs):
        if s.kind == "narration":
            lines.append(Line(s.start, s.end, s.kind, s.paragraph))
            continue
        speaker, rule, conf = decided.get(i, (None, "unknown", 0.0))
        if speaker is None:
            earlier = [m.character for m in cast.mentioned_before(s.start) if m.character != narrator_name]
            if first_person:
                speaker, rule, conf = narrator_name or NARRATOR, "first-person", 0.3
            elif earlier:
                speaker, rule, conf = earlier[0], "last-mentioned", 0.3
        lines.append(Line(s.start, s.end, "dialogue", s.paragraph, speaker, rule, conf))
    return Script(seg, tuple(lines), _characters(cast, resolver, lines), narrator_name if first_person else None)


def _serves_both(narr: str, before: str) -> str | None:
    """Whether the narration between two quotes is the first one's tag and nothing else, so that
    the second is the same speaker's: "clause" for `"Hi," she said, "how are you?"`, "sentence"
    for `"Hi," she said. "How are you?"` (unless the second quote has a tag of its own)."""
    if re.search(r"[,:—–-]\s*$", narr) and open_ended(before):
        return "clause"
    sentences = [s for s in SENTENCES.split(narr.strip()) if s]
    return "sentence" if len(sentences) == 1 and tag_after(narr, open_ended(before)) else None


def _beat_before(text: str, segs: list[Segment], i: int, p: int) -> Who | None:
    """The subject of the sentence of narration right before a quote, in a paragraph where another
    quote is tagged (`"…," said Ann. Tom shrugged. "…"` / `Tom shrugged. "…" "…," said Ann.`),
    unless that sentence is the tag of the quote before."""
    prv = segs[i - 1] if i > 0 and segs[i - 1].paragraph == p and segs[i - 1].kind == "narration" else None
    if prv is None:
        return None
    narr = text[prv.start : prv.end]
    if not re.search(r"[.!?]\W*$", narr.rstrip()):
        return None
    sentences = [s for s in SENTENCES.split(narr.strip()) if s]
    if not sentences:
        return None
    before = segs[i - 2] if i >= 2 and segs[i - 2].paragraph == p else None
    if len(sentences) == 1 and before and tag_after(narr, open_ended(text[before.start : before.end])):
        return None  # `"…," said Ann. "…"`: the tag of the quote before
    found = beats(sentences[-1], "")
    if not found or found[0].phrase.lower() in ("he", "she"):
        return None  # `"…," said Ann. She smiled. "…"`: a he or she is most likely still Ann
    return found[0]


def _describe(text: str, seg: Segment, resolver: Resolver, cast: Cast) -> None:
    """Descriptions opening a sentence of narration (`A large man … stood`, `The man nodded`) are
    mentions of an unnamed character, candidates for a later he/she."""
    for m in re.finditer(
        r"(?:^|(?<=[.!?…]\s)|(?<=[.!?…][\"”’']\s))(?=(?:A|An|The|One|Another)\s)|(?<=[\s,;(])(?=(?:a|an|the|one|another)\s)",
        text[seg.start : seg.end],
    ):
        at = seg.start + m.start()
        nominal = NOMINAL.match(text, at, seg.end)
        if not nominal or nominal.group("noun") == "voice":
            continue
        if text[at].islower() and not SUBJECT_VERB.match(text, nominal.end(), seg.end):
            continue  # mid-sentence, only a subject: `Concerning that ride, the man spoke`
        det = nominal.group("det").lower()
        if det == "the" and nominal.group("noun") not in resolver.nominal_heads:  # `The doctor shut the door.`
            named = resolver.epithet(nominal.group("noun"), at, True)
            if named:
                cast.add_mention(Mention(at, nominal.end(), named))
                continue
        name = resolver.nominal(nominal.group(0), at, new=det in ("a", "an", "one", "another"), speaker=False)
        if name:
            cast.add_mention(Mention(at, nominal.end(), name))


def _narrator_name(seg: Segmentation, cast: Cast) -> str:
    """A first-person narrator's name, when the story is signed (`Love,` / `Megurine Luka`)."""
    story = seg.story
    paras = [story.paragraph_text(i).strip() for i in range(len(story.paragraphs))]
    for i in range(1, len(paras)):
        words = paras[i].split()
        farewell = re.match(r"(?:love|goodbye|yours|sincerely|regards|farewell|best wishes|cheers|with love|your)\b", paras[i - 1], re.I)
        if farewell and paras[i - 1].endswith(",") and len(paras[i - 1].split()) <= 5 and 0 < len(words) <= 3:
            if all(w[:1].isupper() and w.isalpha() for w in words):
                full = " ".join(words)  # a signature; "Megurine Luka" is the story's "Luka"
                return cast.resolve(full) or next((n for n in map(cast.resolve, words[::-1]) if n), full)
    return NARRATOR


def _addressed_narrator(text: str, segs: list[Segment], decided: dict, cast: Cast) -> str | None:
    """A first-person narrator's name from how others address them: `"You're Hatsune Miku," she said to me`,
    or a name called out in the line the narrator answers (`"Jane!"` / `"Yes," I said`)."""
    votes: Counter[str] = Counter()
    for i, s in enumerate(segs):
        if s.kind != "dialogue" or decided.get(i, (None,))[0] == NARRATOR:
            continue
        quote = text[s.start : s.end]
        tag = text[segs[i + 1].start : segs[i + 1].end] if i + 1 < len(segs) and segs[i + 1].kind == "narration" else ""
        if re.search(r"\bto me\b", tag[:60]):
            for m in re.finditer(r"\byou(?:'re|’re| are)\s+((?:[A-Z][a-z]+\s?){1,2})", quote):
                votes[cast.resolve(m.group(1).strip()) or m.group(1).strip()] += 2
        reply = next((j for j in range(i + 1, min(len(segs), i + 4)) if segs[j].kind == "dialogue"), None)
        if reply is not None and decided.get(reply, (None,))[0] == NARRATOR and segs[reply].paragraph == s.paragraph + 1:
            for v in names_called(quote):
                name = cast.resolve(v)
                if name:
                    votes[name] += 1
    if votes:
        name, n = votes.most_common(1)[0]
        if n >= 2:
            return name
    return None


def _characters(cast: Cast, resolver: Resolver, lines: list[Line]) -> tuple[Character, ...]:
    """Every speaker, with aliases, gender and line count, most lines first."""
    counts = Counter(line.speaker for line in lines if line.kind == "dialogue" and line.speaker)
    chars = []
    for name, n in counts.most_common():
        chars.append(Character(name, cast.aliases.get(name, ()), resolver.gender(name), n))
    return tuple(chars)


def format_script(script: Script) -> str:
    """The story as a readable script: a heading per section, then `speaker: text` per run."""
    story = script.story
    out: list[str] = []
    section = None
    for line in script.lines:
        para = story.paragraphs[line.paragraph]
        if para.section != section:
            section = para.section
            out.append(f"## {story.sections[section].title}")
        who = "narration" if line.kind == "narration" else (line.speaker or "?")
        text = " ".join(story.text[line.start : line.end].split())
        out.append(f"{who}: {text}")
    return "\n".join(out) + "\n"
