"""Cast discovery: the people a story names, merged into characters, with genders.

A name is a run of capitalised words that the story does not also use in lower case
("Hope" the name vs "hope"), optionally after a title (`Mr.`, `Lady`, `Uncle`) or with a
Japanese honorific (`Kaito-san`). Longer forms absorb shorter ones that fit them
("Hatsune Miku" takes "Miku" and "Hatsune"; "Mr. Bennet" and "Mrs. Bennet" stay two
people, and so do "Mr. Woodhouse" and "Emma Woodhouse"; a bare "Bennet" is the one called
Mr., by the old convention, else it is left unresolved). A character's name is its most
frequent form. Gender comes from titles, gendered nouns next to the name
("her brother, Luki") and the pronoun that follows the name as a subject.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from .aliases import merge
from .names import (
    HONORIFIC_SUFFIX,
    NAME_RE,
    NAME_WORDS,
    PARTICLES,
    PLACE_NOUNS,
    STOP_WORDS,
    SURNAME_WORDS,
    TITLE_RE,
    TITLES,
    Gender,
)
from .patterns import word_trie

__all__ = [
    "NAME_RE", "STOP_WORDS", "SUBJECT_VERB", "TITLES", "Cast", "Gender", "Mention", "find_cast", "gender_of_noun",
]
_TITLED_FORM = re.compile(rf"({TITLE_RE})\s+(.+)$")
_LOWER_WORD_RE = re.compile(r"(?<![A-Za-z])[a-z][A-Za-z]*")  # the words (runs of letters) written in lower case
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]['’\"”)]*\s+|[\"“‘(—–]\s*|\n\s*\n\s*)$")

# A verb right after a name: the name is someone doing something.
_SUBJECT_VERBS = """was had did could would made took gave looked shook stood sat came went ran held
    put got let saw felt knew thought turned spoke began drew threw said says told kept
    left rose fell broke wore bit hid caught heard laughed smiled nodded sighed grinned frowned shrugged
    paused stopped asked cried replied answered whispered shouted is has does can will walks looks turns
    sees knows thinks takes gives comes goes says sang sings fought bought brought found led lay
    met paid sent slept spent stuck struck swung taught understood won wrote ate drank sank swam
    climbed rode strode drove flew grew blew bent bore burst chose clung crept fled flung forgot
    froze hung leapt lit meant rang shot shut slid sought sprang stole swept swore tore thrust
    woke wept wrung""".split()
SUBJECT_VERB = re.compile(rf"\s+(?:\w+ly\s+)?(?:[a-z]+ed|{word_trie(_SUBJECT_VERBS)})\b")
_PLACE_PREPOSITIONS = frozenset("in at to from into through near toward towards of".split())
_GENDERED_NOUNS: dict[Gender, tuple[str, ...]] = {
    "female": ("girl", "woman", "lady", "mother", "sister", "daughter", "aunt", "queen", "princess",
               "wife", "niece", "grandmother", "widow", "maid", "girlfriend", "cousin Miss", "governess", "duchess",
               "countess", "bride", "witch", "schoolgirl", "schoolmistress", "matron", "maiden", "damsel", "nun",
               "landlady", "hostess", "waitress", "lass", "actress", "mistress", "baroness"),
    "male": ("boy", "man", "gentleman", "father", "brother", "son", "uncle", "king", "prince", "husband",
             "nephew", "grandfather", "lad", "boyfriend", "duke", "earl", "lord", "baron", "bridegroom", "schoolboy",
             "schoolmaster", "monk", "friar", "abbot", "landlord", "waiter", "fellow", "chap", "clergyman",
             "fisherman", "horseman", "workman", "watchman", "salesman", "policeman", "boatman", "ferryman",
             "postman", "cowboy", "host", "master", "parson", "priest", "vicar", "rector", "curate", "bishop",
             "chaplain"),
}
_QUOTE_MARK = re.compile(r"[\"“”]")
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]?")
_TOKEN = re.compile(r"[a-z]+|[^\sa-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NOT_NOUNS = frozenset("and or but as to that than with in on at for from by if when so then".split())


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    character: str  # the character's id (its name)


@dataclass
class Cast:
    """The characters of a story: every name form, their genders, and their mentions in order."""

    forms: dict[str, str] = field(default_factory=dict)  # a name form as written -> character name
    ambiguous: set[str] = field(default_factory=set)  # forms two characters share ("Bennet")
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gender_votes: dict[str, Counter[Gender]] = field(default_factory=dict)
    mentions: list[Mention] = field(default_factory=list)  # in narration, in text order
    _starts: list[int] = field(default_factory=list)
    _genders: dict[str, Gender | None] = field(default_factory=dict)  # gender(), until the next vote

    def resolve(self, form: str) -> str | None:
        """The character a name form refers to: `Mr. Bennet`, `Miku`, `Kaito-san`."""
        form = " ".join(form.replace(".", " ").split())
        form = HONORIFIC_SUFFIX.sub("", form)
        if form in self.forms:
            return self.forms[form]
        m = _TITLED_FORM.match(form)
        if m and m.group(2) in self.forms and TITLES.get(m.group(1)) in (None, self.gender(self.forms[m.group(2)])):
            return self.forms[m.group(2)]
        return None

    def gender(self, name: str) -> Gender | None:
        """The gender with more than twice the votes of the other, if one has."""
        if name in self._genders:
            return self._genders[name]
        votes = self.gender_votes.get(name)
        found: Gender | None = None
        if votes:
            (best, n), *rest = votes.most_common()
            found = best if not rest or n > 2 * rest[0][1] else None
        self._genders[name] = found
        return found

    def vote(self, name: str, gender: Gender, weight: int = 1) -> None:
        self.gender_votes.setdefault(name, Counter())[gender] += weight
        self._genders.pop(name, None)

    def mentioned_before(self, pos: int) -> list[Mention]:
        """Mentions before `pos`, most recent first (an iterator would do; lists are short)."""
        i = bisect_left(self._starts, pos)
        return self.mentions[max(0, i - 60) : i][::-1]

    def mentioned_after(self, pos: int, until: int) -> list[Mention]:
        """Mentions from `pos` up to `until`, in text order."""
        return self.mentions[bisect_left(self._starts, pos) : bisect_left(self._starts, until)]

    def part(self, start: int, end: int) -> Cast:
        """The same characters, with only the mentions from `start` to `end`, counted from `start`:
        the cast of one story of a book, sharing the book's names, aliases and genders."""
        mentions = [Mention(m.start - start, m.end - start, m.character) for m in self.mentioned_after(start, end)]
        votes = {name: Counter(v) for name, v in self.gender_votes.items()}
        return Cast(
            dict(self.forms), set(self.ambiguous), dict(self.aliases), votes, mentions, [m.start for m in mentions]
        )

    def add_character(self, name: str) -> None:
        """A character the text names only where it speaks for itself (`"Nell."` in answer to "your name?")."""
        self.forms.setdefault(" ".join(name.replace(".", " ").split()), name)

    def add_mention(self, mention: Mention) -> None:
        i = bisect_left(self._starts, mention.start)
        self._starts.insert(i, mention.start)
        self.mentions.insert(i, mention)


