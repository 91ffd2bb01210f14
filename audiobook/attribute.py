"""Attribute stage: find the cast of a story and give every dialogue run a speaker.

A sieve, most confident rule first: a speech tag next to the quote (name, description
or pronoun; both orders), an action beat in the same paragraph, the listener named in
the previous line, A-B-A turn-taking, then the last character mentioned. A first-person
narrator's own lines ("I said") belong to the narrator character.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from .segment import Kind, Segment, Segmentation

Gender = Literal["female", "male"]
NARRATOR = "narrator"  # the name of a first-person narrator whose name the text never reveals

SPEECH_VERBS = frozenset(
    """said says say asked asks replied replies answered answers cried cries called calls
    shouted shouts whispered whispers muttered mutters murmured murmurs exclaimed exclaims
    added adds continued continues began begins hissed hisses snapped snaps sighed sighs
    groaned groans gushed gushes argued argues interjected interjects explained explains
    suggested suggests noted notes urged urges lied lies croaked croaks rasped rasps
    repeated repeats yelled yells screamed screams laughed laughs sobbed sobs growled growls
    stammered stammers stuttered stutters mumbled mumbles insisted insists demanded demands
    wondered wonders told tells agreed agrees admitted admits breathed breathes pleaded
    pleads responded responds retorted retorts remarked remarks offered offers
    whined whines sang sings""".split()
)
_PAST_VERBS = frozenset(
    """took ran wore sat stood went came saw made felt knew thought gave found left held kept
    looked smiled nodded shook turned walked stepped began grabbed pulled threw got put let
    was had did could would should might must will can""".split()
)
_PREPOSITIONS = frozenset("at by for from in into of on over to under up with behind beside towards toward".split())
_GENDERED_NOUNS = {
    "female": "girl woman lady mother mommy mom sister daughter aunt queen princess wife".split(),
    "male": "boy man gentleman father daddy dad brother son uncle king prince husband".split(),
}
# Capitalised words that are not names of people.
_NOT_NAMES = frozenset(
    """I I'm I'd I'll I've The A An And But Or So If Then When While As At In On Of For To From By
    With Without Within Into Over Under After Before Because Though Although However Still Yet
    He She It They We You His Her Its Their Our Your My Me Him Them Us This That These Those
    There Here What Which Who Whom Whose Why How Where Yes No Not Oh Ah Um Uh Hey Hi Hello Well
    Okay OK Mr Mrs Ms Miss Dr Sir Madam Lady Lord God Mommy Mom Daddy Dad Master Thanks Thank Please
    Sorry Goodbye Good Just Even Only Every Each All Some Any None Nothing Everything Someone Anyone
    Everyone Nobody Maybe Perhaps Suddenly Slowly Soon Now Never Always Again Once Both Like
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
    July August September October November December English Japanese Japan America American British
    French German Chinese Korean TV CD PS Chapter Part Scene Author Note Notes Disclaimer Edited
    Let Don't Can't Won't Isn't It's That's There's What's Wait Look Listen Remember Come Go Get""".split()
)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_NAME_RE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+|\b[A-Z][a-z]+(?:-[A-Z]?[a-z]+)?\b")
_HONORIFIC_SUFFIX = re.compile(r"-(?:san|chan|kun|sama|sensei|senpai|dono)$")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]\s+|[\"“”‘'(—]\s*|\n\s*)$")
_DESCRIPTION = re.compile(
    r"^(?:(?:a|an|the|one|another|some)\s+)(?:[a-z]+\s+){0,2}"
    r"(?:girl|boy|man|woman|lady|gentleman|child|kid|teacher|voice|stranger|student|teenager|"
    r"member|guard|doctor|nurse|officer|waiter|waitress|clerk|driver)s?\b",
)


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


@dataclass
class _Cast:
    """Working state while reading: names, aliases and genders found so far."""

    canonical: dict[str, str] = field(default_factory=dict)  # any name form -> main name
    gender_votes: dict[str, Counter] = field(default_factory=dict)

    def resolve(self, name: str) -> str | None:
        name = _HONORIFIC_SUFFIX.sub("", name)
        name = re.sub(r"^(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+", "", name)
        return self.canonical.get(name)


def _words_before(text: str, pos: int) -> str:
    return text[max(0, pos - 3) : pos]


def _find_cast(seg: Segmentation) -> _Cast:
    """Proper names used as names (not only at sentence starts), merged with full-name forms."""
    text = seg.story.text
    narration = [s for s in seg.segments if s.kind == "narration"]
    counts: Counter[str] = Counter()
    tagged: Counter[str] = Counter()
    initial_only: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    lowercase_words = set(w.lower() for w in re.findall(r"\b[a-z][a-z'-]*\b", text))
    after_determiner = Counter(re.findall(r"\b(?:the|a|an|other|another|every|each|this|that)\s+([A-Z][a-z]+)", text))
    for s in seg.segments:
        chunk = text[s.start : s.end]
        for m in _NAME_RE.finditer(chunk):
            word = _HONORIFIC_SUFFIX.sub("", m.group(0))
            word = re.sub(r"^(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+", "", word)
            if word in _NOT_NAMES or word.lower() in lowercase_words:
                continue
            at_start = bool(_SENTENCE_START.search(chunk[: m.start()])) or m.start() == 0
            verb = re.match(r" ([a-z]+)\b", chunk[m.end() :])
            if at_start and verb and s.kind == "narration" and not word.endswith(("ing", "ly")):
                v = verb.group(1)
                if v.endswith("ed") or v in SPEECH_VERBS or v in _PAST_VERBS:
                    tagged[word] += 1  # "Mara climbed": a sentence's subject, followed by its verb
            (initial_only if at_start else counts)[word] += 1
        for a, b in re.findall(r"\b(?=([A-Z][a-z]+) ([A-Z][a-z]+)\b)", chunk):
            bigrams[(a, b)] += 1
    for s in narration:
        m = re.match(r"\s*,?\s*([A-Z][a-z]+)\s+(\w+)", text[s.start : s.end])
        if m and m.group(2).lower() in SPEECH_VERBS:
            tagged[m.group(1)] += 1
    names = {
        w for w, c in counts.items()
        if (c + initial_only[w] >= 2 or tagged[w]) and after_determiner[w] * 4 < c + initial_only[w]
        and (c or tagged[w])  # not only ever at the start of a sentence ("Tonight?")
        and not (w.endswith("s") and re.search(rf"\b{w[:-1]}\b", text))  # "Vocaloids": a plural
    }
    names |= {w for w, c in initial_only.items() if tagged[w] and w not in _NOT_NAMES}
    cast = _Cast()
    for name in names:
        cast.canonical[name] = name
    # "Hatsune Miku" / "Megurine Luka": the family name only ever stands before the given name.
    for (a, b), n in bigrams.items():
        if a in _NOT_NAMES or b in _NOT_NAMES or (a in names and b in names and a != b and n < counts[a]):
            continue
        if b in names and len(re.findall(rf"\b{a}\b", text)) == n:
            cast.canonical[f"{a} {b}"] = cast.canonical[a] = b
        elif a in names and b.lower() not in lowercase_words and len(re.findall(rf"\b{b}\b", text)) == n:
            cast.canonical[f"{a} {b}"] = cast.canonical[b] = a
    _vote_genders(seg, cast)
    return cast


def _vote_genders(seg: Segmentation, cast: _Cast) -> None:
    """Each mention in narration votes with the next third-person pronoun close after it."""
    text = seg.story.text
    for s in seg.segments:
        if s.kind != "narration":
            continue
        chunk = text[s.start : s.end]
        for m in _NAME_RE.finditer(chunk):
            name = cast.resolve(m.group(0))
            if not name or not re.match(r"\s+(?:\w+ly\s+)?[a-z]+(?:ed|s)\b", chunk[m.end() :]):
                continue  # only a name that is the subject of a verb...
            if m.start() and not re.search(r"(?:[.!?;]|\band|\bbut)\s+$", chunk[: m.start()]):
                continue  # ...at the start of a sentence or clause
            # the next subject pronoun in that sentence or the next one usually refers back to it
            after = re.split(r"(?<=[.!?])\s+", chunk[m.end() : m.end() + 200])
            window = after[0]
            if len(after) > 1 and re.match(r"(?:he|she|his|her)\b", after[1], re.IGNORECASE):
                window += " " + after[1]  # the next sentence only if it opens with a pronoun
            following = re.findall(r"[a-z]+", window.lower())
            votes = cast.gender_votes.setdefault(name, Counter())
            for k, w in enumerate(following):
                # he/she, his, and "her" after a preposition ("from her desk"), not "shot her"
                possessive_her = w == "her" and k > 0 and following[k - 1] in _PREPOSITIONS
                if w == "she" or possessive_her:
                    votes["female"] += 1
                    break
                if w in ("he", "his"):
                    votes["male"] += 1
                    break
        for gender, nouns in _GENDERED_NOUNS.items():
            for noun in nouns:
                for m in re.finditer(rf"\b{noun},?\s+([A-Z][a-z]+)\b", chunk):
                    name = cast.resolve(m.group(1))
                    if name:
                        cast.gender_votes.setdefault(name, Counter())[gender] += 3


def _gender(cast: _Cast, name: str) -> Gender | None:
    votes = cast.gender_votes.get(name)
    if not votes:
        return None
    (best, n), *rest = votes.most_common()
    return best if not rest or n > rest[0][1] else None  # type: ignore[return-value]


def _first_person(seg: Segmentation) -> bool:
    words = Counter()
    for s in seg.segments:
        if s.kind == "narration":
            words.update(w.lower() for w in _WORD_RE.findall(seg.story.text[s.start : s.end]))
    first = words["i"] + words["me"] + words["my"]
    third = sum(words[w] for w in ("he", "she", "his", "her", "him"))
    return first > 0.6 * third and first >= 2


@dataclass(frozen=True)
class _Tag:
    speaker: str | None  # a name, a description, "I", or a pronoun
    rule: str
    confidence: float


def _speaker_phrase(phrase: str) -> str | None:
    """The speaker named at the start of a phrase: a name, 'I', a pronoun or a description."""
    m = _DESCRIPTION.match(phrase)
    if m:
        return m.group(0)
    m = re.match(r"(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+|[A-Z][a-z]+(?:-[a-z]+)?(?:\s+[A-Z][a-z]+)?|I\b|he\b|she\b|He\b|She\b", phrase)
    return m.group(0) if m else None


def _tag_after(narr: str) -> _Tag | None:
    """`"…," Kaito said` / `"…," said Kaito` / `"…" she asked` at the start of the next run."""
    narr = narr.lstrip(" ,—–-")
    words = narr.split()
    if not words:
        return None
    # verb first: said Kaito / said a familiar voice
    if words[0].lower().strip(",.") in SPEECH_VERBS and len(words) > 1:
        who = _speaker_phrase(" ".join(words[1:]))
        if who:
            return _Tag(who, "speech-verb", 0.95)
    who = _speaker_phrase(narr)
    if who:
        rest = narr[len(who) :].split()
        rest = [w.strip(",.!?;").lower() for w in rest[:3]]
        # allow one adverb: "he said softly" / "Haku quickly said"
        if rest and (rest[0] in SPEECH_VERBS or (len(rest) > 1 and rest[0].endswith("ly") and rest[1] in SPEECH_VERBS)):
            return _Tag(who, "speech-verb", 0.95)
    return None


def _tag_before(narr: str) -> _Tag | None:
    """`Kaito said, "…"` or an action beat `Haku sighed. "…"` in the run just before the quote."""
    m = re.search(r"([A-Z][a-z]+|\b[Hh]e|\b[Ss]he|\bI)\s+(?:\w+ly\s+)?(\w+)[^.!?]{0,40}[,:]\s*$", narr)
    if m and m.group(2).lower() in SPEECH_VERBS:
        return _Tag(m.group(1), "speech-verb", 0.9)
    return None


def _beat(narr: str) -> _Tag | None:
    """The subject of the sentences around a quote in the same paragraph."""
    for sentence in re.split(r"(?<=[.!?…])\s+", narr.strip()):
        who = _speaker_phrase(sentence.lstrip("(—– "))
        if who and who.split()[0] not in _NOT_NAMES | {"I"} or who in ("I", "He", "She", "he", "she"):
            return _Tag(who, "action-beat", 0.7)
    return None


def _vocative(quote: str, cast: _Cast) -> str | None:
    """A name addressed inside a quote: "Haku, wait!" / "…, Kaito." """
    for m in re.finditer(r"(?:^[\"“'‘]?|[,!?]\s+)([A-Z][a-z]+(?:-[a-z]+)?)(?=[,!?.…]|\s*[\"”'’]?$)", quote.strip()):
        name = cast.resolve(m.group(1))
        if name:
            return name
    return None


def attribute(seg: Segmentation) -> Script:
    """Give every dialogue segment a speaker and say which rule decided it."""
    story = seg.story
    text = story.text
    cast = _find_cast(seg)
    first_person = _first_person(seg)
    narrator_name = _narrator_name(seg, cast) if first_person else None
    narrator_voice = narrator_name or NARRATOR

    def resolve(who: str, before: int) -> str | None:
        if who == "I":
            return narrator_voice
        lw = who.lower()
        if lw in ("he", "she"):
            # the last character mentioned who may be of that gender
            # the last character of that gender; failing that, the last of unknown gender
            gender = "male" if lw == "he" else "female"
            earlier = [name for pos, name in reversed(mentions) if pos < before and name != narrator_name]
            for wanted in (gender, None):
                for name in earlier:
                    if _gender(cast, name) == wanted:
                        if wanted is None:
                            cast.gender_votes.setdefault(name, Counter())[gender] += 1
                        return name
            return None
        name = cast.resolve(who) or cast.resolve(who.split()[0]) if who[0].isupper() else None
        if name:
            return name
        if _DESCRIPTION.match(who) and not re.search(r"\bvoice\b", who):
            return who
        return None

    # Mentions of characters in narration, in order, for pronoun resolution.
    mentions: list[tuple[int, str]] = []
    for s in seg.segments:
        if s.kind == "narration":
            for m in _NAME_RE.finditer(text[s.start : s.end]):
                name = cast.resolve(m.group(0))
                if name:
                    mentions.append((s.start + m.start(), name))
    mentions.sort()

    segs = list(seg.segments)
    lines: list[Line] = []
    paragraph_speaker: dict[int, str] = {}
    previous_vocative: str | None = None
    last_utterance: Line | None = None
    for i, s in enumerate(segs):
        if s.kind == "narration":
            lines.append(Line(s.start, s.end, s.kind, s.paragraph))
            continue
        speaker, rule, conf = None, None, 0.0
        prev_n = segs[i - 1] if i > 0 and segs[i - 1].paragraph == s.paragraph and segs[i - 1].kind == "narration" else None
        next_n = segs[i + 1] if i + 1 < len(segs) and segs[i + 1].paragraph == s.paragraph and segs[i + 1].kind == "narration" else None
        candidates: list[_Tag | None] = []
        if s.continues and last_utterance is not None:
            speaker, rule, conf = last_utterance.speaker, "continued-quote", 0.9
        else:
            candidates.append(_tag_after(text[next_n.start : next_n.end]) if next_n else None)
            candidates.append(_tag_before(text[prev_n.start : prev_n.end]) if prev_n else None)
            if s.paragraph in paragraph_speaker:
                candidates.append(_Tag(paragraph_speaker[s.paragraph], "same-paragraph", 0.85))
            para_narr = " ".join(text[x.start : x.end] for x in segs if x.paragraph == s.paragraph and x.kind == "narration")
            candidates.append(_beat(para_narr) if para_narr else None)
        for tag in candidates:
            if tag is None or speaker:
                continue
            who = tag.speaker if tag.rule == "same-paragraph" else resolve(tag.speaker, s.start)
            if who:
                speaker, rule, conf = who, tag.rule, tag.confidence
        quote = text[s.start : s.end]
        if not speaker and previous_vocative and last_utterance and previous_vocative != last_utterance.speaker:
            speaker, rule, conf = previous_vocative, "vocative", 0.6
        if not speaker:
            speaker = _turn_taking(lines, s.paragraph)
            rule, conf = ("turn-taking", 0.5) if speaker else (None, 0.0)
        if not speaker:
            earlier = [name for pos, name in mentions if pos < s.start and name != narrator_name]
            if earlier:
                speaker, rule, conf = earlier[-1], "last-mentioned", 0.3
            elif first_person:
                speaker, rule, conf = narrator_voice, "first-person", 0.3
        line = Line(s.start, s.end, "dialogue", s.paragraph, speaker, rule or "unknown", conf)
        lines.append(line)
        if speaker:
            paragraph_speaker.setdefault(s.paragraph, speaker)
        previous_vocative = _vocative(quote, cast)
        last_utterance = line

    return Script(seg, tuple(lines), _characters(cast, lines, narrator_name), narrator_name)


def _turn_taking(lines: list[Line], paragraph: int) -> str | None:
    """A-B-A: in a run of consecutive dialogue paragraphs, speakers alternate."""
    speakers: list[tuple[int, str | None]] = []
    for line in reversed(lines):
        if line.kind != "dialogue":
            continue
        if speakers and line.paragraph == speakers[-1][0]:
            continue
        speakers.append((line.paragraph, line.speaker))
        if len(speakers) == 2:
            break
    if len(speakers) == 2:
        (p1, b), (p2, a) = speakers
        if p1 == paragraph - 1 and p2 == paragraph - 2 and a and b and a != b:
            return a
    return None


def _narrator_name(seg: Segmentation, cast: _Cast) -> str:
    """A first-person narrator's name: a signature after a farewell, or who others address as 'you'."""
    story = seg.story
    paras = [story.paragraph_text(i).strip() for i in range(len(story.paragraphs))]
    for i in range(1, len(paras)):
        if paras[i - 1].endswith(",") and len(paras[i - 1].split()) <= 5:
            name = cast.resolve(paras[i].split()[-1]) if paras[i].split() else None
            if name and len(paras[i].split()) <= 3:
                return name
    addressed: Counter[str] = Counter()
    for s in seg.segments:
        if s.kind != "dialogue":
            continue
        quote = story.text[s.start : s.end]
        for m in re.finditer(r"\byou(?:'re| are)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)", quote):
            name = cast.resolve(m.group(1))
            if name:
                addressed[name] += 2
        for m in re.finditer(r"[,!?]\s+([A-Z][a-z]+)[.!?…]", quote):
            name = cast.resolve(m.group(1))
            if name:
                addressed[name] += 1
    if addressed:
        return addressed.most_common(1)[0][0]
    return NARRATOR


def _characters(cast: _Cast, lines: list[Line], narrator_name: str | None) -> tuple[Character, ...]:
    """Every speaker, with aliases, gender and line count, most lines first."""
    counts = Counter(line.speaker for line in lines if line.kind == "dialogue" and line.speaker)
    aliases: dict[str, list[str]] = {}
    for form, name in cast.canonical.items():
        if form != name:
            aliases.setdefault(name, []).append(form)
    chars = []
    for name, n in counts.most_common():
        gender = _gender(cast, name)
        if gender is None and name[0].islower():
            for g, nouns in _GENDERED_NOUNS.items():
                if any(re.search(rf"\b{noun}\b", name) for noun in nouns):
                    gender = g
        chars.append(Character(name, tuple(sorted(aliases.get(name, []))), gender, n))
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
