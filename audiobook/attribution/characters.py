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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from . import gender as genders
from .aliases import Group, Together, merge
from .gender import gender_of_noun
from .mentions import Mention, Mentions
from .names import (  # noqa: F401 (SUBJECT_VERB, TITLES are this module's to others)
    CALLING_NAMES,
    GIVEN_TITLES,
    HONORIFIC_SUFFIX,
    LOWER,
    MARRIED,
    NAME_RE,
    NAME_SCAN,
    PARTICLES,
    PLACE_NOUNS,
    STOP_WORDS,
    SUBJECT_VERB,
    SURNAME_WORDS,
    TITLE_RE,
    TITLES,
    UNMARRIED,
    UPPER,
    Gender,
    Vote,
    is_given_name,
    opens_sentence,
    prior_gender,
    short_form_of,
)
from .patterns import STARTED_NAME, STARTED_WORD, before_capital, matches_at, word_starts, word_trie

__all__ = [
    "NAME_RE", "STOP_WORDS", "SUBJECT_VERB", "TITLES", "Cast", "Gender", "Mention", "find_cast", "gender_of_noun",
]
_TITLED_FORM = re.compile(rf"({TITLE_RE})\s+(.+)$")
# `Winnie-the-Pooh`: a name whose last part may be used alone (`Pooh`); not two given names
# (`Jean-Paul` is not `Paul`) nor a double-barrelled family name (`Mr Grant-Menzies` is no `Menzies`)
# (possessive: no backtracking; the look-behind after the first capital: the scanner jumps from one
# capital to the next instead of trying the pattern at every character)
_HYPHENATED = re.compile(rf"([A-Z]{STARTED_NAME}[a-z]+)((?:-[a-z]++)*+)-([A-Z][a-z]+)\b")
# where one may start, found from the hyphen before its last part, reading backwards (a hyphen is a
# character the scanner finds at once, where the capital opening `_HYPHENATED` is tried at every one)
_HYPHENATED_BACKWARDS = re.compile(r"-(?<=[A-Z]-)(?=(?:[a-z]++-)*+[a-z]+([A-Z])(?![\w-]))")
# the words written in lower case: `(?<![letters])[lower][letters]*`, found from the character before
# each (the scanner jumps between non-letters instead of trying a look-behind at every character);
# a word at the very start of the text has none: `_FIRST_LOWER_WORD`
_LOWER_WORD_RE = re.compile(rf"[^{UPPER}{LOWER}]([{LOWER}][{UPPER}{LOWER}]*)")
_FIRST_LOWER_WORD = re.compile(rf"[{LOWER}][{UPPER}{LOWER}]*")

_PLACE_PREPOSITIONS = frozenset("in at to from into through near toward towards of".split())


@dataclass(frozen=True)
class KnownCharacter:
    """A character the user names (a casting file's `[characters]`): `name`, the other names the
    story calls them by, and their gender if the user says."""

    name: str
    aliases: tuple[str, ...] = ()
    gender: Gender | None = None


@dataclass(frozen=True)
class KnownCast:
    """What the user knows of a book's cast, to start discovery from: its characters, the name
    of its first-person narrator, and names that are nobody (a ship, a house, a horse)."""

    characters: tuple[KnownCharacter, ...] = ()
    first_person: str | None = None
    not_characters: frozenset[str] = frozenset()


@lru_cache(maxsize=1 << 16)  # asked again and again of the same few names
def family_of(name: str) -> str | None:
    """The family name of a full name (`Charles Musgrove` -> Musgrove), None for one word."""
    words = form_key(name).split()
    return words[-1] if len(words) > 1 and words[-1][:1].isupper() else None


@lru_cache(maxsize=1 << 16)  # (asked of every phrase the sieve resolves, again and again of the same few)
def form_key(name: str) -> str:
    """A name as the cast keys it: `Mr. Darcy` -> `Mr Darcy`, `Kaito-san` -> `Kaito`."""
    return HONORIFIC_SUFFIX.sub("", " ".join(name.replace(".", " ").split()))