def _key(title: str | None, words: tuple[str, ...]) -> str:
    return " ".join(((title,) if title else ()) + words)


Occurrence = tuple[int, int, str | None, tuple[str, ...]]  # start, end, title, name words


@dataclass
class _Capitals:
    """Phase 1: every run of capitalised words, and how the story capitalises each word."""

    occurrences: list[Occurrence] = field(default_factory=list)
    lower: Counter[str] = field(default_factory=Counter)  # words written in lower case
    cap_mid: Counter[str] = field(default_factory=Counter)  # capitalised where no sentence starts
    cap_any: Counter[str] = field(default_factory=Counter)  # capitalised anywhere

    def is_name_word(self, w: str, titled: bool) -> bool:
        if w in TITLES or len(w) < 2 or (w in STOP_WORDS and not (titled and w in SURNAME_WORDS)):
            return False
        return (
            titled
            or self.lower[w.lower()] < self.cap_mid[w] * 0.5
            or (not self.lower[w.lower()] and self.cap_any[w] > 1)
        )


@dataclass
class _Forms:
    """Phase 2: name forms ("Mr. Bennet", "Miku"), how often each occurs and what it looks like."""

    counts: Counter[str] = field(default_factory=Counter)
    parts: dict[str, tuple[str | None, tuple[str, ...]]] = field(default_factory=dict)  # form -> title, words
    found: list[tuple[int, int, str]] = field(default_factory=list)  # every occurrence: start, end, form
    surfaces: dict[str, Counter[str]] = field(default_factory=dict)  # normalised form -> as written ("Mr. Bennet")
    person_evidence: Counter[str] = field(default_factory=Counter)  # a title, a verb after it, a speech tag, called
    place_evidence: Counter[str] = field(default_factory=Counter)  # after `in`, `at`, `to`, …


