"""Name forms merged into characters, on evidence (`merge`):

1. Full names (`Elizabeth Bennet`, `Miss Elizabeth Bennet`) are people; the same words with a
   title of the same gender are the same person (`Mrs. John Knightley` is not John Knightley).
2. A title with one word: with a given name (`Sir William`, `Lady Catherine`, `Miss Eliza`) it is
   the one person of that given name; with a family name it is the one person of that family
   who could bear the title - never across genders, never a married woman for an unmarried one
   (`Mrs. Bennet` is neither Elizabeth Bennet nor `Miss Bennet`), and not one whom the story
   itself calls by title and full name (`Mr. John Knightley` is not `Mr. Knightley`). Else it is
   someone of its own.
3. A bare word: the one person with that given name, else the one with that family name (the
   one called Mr., by the old convention: `Bennet` is Mr. Bennet), else someone new.
4. A pet name or short form (`Lizzy`, `Eliza`) joins the one person of the same gender whom the
   story also calls by the plain given name (`Elizabeth`).

Two names standing side by side never merge; a title's gender and the first-name prior keep
men and women apart.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .names import (
    GIVEN_TITLES,
    MARRIED,
    PARTICLES,
    TITLES,
    UNMARRIED,
    Gender,
    full_forms,
    given_name_gender,
    is_given_name,
    short_form_of,
)

Parts = dict[str, tuple[str | None, tuple[str, ...]]]  # form -> (title, words)
_PARTICLES = frozenset("De Du Da Di Del Della Van Von Le La St Ter Ten".split()) | PARTICLES


@dataclass(eq=False)
class _Person:
    """A character while forms are merged: its forms, given and family names, and titles."""

    keys: list[str] = field(default_factory=list)
    given: set[str] = field(default_factory=set)
    family: set[str] = field(default_factory=set)
    titles: Counter[str] = field(default_factory=Counter)  # title -> how often a form with it occurs
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
        if title in MARRIED and any(t in UNMARRIED for t in self.titles):
            return False  # `Mrs. Bennet` is not `Miss Bennet`
        if title in UNMARRIED and any(t in MARRIED for t in self.titles):
            return False
        return True

    def add(self, key: str, title: str | None, count: int) -> None:
        self.keys.append(key)
        self.count += count
        self._gender = None
        if title:
            self.titles[title] += count


def _form_gender(title: str | None, words: tuple[str, ...]) -> Gender | None:
    if title and TITLES.get(title):
        return TITLES[title]
    return given_name_gender(words[0]) if words and words[0] not in _PARTICLES else None


class _Merger:
    def __init__(self, parts: Parts, counts: Counter[str]) -> None:
        self.parts, self.counts = parts, counts
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
        home.add(key, title, self.counts[key])

    def _titled_home(self, title: str, word: str, gender: Gender | None) -> _Person | None:
        """The one person a title and a single word (`Mr. Darcy`, `Lady Catherine`) can be."""
        named = [*self.by_given.get(word, ()), *(p for p in self.by_family.get(word, ()) if word not in p.given)]
        same = [p for p in named if title in p.titles and p.takes(title, gender)]
        if len(same) == 1:
            return same[0]  # `Mrs Bennet` after `Mrs. Bennet`
        if title in GIVEN_TITLES:
            by_given = [p for p in self.by_given.get(word, ()) if p.takes(title, gender)]
            if len(by_given) == 1:
                return by_given[0]
        # `Miss Eldridge` is not `Captain Eldridge`: two titles on one family name are two people,
        # unless a full name ties them
        by_family = [
            p for p in self.by_family.get(word, ()) if p.takes(title, gender) and (p.given or title in p.titles)
        ]
        if title in MARRIED:  # `Mrs. Knightley` is a Knightley called Mrs. already, not a daughter of the house
            by_family = [p for p in by_family if any(t in MARRIED for t in p.titles)]
        # the story calls them by title and full name (`Mr. John Knightley`): `Mr. Knightley` is another
        by_family = [p for p in by_family if not self._called_in_full(p, gender)]
        if len(by_family) == 1:
            return by_family[0]
        return None

    def _called_in_full(self, person: _Person, gender: Gender | None) -> bool:
        for k in person.keys:
            title, words = self.parts[k]
            if title and len(words) >= 2 and self.counts[k] >= 2 and (gender is None or TITLES.get(title) == gender):
                return True
        return False

    def bare(self, key: str, word: str, gender: Gender | None) -> None:
        """`Elizabeth`, `Darcy`: the one person of that given name, else of that family name."""
        by_given = [p for p in self.by_given.get(word, ()) if p.takes(None, gender)]
        homes = by_given or list(self.by_family.get(word, ()))
        if len(homes) > 1:
            homes = _dominant(homes, bool(by_given))
        if len(homes) == 1:
            homes[0].add(key, None, self.counts[key])
        elif homes and self.counts[key] < sum(p.count for p in homes):
            self.ambiguous.add(key)
        else:
            self.new([word]).add(key, None, self.counts[key])

    def join_short_forms(self) -> None:
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
                    if (
                        other.takes(None, person.gender())
                        and person.takes(None, other.gender())
                        and bare >= 3
                        and bare * 5 >= other.count
                    ):
                        candidates.append((bare, other))
            candidates.sort(key=lambda c: -c[0])
            if candidates and (len(candidates) == 1 or candidates[0][0] >= 3 * candidates[1][0]):
                target = candidates[0][1]
                for key in person.keys:
                    target.add(key, self.parts[key][0], self.counts[key])
                self.name(target, person.given, person.family)
                person.keys = []


def _dominant(homes: list[_Person], by_given: bool) -> list[_Person]:
    """Of several people a bare word could be, the one it must be: the far most frequent one
    (`Jane` among two Janes), or for a family name the one called Mr. (`Bennet` is Mr. Bennet)."""
    if by_given:
        ranked = sorted(homes, key=lambda p: -p.count)
        return ranked[:1] if ranked[0].count >= 3 * ranked[1].count else homes
    men = [p for p in homes if any(TITLES.get(t) == "male" for t in p.titles)]
    return men if len(men) == 1 else homes


def merge(parts: Parts, counts: Counter[str]) -> tuple[dict[str, list[str]], set[str]]:
    """Each character's head form -> its forms, and the forms that two characters share."""
    merger = _Merger(parts, counts)
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
    merger.join_short_forms()
    return {p.keys[0]: p.keys for p in merger.people if p.keys}, merger.ambiguous
