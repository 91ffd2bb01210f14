"""Name forms merged into characters, on evidence (`merge`):

1. Full names (`Elizabeth Bennet`, `Miss Elizabeth Bennet`) are people; the same words with a
   title of the same gender are the same person (`Mrs. John Knightley` is not John Knightley).
2. A title with one word: with a given name (`Sir William`, `Lady Catherine`, `Miss Eliza`) it is
   the one person of that given name; with a family name it is the one person of that family
   who could bear the title - never across genders, never a married woman for an unmarried one
   (`Mrs. Bennet` is neither Elizabeth Bennet nor `Miss Bennet`), and not one whom the story
   itself calls by title and full name in the same paragraphs (`Mr. Knightley` and `Mr. John
   Knightley`). Else it is someone of its own.
3. A bare word: the one person with that given name, else the one with that family name (the
   one called Mr., by the old convention: `Bennet` is Mr. Bennet), else someone new.
4. A pet name or short form (`Lizzy`, `Eliza`) joins the one person of the same gender whom the
   story also calls by the plain given name (`Elizabeth`), unless the two are named side by side.
5. `Mrs. Pontellier` is Edna Pontellier when nothing says she is another woman of the family.
6. `Miss Hester` and `Miss Quarrington` named in the same paragraphs are two sisters, though one
   full name (`Miss Hester Quarrington`) holds both words.

Two names standing side by side in a sentence are two people, never merged; a title's gender and
the first-name prior keep
men and women apart.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from .names import (
    GIVEN_TITLES,
    MARRIED,
    PARTICLES,
    TITLE_CLASS,
    TITLES,
    UNMARRIED,
    Gender,
    full_forms,
    given_name_gender,
    is_given_name,
    short_form_of,
)

Parts = dict[str, tuple[str | None, tuple[str, ...]]]  # form -> (title, words)
# Ranks name either sex in a modern story, but a rank on a family name never joins a woman the
# story calls by a woman's title or a woman's given name: it would give one voice to two people
RANKS = frozenset("Captain Colonel Major General Lieutenant Sergeant Corporal Admiral Commander Inspector".split())
_PARTICLES = frozenset("De Du Da Di Del Della Van Von Le La St Ter Ten".split()) | PARTICLES
# A woman of rank is never called Miss: `Miss De Bourgh` is not `Lady Catherine de Bourgh` (her daughter)
_LADIES = frozenset("Lady Dame Duchess Countess Baroness Queen Princess".split())


@dataclass(eq=False)
class _Person:
    """A character while forms are merged: its forms, given and family names, and titles."""

    keys: list[str] = field(default_factory=list)
    given: set[str] = field(default_factory=set)
    family: set[str] = field(default_factory=set)
    titles: Counter[str] = field(default_factory=Counter)  # title class -> how often a form with it occurs
    count: int = 0
    _gender: tuple[Gender | None] | None = None  # cached until the next form joins

    def gender(self) -> Gender | None:
        if self._gender is None:
            self._gender = (self._find_gender(),)
        return self._gender[0]

    def _find_gender(self) -> Gender | None:
        by_title = {TITLES.get(t) for t in self.titles} - {None}
        if by_title:
            return next(iter(by_title)) if len(by_title) == 1 else None
        priors = {given_name_gender(g) for g in self.given} - {None}
        return next(iter(priors)) if len(priors) == 1 else None

    def takes(self, title: str | None, gender: Gender | None) -> bool:
        """Whether a form with `title` (and of `gender`) can be this person's."""
        mine = self.gender()
        if gender and mine and gender != mine:
            return False
        if (title in RANKS and mine == "female") or (gender == "female" and any(t in RANKS for t in self.titles)):
            return False  # `Captain Harville` is not his sister `Fanny Harville`, nor `Miss Harville`
        if title in MARRIED and any(t in UNMARRIED for t in self.titles):
            return False  # `Mrs. Bennet` is not `Miss Bennet`
        if title in UNMARRIED and any(t in MARRIED or t in _LADIES for t in self.titles):
            return False
        if title in _LADIES and any(t in UNMARRIED for t in self.titles):
            return False
        return True

    def add(self, key: str, title: str | None, count: int, family: bool = False) -> None:
        """A form joins; `family` says its title goes with a family name (`Lady Russell`, a
        married woman, where `Lady Catherine` need not be)."""
        self.keys.append(key)
        self.count += count
        self._gender = None
        if title:
            self.titles[_title_class(title, family)] += count


def _title_class(title: str, family: bool) -> str:
    """`Monsieur` is a Mr; a Lady with a family name (`Lady Russell`) is married, like a Mrs."""
    return "Mrs" if title == "Lady" and family else TITLE_CLASS.get(title, title)