def find_cast(text: str, narration: list[tuple[int, int]], tag_positions: set[int]) -> Cast:
    """The characters named in `text`; `narration` spans give mentions, `tag_positions` speech tags.

    Phases: capitalised runs -> name forms with evidence -> forms merged into characters ->
    characters that are people -> their mentions in narration -> genders."""
    capitals = _capitals(text, tag_positions)
    forms = _name_forms(text, capitals, tag_positions)
    members, ambiguous = merge(forms.parts, forms.counts)
    cast = _people(text, capitals, forms, members)
    cast.ambiguous |= ambiguous
    in_narration = _span_test(narration)
    for start, end, key in forms.found:
        name = cast.forms.get(key)
        if name and in_narration(start):
            cast.add_mention(Mention(start, end, name))
    _vote_genders(text, narration, cast, tag_positions)
    return cast


def _capitals(text: str, tag_positions: set[int]) -> _Capitals:
    """Runs of capitalised words (after any title), and which words the story capitalises where."""
    caps = _Capitals(lower=Counter(_LOWER_WORD_RE.findall(text)))
    cap_mid, cap_any = caps.cap_mid, caps.cap_any
    for m in NAME_RE.finditer(text):
        title, run = m.group(1, 2)
        start, end = m.span()
        words = tuple(HONORIFIC_SUFFIX.sub("", w) for w in run.split()) if "-" in run else tuple(run.split())
        at_start = (
            title is None
            and start not in tag_positions
            and bool(_SENTENCE_START.search(text, max(0, start - 6), start))
        )
        # (a speech tag's subject is used as a name: `"…," Len mutters`)
        if not at_start or title:
            for w in words[1:] if at_start else words:
                cap_mid[w] += 1
        elif len(words) > 1:
            for w in words[1:]:
                cap_mid[w] += 1
        caps.occurrences.append((start, end, title, words))
        for w in words:
            cap_any[w] += 1
        if at_start and len(words) == 1 and SUBJECT_VERB.match(text, end):
            cap_any[words[0]] += 1  # "Mara climbed the stairs.": a sentence's subject, then its verb
    return caps


_AFTER_COMMA = re.compile(r"(?:,|\bOh?)\s*$")  # `"…, Kaito."` / `"Oh, Kaito!"`
_BEFORE_CLOSING = re.compile(r"\s*[!?,.]?\s*[\"”’]")
_AFTER_OPENING = re.compile(r"[“\"‘]\s*$")  # `"Kaito, wait!"`
_BEFORE_COMMA = re.compile(r"\s*[,!]")
_OWN_PART = re.compile(r"['’]s\s+(?:eyes|face|voice|hand|head|mother|father)")
_INTRODUCING = re.compile(r"(?:\bI['’]m|\bI am|\bname is|\bname['’]s|\bcall me)\s+$")