@dataclass
class Cast:
    """The characters of a story: every name form, their genders, and their mentions in order."""

    forms: dict[str, str] = field(default_factory=dict)  # a name form as written -> character name
    ambiguous: set[str] = field(default_factory=set)  # forms two characters share ("Bennet")
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gender_votes: dict[str, Counter[Vote]] = field(default_factory=dict)
    priors: dict[str, Gender] = field(default_factory=dict)  # the sex of a character's given names, by the SSA counts
    mentions: Mentions = field(default_factory=Mentions)  # in narration, in text order
    _genders: dict[str, Gender | None] = field(default_factory=dict)  # gender(), until the next vote
    _text_genders: dict[str, Gender | None] = field(default_factory=dict)  # text_gender(), until the next vote
    given: dict[str, Gender] = field(default_factory=dict)  # genders the user gave (`KnownCast`)
    excluded: frozenset[str] = frozenset()  # forms the user says are nobody
    first_person: str | None = None  # the narrator's name, if the user gave it
    listed: frozenset[str] = frozenset()  # the characters the user lists: the book's people, by their word
    hyphenated: dict[str, frozenset[str]] = field(default_factory=dict)  # `Pooh` -> {`Winnie`}, of `Winnie-the-Pooh`
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)  # `John` -> John Beaver, John Andrew (listed)

    def resolve(self, form: str) -> str | None:
        """The character a name form refers to: `Mr. Bennet`, `Miku`, `Kaito-san`."""
        form = form_key(form)
        if form in self.excluded:
            return None
        if form in self.forms:
            return self.forms[form]
        m = _TITLED_FORM.match(form) if " " in form else None  # (a title and a name: a space between, after form_key)
        if m and m.group(2) in self.forms and TITLES.get(m.group(1)) in (None, self.gender(self.forms[m.group(2)])):
            return self.forms[m.group(2)]
        if "-" in form and (m := _HYPHENATED.fullmatch(form)) and m.group(2):  # `Winnie-the-Pooh` is the `Pooh`
            tail = m.group(3)
            if len(self.hyphenated.get(tail, ())) == 1 and tail in self.forms and tail not in self.ambiguous:
                # (one name ends so: `the Frog-Footman` and `the Fish-Footman` are neither plain `Footman`)
                return self.forms[tail]
        return None

    def gender(self, name: str) -> Gender | None:
        """By weight of evidence (`gender.decide`): the text's votes, else the first-name prior."""
        if name in self.given:
            return self.given[name]
        if name not in self._genders:
            self._genders[name] = genders.decide(self.gender_votes.get(name), self.priors.get(name))
        return self._genders[name]

    def text_gender(self, name: str) -> Gender | None:
        """The gender the text itself gives, without the first-name prior: for telling who a
        he, a she or "the girl" is, the story's own word counts, not how babies are named."""
        if name in self.given:
            return self.given[name]
        if name not in self._text_genders:  # asked for every mention a he/she looks back over
            self._text_genders[name] = genders.decide(self.gender_votes.get(name), None)
        return self._text_genders[name]

    def vote(self, name: str, gender: Vote, weight: int = 1) -> None:
        votes = self.gender_votes.get(name)
        if votes is None:  # (not `setdefault(name, Counter())`: a Counter made for every vote costs more than the vote)
            votes = self.gender_votes[name] = Counter()
        votes[gender] += weight
        self._genders.pop(name, None)
        self._text_genders.pop(name, None)

    def mentioned_before(self, pos: int) -> list[Mention]:
        """Mentions before `pos`, most recent first (an iterator would do; lists are short)."""
        return self.mentions.before(pos, 60)

    def mentioned_after(self, pos: int, until: int) -> list[Mention]:
        """Mentions from `pos` up to `until`, in text order."""
        return self.mentions.between(pos, until)

    def part(self, start: int, end: int) -> Cast:
        """The same characters, with only the mentions from `start` to `end`, counted from `start`:
        the cast of one story of a book, sharing the book's names, aliases and genders."""
        mentions = Mentions(
            Mention(m.start - start, m.end - start, m.character) for m in self.mentioned_after(start, end)
        )
        votes = {name: Counter(v) for name, v in self.gender_votes.items()}
        return Cast(
            forms=dict(self.forms), ambiguous=set(self.ambiguous), aliases=dict(self.aliases), gender_votes=votes,
            priors=dict(self.priors), mentions=mentions, given=self.given,
            excluded=self.excluded, first_person=self.first_person, listed=self.listed, hyphenated=self.hyphenated,
            shared=self.shared,
        )

    def add_character(self, name: str) -> None:
        """A character the text names only where it speaks for itself (`"Nell."` in answer to "your name?")."""
        if form_key(name) not in self.excluded:
            self.forms.setdefault(form_key(name), name)

    def set_mentions(self, mentions: Iterable[Mention]) -> None:
        """All mentions replaced (`mentions` in text order)."""
        self.mentions = Mentions(mentions)

    def add_mention(self, mention: Mention) -> None:
        self.mentions.add(mention)


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
    _name_words: dict[tuple[str, bool], bool] = field(default_factory=dict)  # is_name_word, once the counts are in
    text: str = ""  # the story, for how it uses a calling (`CALLING_NAMES`) in lower case

    def is_name_word(self, w: str, titled: bool) -> bool:
        if (w, titled) not in self._name_words:
            self._name_words[w, titled] = self._is_name_word(w, titled)
        return self._name_words[w, titled]

    def _is_name_word(self, w: str, titled: bool) -> bool:
        if w in TITLES or len(w) < 2 or (w in STOP_WORDS and not (titled and w in SURNAME_WORDS)):
            return False
        lower = self.lower[w.lower()]
        if titled or lower < self.cap_mid[w] * 0.5:
            return True
        if lower and w.lower() in CALLING_NAMES and self.cap_any[w] > 1:
            return _called_so(self.text, w.lower())  # `Nanny said` / `ask nanny`: a calling used as a name
        return not lower and (self.cap_any[w] > 1 or is_given_name(w))  # `John Thornton owned the mill.`