def _form_gender(title: str | None, words: tuple[str, ...]) -> Gender | None:
    if title and TITLES.get(title):
        return TITLES[title]
    return given_name_gender(words[0]) if words and words[0] not in _PARTICLES else None


class _Merger:
    def __init__(self, parts: Parts, counts: Counter[str], together: Together) -> None:
        self.parts, self.counts, self.together = parts, counts, together
        self.people: list[_Person] = []
        self.by_given: dict[str, list[_Person]] = {}
        self.by_family: dict[str, list[_Person]] = {}
        self.ambiguous: set[str] = set()

    def new(self, given: Iterable[str] = (), family: Iterable[str] = ()) -> _Person:
        person = _Person()
        self.people.append(person)
        self.name(person, given, family)
        return person

    def name(self, person: _Person, given: Iterable[str] = (), family: Iterable[str] = ()) -> None:
        for g in given:
            if g not in person.given:
                person.given.add(g)
                self.by_given.setdefault(g, []).append(person)
        for f in family:
            if f not in person.family:
                person.family.add(f)
                self.by_family.setdefault(f, []).append(person)

    def full_name(self, key: str, title: str | None, words: tuple[str, ...], gender: Gender | None) -> None:
        """`Elizabeth Bennet`, `Miss Elizabeth Bennet`: the person of those words, or someone new."""
        given = words[0] if words[0] not in _PARTICLES else None
        same = [
            p for p in self.by_family.get(words[-1], ())
            if p.takes(title, gender) and (given is None or given in p.given)
            and any(self.parts[k][1][-len(words):] == words or self.parts[k][1] == words[-len(self.parts[k][1]):]
                    for k in p.keys if len(self.parts[k][1]) >= 2)
        ]
        person = same[0] if len(same) == 1 else self.new([given] if given else (), [words[-1]])
        person.add(key, title, self.counts[key])

    def titled(self, key: str, title: str, word: str, gender: Gender | None) -> None:
        home = self._titled_home(title, word, gender)
        if home is None:
            given = title in GIVEN_TITLES and is_given_name(word) and word not in self.by_family
            home = self.new([word] if given else (), () if given else [word])
        home.add(key, title, self.counts[key], family=word in home.family and word not in home.given)

    def _titled_home(self, title: str, word: str, gender: Gender | None) -> _Person | None:
        """The one person a title and a single word (`Mr. Darcy`, `Lady Catherine`) can be."""
        named = [*self.by_given.get(word, ()), *(p for p in self.by_family.get(word, ()) if word not in p.given)]
        if title == "Lady" and word in self.by_family and word not in self.by_given:
            title = "Mrs"  # `Lady Elliot`: a family name with Lady is a married woman's, not `Miss Elliot`
        cls = TITLE_CLASS.get(title, title)
        named = [p for p in named if not self._sisters(p, title, word)]
        same = [p for p in named if any(self._single(k, cls, word) for k in p.keys) and p.takes(title, gender)]
        if len(same) == 1:
            return same[0]  # `Monsieur Pontellier` after `Mr. Pontellier`
        if title in GIVEN_TITLES:
            by_given = [
                p for p in self.by_given.get(word, ()) if p.takes(title, gender) and not self._sisters(p, title, word)
            ]
            if len(by_given) == 1:
                return by_given[0]
        # `Miss Eldridge` is not `Captain Eldridge`: two titles on one family name are two people,
        # unless a full name ties them
        same_title = TITLE_CLASS.get(title, title)
        by_family = [
            p for p in self.by_family.get(word, ())
            if p.takes(title, gender) and (p.given or same_title in p.titles) and not self._sisters(p, title, word)
        ]
        if title in MARRIED:  # `Mrs. Knightley` is a Knightley called Mrs. already, not a daughter of the house
            by_family = [p for p in by_family if any(t in MARRIED for t in p.titles)]
        # the story calls them by title and full name (`Mr. John Knightley`) and names them in the
        # paragraphs of `Mr. Knightley`: that is another man
        by_family = [p for p in by_family if not self._called_in_full(p, gender, _key(title, word))]
        by_family = _without_strays(by_family)
        if len(by_family) == 1:
            return by_family[0]
        return None

    def _sisters(self, person: _Person, title: str, word: str) -> bool:
        """Whether `Miss <word>` is someone other than `person`, whom the story calls Miss with
        another single word in the same paragraphs: `"…, Miss Hester?" asked Miss Quarrington` -
        two sisters, though a full name (`Miss Hester Quarrington`) holds both words. One woman
        is seldom called by both in one paragraph."""
        if TITLE_CLASS.get(title, title) not in UNMARRIED:
            return False
        others = [
            k for k in {*person.keys, *(_key(title, g) for g in person.given)}  # `Miss Hester` yet to join
            if k in self.parts and (t := self.parts[k][0]) and TITLE_CLASS.get(t, t) in UNMARRIED
            and len(self.parts[k][1]) == 1 and self.parts[k][1][0] != word
        ]
        if not others:
            return False
        both, rarer = self.together.share([_key(title, word)], others, paragraphs=True)
        return both >= 2 and both * 5 > rarer

    def _single(self, key: str, cls: str, word: str) -> bool:
        """Whether `key` is `word` after a title of class `cls` (`Mr. Pontellier` for Mr)."""
        title, words = self.parts[key]
        return words == (word,) and title is not None and TITLE_CLASS.get(title, title) == cls

    def _called_in_full(self, person: _Person, gender: Gender | None, form: str) -> bool:
        full = [
            k for k in person.keys
            if (title := self.parts[k][0]) and len(self.parts[k][1]) >= 2 and self.counts[k] >= 2
            and (gender is None or TITLES.get(title) == gender)
        ]
        if not full:
            return False
        both, rarer = self.together.share([form], full, paragraphs=True)
        return both * 20 > rarer  # named in one paragraph more than once in twenty (Knightley 11%, Inglethorp 2%)

    def bare(self, key: str, word: str, gender: Gender | None) -> None:
        """`Elizabeth`, `Darcy`: the one person of that given name, else of that family name."""
        by_given = self._called_by_given([p for p in self.by_given.get(word, ()) if p.takes(None, gender)], word)
        homes = by_given or list(self.by_family.get(word, ()))
        if len(homes) > 1:
            homes = _dominant(homes, bool(by_given))
        if len(homes) == 1:
            homes[0].add(key, None, self.counts[key])
        elif homes and self.counts[key] < sum(p.count for p in homes):
            self.ambiguous.add(key)
        else:
            self.new([word]).add(key, None, self.counts[key])

    def _called_by_given(self, people: list[_Person], word: str) -> list[_Person]:
        """Of several people with the given name `word`, the ones a bare `word` can be: not one the
        story calls by the family name (`Beaver`, `Mr. Beaver`) five times as often as by a name
        holding `word` (`John Beaver`), beside one it calls by the given name (`John Andrew`)."""
        people = _without_strays(people)  # (a chapter title read as a name, `Mrs. Rachel Lynde Is …`, is no one)
        if len(people) < 2:
            return people
        by_given = []
        for person in people:
            given = sum(self.counts[k] for k in person.keys if word in self.parts[k][1])
            by_given.append(given * 5 > person.count - given)
        if any(by_given) and not all(by_given):
            return [p for p, called in zip(people, by_given, strict=True) if called]
        return people

    def join_married_names(self, together: Together) -> None:
        """`Mrs. Pontellier` is Edna Pontellier when she is the one woman of that family with a
        given name, the family has no daughter called Miss, and the story seldom names the two
        in one paragraph (at most one in seven of theirs, as two names for one woman are used;
        a mother and her daughter share two in five, and a husband and wife one in four)."""
        for person in self.people:
            if person.given or len(person.family) != 1 or not person.keys:
                continue
            if not all(t in MARRIED for t in person.titles):
                continue
            family = next(iter(person.family))
            kin = [p for p in self.by_family.get(family, ()) if p is not person and p.keys]
            if any(t in UNMARRIED for p in kin for t in p.titles):
                continue  # `Miss Bennet`: the daughters of the house are there too
            women = [p for p in kin if p.given and p.gender() == "female"]
            if len(women) != 1:
                continue
            both, rarer = together.share(person.keys, women[0].keys, paragraphs=True)
            if both * 7 > rarer:
                continue
            target = women[0]
            for key in person.keys:
                target.add(key, self.parts[key][0], self.counts[key])
            person.keys = []

    def join_short_forms(self, together: Together) -> None:
        """`Lizzy` and `Eliza` join the one person of the same gender the story also calls plain
        `Elizabeth`; a pet name of someone only ever called by title (`Lady Catherine`) stays apart."""
        known = sorted(self.by_given)  # for prefixes: `Fred` -> `Frederick`
        for person in self.people:
            if len(person.given) != 1 or not person.keys:
                continue
            short = next(iter(person.given))
            fulls = {f.capitalize() for f in full_forms(short)}
            i = bisect_left(known, short)
            while i < len(known) and known[i].startswith(short):
                fulls.add(known[i])
                i += 1
            candidates: list[tuple[int, _Person]] = []
            for full in fulls:
                bare = self.counts.get(full, 0)  # how often the story says plain `Elizabeth`
                if not short_form_of(short, full):
                    continue
                for other in self.by_given.get(full, ()):
                    if other is person or not other.keys or not person.family <= other.family:
                        continue  # `Eliza Bennet` may be Elizabeth Bennet, not Elizabeth Fairfax
                    same = other.takes(None, person.gender()) and person.takes(None, other.gender())
                    if same and bare >= 3 and bare * 5 >= other.count:
                        candidates.append((bare, other))
            candidates.sort(key=lambda c: -c[0])
            if candidates and (len(candidates) == 1 or candidates[0][0] >= 3 * candidates[1][0]):
                target = candidates[0][1]
                both, rarer = together.share(person.keys, target.keys, paragraphs=False)
                if both * 10 > rarer:
                    continue  # `Kitty and Catherine`: named side by side, two people
                for key in person.keys:
                    target.add(key, self.parts[key][0], self.counts[key])
                self.name(target, person.given, person.family)
                person.keys = []