def _name_forms(text: str, capitals: _Capitals, tag_positions: set[int]) -> _Forms:
    """Each occurrence becomes a name form: the run of name words, after any title; with the
    evidence that it is a person (or a place)."""
    forms = _Forms()
    for start, end, title, words in capitals.occurrences:
        # the name is the longest run of name words at the end: "Then John Linden" -> "John Linden"
        n = len(words)
        while n and (
            capitals.is_name_word(words[n - 1], title is not None)
            or (words[n - 1] in PARTICLES and n > 1 and n < len(words))
        ):
            n -= 1
        kept = tuple(w.lower() if w.lower() in PARTICLES and len(words) > 1 else w for w in words[n:])
        if not kept or (title is None and len(kept) > 1 and kept[-1] in PLACE_NOUNS):
            continue  # `Lucas Lodge`, `Baker Street`: a place
        if n:
            title, start = None, start + text[start:end].index(kept[0])
        key = _key(title, kept)
        forms.counts[key] += 1
        forms.surfaces.setdefault(key, Counter())[
            text[start:end] if not HONORIFIC_SUFFIX.search(text[start:end]) else key
        ] += 1
        forms.parts[key] = (title, kept)
        forms.found.append((start, end, key))
        before = text[max(0, start - 12) : start].split()
        after = text[end : end + 20]
        if title:
            forms.person_evidence[key] += 3
        if before and before[-1].lower() in _PLACE_PREPOSITIONS:
            forms.place_evidence[key] += 1
        if SUBJECT_VERB.match(after):
            forms.person_evidence[key] += 1
        # called by name: `"…, Kaito."` / `"Oh, Kaito!"` / `"Kaito, wait!"`
        before_name = text[max(0, start - 4) : start]
        called = (_AFTER_COMMA.search(before_name) and _BEFORE_CLOSING.match(after)) or (
            _AFTER_OPENING.search(before_name) and _BEFORE_COMMA.match(after)
        )
        if called or _OWN_PART.match(after):
            forms.person_evidence[key] += 1
        if start in tag_positions:
            forms.person_evidence[key] += 3
        if _INTRODUCING.search(text[max(0, start - 12) : start]):
            forms.person_evidence[key] += 3  # `"I'm Miku!"`: someone introducing themselves
    return forms


def _people(text: str, capitals: _Capitals, forms: _Forms, members: dict[str, list[str]]) -> Cast:
    """The characters that are people (not places, ships, months, sentence openers or kinds of
    thing), each named by its most frequent form, with its other forms as aliases and a gender
    vote from each gendered title."""
    parts = forms.parts
    after_determiner = Counter(
        re.findall(r"\b(?:the|a|an|another|every|each|this|that|official|other)\s+([A-Z][a-z]+)", text)
    )
    cast = Cast()
    for head, group in members.items():
        evidence = sum(forms.person_evidence[f] for f in group)
        places = sum(forms.place_evidence[f] for f in group)
        total = sum(forms.counts[f] for f in group)
        common = sum(after_determiner[w] for f in group for w in parts[f][1] if len(parts[f][1]) == 1)
        if evidence == 0 or places * 2 > total + evidence or common * 3 > total:
            continue  # a place, a ship, a month: never the subject of a verb or a speaker
        word = parts[head][1][0]
        if len(parts[head][1]) == 1 and re.search(r"(?:ing|ly)$", word) and not capitals.cap_mid[word]:
            continue  # "Turning to her, …", "Scarcely had …": sentence openers, not names
        if _is_plural_of(parts[head][1][-1], capitals.cap_any):
            continue  # "Vocaloids" beside "Vocaloid": a kind of thing, not someone
        best = max(group, key=lambda f: (forms.counts[f], -group.index(f)))
        name = " ".join(forms.surfaces[best].most_common(1)[0][0].split())
        for f in group:
            cast.forms[f] = name
        cast.aliases[name] = tuple(sorted({" ".join(w.split()) for f in group for w in forms.surfaces[f]} - {name}))
        for f in group:
            title = parts[f][0]
            g = TITLES.get(title) if title else None
            if g:
                cast.vote(name, g, 5 * forms.counts[f])
    return cast