# An article, a possessive or a quantifier, maybe with one word between, right before a word: `the
# nurse`, `her old nanny` use it as a common noun; `said nanny`, `ask nanny` as a name
_DETERMINED = re.compile(
    r"\b(?:the|a|an|his|her|my|our|their|your|its|this|that|every|each|no|any|some|another)\s+(?:[a-z-]+\s+)?$",
    re.IGNORECASE,
)


def _called_so(text: str, word: str) -> bool:
    """Whether the story uses a calling written in lower case mostly bare, as a name (`ask nanny`,
    `"…," said nanny`): three times in four at least, with no article or possessive before it."""
    uses = bare = 0
    for m in re.finditer(rf"\b{word}\b", text):
        uses += 1
        bare += not _DETERMINED.search(text, max(0, m.start() - 24), m.start())
    return uses > 0 and bare * 4 >= uses * 3


@dataclass
class _Forms:
    """Phase 2: name forms ("Mr. Bennet", "Miku"), how often each occurs and what it looks like."""

    counts: Counter[str] = field(default_factory=Counter)
    parts: dict[str, tuple[str | None, tuple[str, ...]]] = field(default_factory=dict)  # form -> title, words
    found: list[tuple[int, int, str]] = field(default_factory=list)  # every occurrence: start, end, form
    surfaces: dict[str, Counter[str]] = field(default_factory=dict)  # normalised form -> as written ("Mr. Bennet")
    person_evidence: Counter[str] = field(default_factory=Counter)  # a title, a verb after it, a speech tag, called
    place_evidence: Counter[str] = field(default_factory=Counter)  # after `in`, `at`, `to`, …


def find_cast(
    text: str, narration: list[tuple[int, int]], tag_positions: set[int], known: KnownCast | None = None
) -> Cast:
    """The characters named in `text`; `narration` spans give mentions, `tag_positions` speech tags,
    `known` what the user says of the cast (it wins over what the text suggests).

    Phases: capitalised runs -> name forms with evidence -> forms merged into characters ->
    characters that are people -> their mentions in narration -> genders."""
    known = known or KnownCast()
    capitals = _capitals(text, tag_positions)
    forms = _name_forms(text, capitals, tag_positions)
    excluded = frozenset(map(form_key, known.not_characters))
    if excluded:
        forms.found = [f for f in forms.found if f[2] not in excluded]
        for key in excluded:
            forms.counts.pop(key, None)
    groups, ambiguous = merge(forms.parts, forms.counts, _side_by_side(text, forms.found))
    groups, named = _seeded(groups, known)
    before_capitals = word_starts(text, _WORD_BEFORE_CAPITAL)  # (of determiners and gendered nouns)
    cast = _people(text, capitals, forms, groups, named, before_capitals)
    cast.ambiguous |= ambiguous
    cast.excluded, cast.first_person = excluded, known.first_person
    for character in known.characters:
        for form in (character.name, *character.aliases):
            cast.forms.setdefault(form_key(form), character.name)
        cast.aliases[character.name] = tuple(sorted({*cast.aliases.get(character.name, ()), *character.aliases}))
        if character.gender:
            cast.given[character.name] = character.gender
    in_narration = _span_test(narration)
    cast.set_mentions(  # (in text order, as found)
        Mention(start, end, name)
        for start, end, key in forms.found
        if (name := cast.forms.get(key)) and in_narration(start)
    )
    hyphenated: dict[str, set[str]] = {}
    # all of them, to tell whether a last part is one name's
    for m in matches_at(_HYPHENATED, text, _hyphenated_starts(text)):
        hyphenated.setdefault(m.group(3), set()).add(m.group(1))  # `Winnie-ther-Pooh` is the same one
    cast.hyphenated = {tail: frozenset(names) for tail, names in hyphenated.items()}
    genders.vote(text, narration, cast, tag_positions, before_capitals)
    return cast