@dataclass(frozen=True)
class Together:
    """The forms named in each sentence (that names several) and in each paragraph."""

    sentences: list[set[str]]
    paragraphs: list[set[str]]

    def share(self, a: Iterable[str], b: Iterable[str], paragraphs: bool) -> tuple[int, int]:
        """In how many sentences (or paragraphs) both `a` and `b` are named, and in how many the
        rarer of the two is."""
        index = self._in_paragraphs if paragraphs else self._in_sentences
        in_a = set().union(*(index.get(key, ()) for key in set(a)))
        in_b = set().union(*(index.get(key, ()) for key in set(b)))
        return len(in_a & in_b), min(len(in_a), len(in_b))

    @cached_property  # (asked for pairs of forms again and again: each form's sentences listed once)
    def _in_sentences(self) -> dict[str, set[int]]:
        return _where(self.sentences)

    @cached_property
    def _in_paragraphs(self) -> dict[str, set[int]]:
        return _where(self.paragraphs)


def _where(groups: list[set[str]]) -> dict[str, set[int]]:
    """Each form -> the groups (sentences or paragraphs) naming it, by their index."""
    found: dict[str, set[int]] = {}
    for k, keys in enumerate(groups):
        for key in keys:
            found.setdefault(key, set()).add(k)
    return found