def _is_plural_of(word: str, capitalised: Counter[str]) -> bool:
    return (word.endswith("s") and capitalised[word[:-1]] > 0) or (word.endswith("es") and capitalised[word[:-2]] > 0)


def _span_test(spans: list[tuple[int, int]]):
    starts = [s for s, _ in spans]

    def inside(pos: int) -> bool:
        i = bisect_left(starts, pos + 1) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    return inside


def _next_other(mentions: list[Mention], end: int) -> list[int]:
    """For each mention, where the next mention of someone else starts (`end` if none)."""
    out: list[int] = []
    nearest, who, other = end, None, end  # the next mention, whose, and the next of someone else after it
    for m in reversed(mentions):
        out.append(other if m.character == who else nearest)
        if m.character != who:
            other = nearest
        nearest, who = m.start, m.character
    return out[::-1]


_HE_SHE = re.compile(r"(?:he|she)\b", re.IGNORECASE)
_HIM_HER = re.compile(r"\b(?:him|her)\b", re.IGNORECASE)


def _continues(raw: str, parts: list[str]) -> bool:
    """Whether the next sentence's opening he/she goes on about the name: not past a quote, nor
    after another him/her (`Emma waited for him. He heard…`: the same him)."""
    if not _HE_SHE.match(parts[1]) or _HIM_HER.search(parts[0]):
        return False
    return not _QUOTE_MARK.search(" ".join(_SENTENCE_END.split(raw, 2)[:2]))


def _vote_genders(text: str, narration: list[tuple[int, int]], cast: Cast, tag_positions: set[int]) -> None:
    """A name votes with the first he/she/his/himself/herself after it in its sentence (or the next
    sentence, if that one opens with a pronoun and goes on about it), before anyone else is named;
    quoted words are skipped. The name must be a subject: of a verb, of a sentence, or of a
    speech tag (`said Ellery, shaking her umbrella`)."""
    for m, until in zip(cast.mentions, _next_other(cast.mentions, len(text)), strict=True):
        raw = text[m.end : min(m.end + 240, until)]  # `When Walter came in, Martha … her sewing`: Martha's
        subject = SUBJECT_VERB.match(raw) or m.start in tag_positions  # `cried Randolph, in his little voice`
        if not subject and not _SENTENCE_START.search(text, max(0, m.start - 6), m.start):
            continue  # `walked back to Kaito with her head bowed`: "her" is the subject's, not Kaito's
        parts = _SENTENCE_END.split(_QUOTED.sub(" ", raw))
        window = parts[0]
        if subject and len(parts) > 1 and _continues(raw, parts):
            window += " " + parts[1]
        words = _TOKEN.findall(window.lower())
        for k, w in enumerate(words):
            nxt = words[k + 1] if k + 1 < len(words) else ""
            possessive = w == "her" and nxt.isalpha() and nxt not in _NOT_NOUNS  # `from her desk`, not `back at her.`
            if w in ("she", "herself") or possessive:
                cast.vote(m.character, "female")
                break
            if w in ("he", "his", "himself"):
                cast.vote(m.character, "male")
                break
    for gender, nouns in _GENDERED_NOUNS.items():
        pattern = re.compile(rf"\b(?:{word_trie(nouns)}),?\s+((?:[A-Z][a-z]+\s?){{1,{NAME_WORDS}}})")
        for start, end in narration:
            for found in pattern.finditer(text, start, end):
                name = cast.resolve(found.group(1).strip())
                if name:
                    cast.vote(name, gender, 3)


def gender_of_noun(phrase: str) -> Gender | None:
    words = phrase.lower().split()
    for gender, nouns in _GENDERED_NOUNS.items():
        if any(w in nouns for w in words):
            return gender
    return None