def _capitals(text: str, tag_positions: set[int]) -> _Capitals:
    """Runs of capitalised words (after any title), and which words the story capitalises where."""
    caps = _Capitals(lower=Counter(_LOWER_WORD_RE.findall(text)), text=text)
    first = _FIRST_LOWER_WORD.match(text)
    if first:
        caps.lower[first.group(0)] += 1
    # (each word counted is listed, in the order met, and the lists counted at the end: as many
    # Counter updates one word at a time cost a third of the whole pass)
    mid: list[str] = []  # the words of cap_mid
    anywhere: list[str] = []  # the words of cap_any
    occurrences = caps.occurrences
    backwards, subject_verb = text[::-1], SUBJECT_VERB.match
    run_words: dict[str, tuple[str, ...]] = {}  # (the same few runs, over and over: split once each)
    for m in NAME_SCAN.finditer(text):  # (NAME_RE's matches)
        start, end = m.span()
        title_rest, run = m.group(1, 2)
        title = text[start] + title_rest if title_rest else None
        run = run or text[start:end]
        words = run_words.get(run)
        if words is None:
            words = run_words[run] = _run_words(run)
        # (a speech tag's subject is used as a name: `"…," Len mutters`)
        at_start = (
            title is None and start not in tag_positions and opens_sentence(text, backwards, start)
        )
        mid += words[1:] if at_start else words  # (a title never opens a sentence here)
        occurrences.append((start, end, title, words))
        anywhere += words
        if at_start and len(words) == 1 and subject_verb(text, end):
            anywhere.append(words[0])  # "Mara climbed the stairs.": a sentence's subject, then its verb
    caps.cap_mid.update(mid)
    caps.cap_any.update(anywhere)
    return caps


def _run_words(run: str) -> tuple[str, ...]:
    """The words of a run of capitalised words, without honorifics (`Kaito-san` -> `Kaito`)."""
    return tuple(HONORIFIC_SUFFIX.sub("", w) for w in run.split()) if "-" in run else tuple(run.split())


_PLURAL_TITLES = frozenset("Misses Messrs Mesdames Masters".split())
_AFTER_COMMA = re.compile(r"(?:,|\bOh?)\s*$")  # `"…, Kaito."` / `"Oh, Kaito!"`
_BEFORE_CLOSING = re.compile(r"\s*[!?,.]?\s*[\"”’]")
_AFTER_OPENING = re.compile(r"[“\"‘]\s*$")  # `"Kaito, wait!"`
_BEFORE_COMMA = re.compile(r"\s*[,!]")
_OWN_PART = re.compile(r"['’]s\s+(?:eyes|face|voice|hand|head|mother|father)")
_INTRODUCING = re.compile(r"(?:\bI['’]m|\bI am|\bname is|\bname['’]s|\bcall me)\s+$")


_UNSHAPED = (-1, (), "")  # (a shape not yet worked out)