def _without_strays(people: list[_Person]) -> list[_Person]:
    """People named once (`Bister Sikes`, a dialect spelling) do not make a name ambiguous
    beside one named three times or more."""
    if any(p.count >= 3 for p in people):
        return [p for p in people if p.count > 1]
    return people


def _dominant(homes: list[_Person], by_given: bool) -> list[_Person]:
    """Of several people a bare word could be, the one it must be: the far most frequent one
    (`Jane` among two Janes), or for a family name the one called Mr. (`Bennet` is Mr. Bennet)."""
    homes = _without_strays(homes)
    if len(homes) == 1:
        return homes
    ranked = sorted(homes, key=lambda p: -p.count)
    if by_given:
        return ranked[:1] if ranked[0].count >= 3 * ranked[1].count else homes
    married = any(t in MARRIED for p in homes for t in p.titles)
    if ranked[0].count >= 3 * ranked[1].count and not ranked[0].titles and not married:
        # `Jupe`, said by a schoolmaster, is Sissy Jupe (never called by a title), named three times as often as
        # her father `Signor Jupe`; `Bennet` and `Pontellier`, beside a Mrs., stay the husband's
        return ranked[:1]
    men = [p for p in homes if any(TITLES.get(t) == "male" for t in p.titles)]
    if len(men) > 1:
        ranked = sorted(men, key=lambda p: -p.count)
        men = ranked[:1] if ranked[0].count >= 5 * ranked[1].count else men  # `Sikes` is Bill Sikes, Mr. Sikes
    return men if len(men) == 1 else homes


@dataclass(frozen=True)
class Group:
    """The forms of one character, and the given names among them (for the first-name prior)."""

    forms: tuple[str, ...]
    given: frozenset[str]


def _key(title: str, word: str) -> str:
    return f"{title} {word}"


def merge(parts: Parts, counts: Counter[str], together: Together) -> tuple[list[Group], set[str]]:
    """The characters' groups of forms, and the forms that two characters share; `together`
    tells the forms each sentence and paragraph names."""
    merger = _Merger(parts, counts, together)
    order = sorted(counts, key=lambda k: (-len(parts[k][1]), parts[k][0] is None, -counts[k], k))
    for key in order:
        title, words = parts[key]
        gender = _form_gender(title, words)
        if len(words) >= 2 and title and words[0] in _PARTICLES:
            words = words[-1:]  # `Miss de Bourgh`: a title and a family name
        if len(words) >= 2:
            merger.full_name(key, title, words, gender)
        elif title:
            merger.titled(key, title, words[0], gender)
        else:
            merger.bare(key, words[0], gender)
    merger.join_married_names(together)
    merger.join_short_forms(together)
    return [Group(tuple(p.keys), frozenset(p.given)) for p in merger.people if p.keys], merger.ambiguous