def _name_forms(text: str, capitals: _Capitals, tag_positions: set[int]) -> _Forms:
    """Each occurrence becomes a name form: the run of name words, after any title; with the
    evidence that it is a person (or a place)."""
    forms = _Forms()
    counts, surfaces, parts, found = forms.counts, forms.surfaces, forms.parts, forms.found
    person, place = forms.person_evidence, forms.place_evidence
    shapes: dict[tuple[str | None, tuple[str, ...]], tuple[int, tuple[str, ...], str] | None] = {}
    for start, end, title, words in capitals.occurrences:
        shape = shapes.get((title, words), _UNSHAPED)
        if shape is _UNSHAPED:  # the same few names, over and over: worked out once each
            shape = shapes[title, words] = _shape(capitals, title, words)
        if shape is None:
            continue
        n, kept, key = shape
        if n:
            title, start = None, start + text[start:end].index(kept[0])
        counts[key] += 1
        written = text[start:end]
        honorific = "-" in written and HONORIFIC_SUFFIX.search(written)
        as_written = surfaces.get(key)
        if as_written is None:  # (a Counter made for each occurrence costs more than counting it)
            as_written = surfaces[key] = Counter()
        as_written[key if honorific else written] += 1
        parts[key] = (title, kept)
        found.append((start, end, key))
        # (each pattern below is tried only when the characters it needs are there)
        window = text[max(0, start - 12) : start]
        before = window.rsplit(None, 1)  # (its last word)
        after = text[end : end + 20]
        if title:
            person[key] += 3
        if before and before[-1].lower() in _PLACE_PREPOSITIONS:
            place[key] += 1
        if after[:1].isspace() and SUBJECT_VERB.match(after):
            person[key] += 1
        # called by name: `"…, Kaito."` / `"Oh, Kaito!"` / `"Kaito, wait!"`
        before_name = window[-4:]
        called = (
            ("," in before_name or "O" in before_name)
            and _AFTER_COMMA.search(before_name)
            and _BEFORE_CLOSING.match(after)
        ) or (
            ('"' in before_name or "“" in before_name or "‘" in before_name)
            and _AFTER_OPENING.search(before_name)
            and _BEFORE_COMMA.match(after)
        )
        if called or (after[:1] in ("'", "’") and _OWN_PART.match(after)):
            person[key] += 1
        if start in tag_positions:
            person[key] += 3
        if ("I" in window or "name" in window or "call" in window) and _INTRODUCING.search(window):
            person[key] += 3  # `"I'm Miku!"`: someone introducing themselves
    return forms


def _shape(capitals: _Capitals, title: str | None, words: tuple[str, ...]) -> tuple[int, tuple[str, ...], str] | None:
    """The name in a run of capitalised words: how many words open the run before it, its words and
    its key; None for a place or a family."""
    # the name is the longest run of name words at the end: "Then John Linden" -> "John Linden"
    n = len(words)
    while n and (
        capitals.is_name_word(words[n - 1], title is not None) or words[n - 1] in PARTICLES and 1 < n < len(words)
    ):
        n -= 1  # `Catherine de Bourgh`: a particle inside
    kept = tuple(w.lower() if w.lower() in PARTICLES and len(words) > 1 else w for w in words[n:])
    if not kept or (title is None and len(kept) > 1 and kept[-1] in PLACE_NOUNS):
        return None  # `Lucas Lodge`, `Baker Street`: a place
    if len(kept) > 1 and (kept[0] in _PLURAL_TITLES or kept[0][:-1] in TITLES):
        return None  # `the Captains Wentworth`, `the Misses Bertram`: a family, not someone
    return n, kept, _key(None if n else title, kept)


_DETERMINERS = "the a an another every each this that official other".split()
# `\b(?:the|a|…)\s+([A-Z][a-z]+)`, the boundary checked after the first letter (`word_trie`)
_AFTER_DETERMINER = re.compile(rf"(?:{word_trie(_DETERMINERS, STARTED_WORD)})\s+([A-Z][a-z]+)")
# Where a determiner or a gendered noun (`the Caterpillar`, `her brother, Luki`) stands before a
# capital: both found in one pass reading backwards, each pattern tried where any of them stands
_WORD_BEFORE_CAPITAL = before_capital([*_DETERMINERS, *genders.NOUNS_BEFORE_NAMES[0]], genders.NOUNS_BEFORE_NAMES[1])


def _seeded(groups: list[Group], known: KnownCast) -> tuple[list[Group], dict[int, str]]:
    """The groups with the user's characters joined: every group holding a name or alias of a
    known character becomes one, named as the user names it. Returns the groups and, by index,
    the names of the known ones."""
    if not known.characters:
        return groups, {}
    owner = {form_key(f): c.name for c in known.characters for f in (c.name, *c.aliases)}
    joined: dict[str, list[Group]] = {}
    rest: list[Group] = []
    for group in groups:
        name = next((owner[f] for f in group.forms if f in owner), None)
        (joined.setdefault(name, []) if name else rest).append(group)
    out = [
        Group(tuple(f for g in gs for f in g.forms), frozenset(w for g in gs for w in g.given))
        for gs in joined.values()
    ]
    return out + rest, dict(enumerate(joined))


def _people(
    text: str, capitals: _Capitals, forms: _Forms, groups: list[Group], named: dict[int, str],
    before_capitals: list[int],
) -> Cast:
    """The characters that are people (not places, ships, months, sentence openers or kinds of
    thing), each named by its most frequent form, with its other forms as aliases, a gender
    vote from each gendered title and the first-name prior of its given names. The user's
    characters (`named`, by index) are people, named as the user names them. `before_capitals`:
    where a determiner may stand before a capital (`the Caterpillar`: a kind of thing)."""
    parts = forms.parts
    after_determiner = Counter(m.group(1) for m in matches_at(_AFTER_DETERMINER, text, before_capitals))
    cast = Cast()
    given_by = Counter(g for members in groups for g in members.given)  # a given name two people share
    for index, members in enumerate(groups):
        group = list(members.forms)
        head = group[0]
        if index in named:
            _add(cast, named[index], group, forms, members)
            continue
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
        if parts[best][0] is None and len(parts[best][1]) == 1 and given_by[parts[best][1][0]] > 1:
            # `John`, beside John Beaver: named by a full name of its own (`John Andrew`), the two kept apart
            full = [f for f in group if len(parts[f][1]) > 1 and parts[best][1][0] in parts[f][1]]
            best = max(full, key=lambda f: (forms.counts[f], -group.index(f)), default=best)
        _add(cast, " ".join(forms.surfaces[best].most_common(1)[0][0].split()), group, forms, members)
    return cast


def _add(cast: Cast, name: str, group: list[str], forms: _Forms, members: Group) -> None:
    """A character: its forms, aliases as written, a vote from each gendered title, its prior."""
    for f in group:
        cast.forms[f] = name
    cast.aliases[name] = tuple(sorted({" ".join(w.split()) for f in group for w in forms.surfaces[f]} - {name}))
    for f in group:
        title = forms.parts[f][0]
        g = TITLES.get(title) if title else None
        if g:
            cast.vote(name, g, genders.TITLE_VOTE * forms.counts[f])
    priors = {prior_gender(g) for g in members.given}
    if len(priors) == 1 and None not in priors:
        cast.priors[name] = priors.pop()  # type: ignore[assignment]


# The full stop first, then what must not precede it (`Mr.`), or a blank line; one class of both
# first characters opens the pattern, so the scanner jumps from one [.!?] or newline to the next
# (an alternation whose first branch opens with a class is tried at every character of the book).
_SENTENCE_BREAK = re.compile(
    r"[.!?\n](?:(?<=[.!?])(?<!\bMr.)(?<!\bMrs.)(?<!\bMs.)(?<!\bDr.)(?<!\bSt.)[\"”’')]*\s+|(?<=\n)\s*\n)"
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _side_by_side(text: str, found: list[tuple[int, int, str]]) -> Together:
    """The forms each sentence and each paragraph names."""
    sentence_ends = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
    paragraph_ends = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
    sentences: dict[int, set[str]] = {}
    paragraphs: dict[int, set[str]] = {}
    for start, _, key in found:
        sentences.setdefault(bisect_left(sentence_ends, start + 1), set()).add(key)
        paragraphs.setdefault(bisect_left(paragraph_ends, start + 1), set()).add(key)
    return Together([k for k in sentences.values() if len(k) > 1], list(paragraphs.values()))


def _hyphenated_starts(text: str) -> list[int]:
    """Where `_HYPHENATED` may match in `text`, in order: each first capital `_HYPHENATED_BACKWARDS` reaches."""
    n = len(text)
    return [n - m.end(1) for m in _HYPHENATED_BACKWARDS.finditer(text[::-1])][::-1]


def _is_plural_of(word: str, capitalised: Counter[str]) -> bool:
    """`Vocaloids` beside `Vocaloid`: not `Sikes` beside one `Sike`."""
    least = max(1, capitalised[word] // 10)
    return (word.endswith("s") and capitalised[word[:-1]] >= least) or (
        word.endswith("es") and capitalised[word[:-2]] >= least
    )


def _span_test(spans: list[tuple[int, int]]):
    starts = [s for s, _ in spans]

    def inside(pos: int) -> bool:
        i = bisect_left(starts, pos + 1) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    return inside


