"""The cast a user writes in voices.toml, as the attribution's starting point.

A `UserCast` is the user's word on who the book's people are: each listed character's names
(`aliases`), `gender` and whether they are the `first_person` narrator; names that are never
speakers (`not_characters`); and single lines whose speaker is fixed (`[[lines]]`). `seed`
folds it into the cast the story itself gives: names the tool finds that are a listed
character's merge into that character, listed names resolve even where the tool would not
have found them, listed genders decide pronouns, and `not_characters` are nobody. Characters
the user did not list are still discovered as before.

`locate` finds the line each `[[lines]]` entry means, over the whole book: a quote that
matches no line of dialogue, or several, is an error naming the file and line of the entry.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..segment import Segmentation
from .characters import (
    HONORIFIC_SUFFIX,
    TITLES,
    Cast,
    Gender,
    KnownCast,
    KnownCharacter,
    Mention,
    family_of,
    form_key,
)
from .script import NARRATOR

_ARTICLE = re.compile(r"^(?:the|a|an)\s+(?=[A-Z])", re.IGNORECASE)
# `a voice`, `one girl`: someone new each time the story says it, so never a name for one character
_INDEFINITE = re.compile(r"^(?:a|an|one|another|some)\s", re.IGNORECASE)
_TITLE = re.compile(rf"^(?:{'|'.join(sorted(TITLES, key=len, reverse=True))})\s+(?=\S)")
# quotation marks, but not an apostrophe inside a word (`I'm`, `don’t`)
_TITLE_BEFORE = re.compile(rf"\b(?:{'|'.join(sorted(TITLES, key=len, reverse=True))})\.?\s+$")
_QUOTE_MARKS = re.compile(r"[\"“”«»„]|(?<!\w)['‘’`]|['‘’`](?!\w)")


@dataclass(frozen=True)
class Listed:
    """A character as the user lists it: the name it is called by, its other names, its gender."""

    name: str
    aliases: tuple[str, ...] = ()
    gender: Gender | None = None
    first_person: bool = False


@dataclass(frozen=True)
class Fix:
    """A `[[lines]]` entry: the line starting with `quote` is `speaker`'s; `where` is `voices.toml:41`."""

    quote: str
    speaker: str
    where: str


@dataclass(frozen=True)
class Located:
    """Where a fix applies: a chapter (index into the book's segmentations) and a segment in it."""

    chapter: int
    segment: int
    fix: Fix


@dataclass(frozen=True)
class UserCast:
    characters: tuple[Listed, ...] = ()
    not_characters: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    _forms: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for c in self.characters:
            for written in (c.name, *c.aliases):
                for form in [] if _INDEFINITE.match(written) else _variants(written):
                    self._forms.setdefault(form, c.name)

    def __bool__(self) -> bool:
        return bool(self.characters or self.not_characters or self.fixes)

    @property
    def narrators(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.characters if c.first_person)

    def known(self) -> KnownCast:
        """What discovery starts from (`find_cast`): the listed names, the narrator if one is
        listed, the names that are nobody. An indefinite alias ('a voice') is no name."""
        return KnownCast(
            tuple(
                KnownCharacter(c.name, tuple(a for a in c.aliases if not _INDEFINITE.match(a)), c.gender)
                for c in self.characters
            ),
            self.narrators[0] if len(self.narrators) == 1 else None,
            frozenset(self.not_characters),
        )

    def listed(self, name: str) -> str | None:
        """The listed character a name (or alias) is, as written or as the cast normalises it."""
        return self._forms.get(_form(name))

    def blocked(self, name: str) -> bool:
        form = _form(name)
        return any(form == _form(n) for n in self.not_characters)


NO_CAST = UserCast()  # no voices.toml, or one that lists nobody: the cast is what the story gives


def as_user(cast: UserCast | KnownCast | None) -> UserCast:
    """A `KnownCast` (what a caller knows of the cast) as the user's cast."""
    if cast is None:
        return NO_CAST
    if isinstance(cast, UserCast):
        return cast
    listed = [Listed(c.name, c.aliases, c.gender, c.name == cast.first_person) for c in cast.characters]
    if cast.first_person and all(c.name != cast.first_person for c in cast.characters):
        listed.append(Listed(cast.first_person, first_person=True))
    return UserCast(tuple(listed), tuple(sorted(cast.not_characters)))


def _form(name: str) -> str:
    """A name as `Cast.forms` keys it: no full stops, single spaces, no honorific suffix."""
    return HONORIFIC_SUFFIX.sub("", " ".join(name.replace(".", " ").split()))


def _variants(written: str) -> list[str]:
    """The forms a listed name is known by: as written, with its first letter in either case
    (`The Mock Turtle` / `the Mock Turtle`), and without a leading article (`Mock Turtle`)."""
    form = _form(written)
    if not form:
        return []
    out = [form, form[0].swapcase() + form[1:]]
    if re.match(r"the\s", form, re.IGNORECASE):
        out.append(form.lower())  # `The Policeman` is `said the policeman`
    bare = _ARTICLE.sub("", form)
    if bare != form:
        out.append(bare)
    return out


def _words(form: str) -> frozenset[str]:
    return frozenset(_TITLE.sub("", _ARTICLE.sub("", form)).split())


def seed(cast: Cast, user: UserCast, text: str, narration: Sequence[tuple[int, int]]) -> None:
    """Fold the user's cast into the cast found in `text` (changed in place)."""
    if not user.characters and not user.not_characters:
        return
    genders = {c.name: c.gender for c in user.characters}
    words = [(c.name, frozenset().union(*(_words(_form(f)) for f in (c.name, *c.aliases)))) for c in user.characters]
    families = frozenset(  # the last words of listed full names
        f.split()[-1] for c in user.characters for f in map(_form, (c.name, *c.aliases)) if len(f.split()) > 1
    )
    merged: dict[str, str] = {}  # a discovered character's name -> the listed character it is
    for form, name in list(cast.forms.items()):
        if user.blocked(form) or user.blocked(name):
            del cast.forms[form]
            continue
        target = user.listed(form) or _by_words(form, words, genders, families) or user.listed(name)
        if target:
            cast.forms[form] = target
            merged.setdefault(name, target)
    for form, name in user._forms.items():
        cast.forms[form] = name
        cast.ambiguous.discard(form)
    lone = _lone_family_names(user, cast)
    cast.forms.update(lone)
    cast.excluded |= {_form(n) for n in user.not_characters}
    cast.listed = frozenset(c.name for c in user.characters)
    for name, target in merged.items():
        if name != target:
            for gender, votes in cast.gender_votes.pop(name, {}).items():
                cast.vote(target, gender, votes)
            cast.aliases.pop(name, None)
    for c in user.characters:
        found = {form for form, name in cast.forms.items() if name == c.name and form[:1].isupper()}
        cast.aliases[c.name] = tuple(sorted(({*c.aliases} | _written(cast, found, c)) - {c.name}))
        if c.gender:
            cast.given[c.name] = c.gender
    _remention(cast, user, text, narration, lone)
    cast.shared = _shared_names(user)
    if cast.shared:
        _in_view(cast, text)


def _shared_names(user: UserCast) -> dict[str, tuple[str, ...]]:
    """Given names two or more listed characters go by: a one-word name or alias of one (`John`
    for John Beaver) that is also the first word of another's name (John Andrew), or the first
    word of two names (Charles Hayter, Charles Musgrove) -> those characters."""
    holders: dict[str, list[str]] = {}
    for c in user.characters:
        # the first word of the name the user calls them by; of an alias, only a one-word alias
        # (`Tom Gradgrind` beside `Tom` for Young Thomas: the user's word on who Tom is)
        for written in (c.name, *(a for a in c.aliases if len(_form(a).split()) == 1)):
            words = _form(written).split()
            if not words or _INDEFINITE.match(written) or _ARTICLE.match(written) or _TITLE.match(_form(written)):
                continue
            if words[0][:1].isupper() and c.name not in holders.setdefault(words[0], []):
                holders[words[0]].append(c.name)
    return {word: tuple(names) for word, names in holders.items() if len(names) > 1}


SHARED_REACH = 3000  # characters back in which one of the characters sharing a name is still in view


def _in_view(cast: Cast, text: str) -> None:
    """Each mention of a shared given name (`John`) is the one of its holders in view: the one
    named last (by a name of their own, or by the shared name as resolved so far) in the last
    page or so; else the one whose family is in view (`Charles` beside Mary Musgrove); else the
    character discovery gave it."""
    holders = {name for names in cast.shared.values() for name in names}
    seen: dict[str, int] = {}
    kin: dict[str, int] = {}  # a family name -> where one of that family was named last
    kept = []
    for m in cast.mentions:
        shared = cast.shared.get(form_key(text[m.start : m.end])) if m.start != m.end else None
        character = m.character
        if shared:
            recent = [(seen[c], c) for c in shared if c in seen and m.start - seen[c] < SHARED_REACH]
            if not recent:  # `Charles` beside Mary Musgrove: Charles Musgrove, not Charles Hayter
                families = [(family_of(c) or "", c) for c in shared]
                recent = [(kin[f], c) for f, c in families if f in kin and m.start - kin[f] < SHARED_REACH]
            character = max(recent)[1] if recent else character
        if character in holders:
            seen[character] = m.start
        family = family_of(character)
        if family:
            kin[family] = m.start
        kept.append(Mention(m.start, m.end, character) if character != m.character else m)
    cast.set_mentions(kept)


def _by_words(
    form: str, words: list[tuple[str, frozenset[str]]], genders: dict[str, Gender | None], families: frozenset[str]
) -> str | None:
    """The one listed character whose names hold every word of `form` (`Reyes` for Tom Reyes),
    and whose gender fits the form's title (`Mr. Smith` is not Harriet Smith). A full name that
    several listed names hold (`Tom Reyes`, the user listing the elder and the younger) is the
    first of them listed, not someone the user did not list."""
    title = form.split()[0] if _TITLE.match(form) else None
    own = _words(form)
    if not own or (title is None and len(own) == 1 and own <= families):
        return None  # a family name alone (`Bourgh`) may be anyone of the family: discovery decides
    fits = [
        name for name, known in words
        if own <= known and not (title and TITLES.get(title) and genders.get(name) and TITLES[title] != genders[name])
    ]
    if len(fits) > 1 and len(own) > 1:
        return fits[0]  # `Tom Reyes` beside Tom Reyes the elder and the younger: one of them, the first listed
    return fits[0] if len(fits) == 1 else None



def _written(cast: Cast, forms: set[str], listed: Listed) -> set[str]:
    """The discovered forms of a listed character as the story writes them (`Mr. Reyes`)."""
    known = {_form(n) for n in (listed.name, *listed.aliases)}
    return {f for f in forms if f not in known and _ARTICLE.sub("", f) == f and f[:1].isupper()}


def _lone_family_names(user: UserCast, cast: Cast) -> dict[str, str]:
    """`Small` for the listed Jonathan Small: the family name of a listed full name that no other
    listed name ends with, and that discovery found as nobody's (a word the story also writes in
    lower case, `small`, is no name discovery finds), -> that character."""
    holders: dict[str, set[str]] = {}
    for c in user.characters:
        for written in (c.name, *c.aliases):
            words = _form(written).split()
            if len(words) > 1 and not _ARTICLE.match(written) and not _INDEFINITE.match(written):
                holders.setdefault(words[-1], set()).add(c.name)
    return {
        family: next(iter(names))
        for family, names in holders.items()
        if len(names) == 1 and family.isalpha() and family[:1].isupper() and family[1:].islower()
        and family not in cast.forms and family not in cast.ambiguous and not user.blocked(family)
        and family not in TITLES
    }


def _remention(
    cast: Cast, user: UserCast, text: str, narration: Sequence[tuple[int, int]], lone: dict[str, str]
) -> None:
    """Mentions again after the merge: each re-resolved (`Tom` is now Tom Reyes's), those of
    `not_characters` dropped, and every listed name in the narration that discovery missed added
    (and the `lone` family names, as written: `Small`, never `small`)."""
    kept = []
    listed = {c.name for c in user.characters}
    for m in cast.mentions:
        if m.start == m.end or m.character in listed:
            kept.append(m)  # discovery, seeded with the listed cast, already chose one of it
            continue
        titled = _TITLE_BEFORE.search(text, max(0, m.start - 12), m.start)
        name = cast.resolve(text[titled.start() if titled else m.start : m.end])  # `Mr. Bennet`, not `Bennet`
        if name is None and (user.blocked(text[m.start : m.end]) or user.blocked(m.character)):
            continue
        kept.append(Mention(m.start, m.end, name or m.character))
    cast.set_mentions(kept)
    pattern = _listed_pattern(user)
    if pattern is None:
        return
    covered = [(m.start, m.end) for m in cast.mentions]
    starts = [s for s, _ in covered]
    family = re.compile(rf"(?<![\w'’])(?:{'|'.join(map(re.escape, lone))})(?![\w'’-])") if lone else None
    for start, end in narration:
        for found in pattern.finditer(text, start, end):
            k = bisect_left(starts, found.end())
            if k and covered[k - 1][1] > found.start():
                continue  # already a mention
            name = user.listed(found.group(0))
            if name:
                cast.add_mention(Mention(found.start(), found.end(), name))
        for found in family.finditer(text, start, end) if family else ():
            k = bisect_left(starts, found.end())
            if not (k and covered[k - 1][1] > found.start()):
                cast.add_mention(Mention(found.start(), found.end(), lone[found.group(0)]))


def _listed_pattern(user: UserCast) -> re.Pattern[str] | None:
    written = {w for c in user.characters for w in (c.name, *c.aliases) if w.strip() and not _INDEFINITE.match(w)}
    written |= {w.lower() for w in written if re.match(r"the\s", w, re.IGNORECASE)}
    if not written:
        return None
    alternatives = []
    for w in sorted(written, key=len, reverse=True):
        words = [re.escape(part).replace(r"\.", r"\.?") for part in w.split()]
        first = words[0]
        if first[:1].isalpha():
            first = f"[{first[0].upper()}{first[0].lower()}]{first[1:]}"
        alternatives.append(r"\s+".join([first, *words[1:]]))
    return re.compile(rf"(?<![\w'’])(?:{'|'.join(alternatives)})(?![\w'’-])")


def speaker(user: UserCast, cast: Cast, name: str, narrator: str | None) -> str:
    """The character a `[[lines]]` speaker means: listed, found in the story, or the narrator."""
    if name.casefold() == NARRATOR:
        return narrator or NARRATOR
    return user.listed(name) or cast.resolve(name) or name


def plain(text: str) -> str:
    """A line as a quote is compared with it: no quotation marks, single spaces, any case."""
    return " ".join(_QUOTE_MARKS.sub("", text.replace("\u00a0", " ")).split()).replace("’", "'").casefold()


_WORD_END, _WORD_START = r"(?!\w)", r"(?<!\w)"  # a quote holds whole words: "I" is not the start of "Is it hot?"
Clock = Callable[[int, int], str]  # (chapter, offset in its text) -> "12:34", the line's time in its chapter


def locate(
    user: UserCast, segmentations: Sequence[Segmentation], clock: Clock, problems: list[str] | None = None
) -> list[Located]:
    """The line of dialogue each `[[lines]]` entry means: the one that starts with its quote
    (else the one that contains it). None or several is a ConfigError naming the entry and
    showing the nearest lines, with chapter and time; given a `problems` list, that message goes
    there instead and the entry is left out."""
    lines: list[tuple[int, int, str]] = []  # chapter, segment, plain text
    for c, seg in enumerate(segmentations):
        text = seg.story.text
        for i, s in enumerate(seg.segments):
            if s.kind == "dialogue":
                lines.append((c, i, plain(text[s.start : s.end])))
    located = []
    for fix in user.fixes:
        quote = plain(fix.quote)
        starts = re.compile(re.escape(quote) + (_WORD_END if quote[-1:].isalnum() else ""))
        inside = re.compile((_WORD_START if quote[:1].isalnum() else "") + starts.pattern)
        hits = [line for line in lines if starts.match(line[2])] or [line for line in lines if inside.search(line[2])]
        if len(hits) == 1:
            located.append(Located(hits[0][0], hits[0][1], fix))
            continue
        shown = hits[:3] if hits else _nearest(quote, lines)
        where = "; ".join(_describe(segmentations, c, i, clock) for c, i, _ in shown)
        if hits:
            message = f"{fix.where}: quote \"{fix.quote}\" matches {len(hits)} lines ({where}): quote more of the line"
        else:
            message = (
                f"{fix.where}: quote \"{fix.quote}\" matches no line of dialogue"
                + (f"; nearest: {where}" if where else "")
                + ": copy the start of the line from `audiobook segment --find WORDS`"
            )
        if problems is None:
            raise ConfigError(message)
        problems.append(message)
    return located


def _nearest(quote: str, lines: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The three lines most like the quote (compared with their start, or a window of them)."""
    from difflib import SequenceMatcher  # only for a mistake

    def likeness(text: str) -> float:
        start = SequenceMatcher(None, quote, text[: len(quote) + 10], autojunk=False).ratio()
        inside = SequenceMatcher(None, quote, text, autojunk=False)
        block = inside.find_longest_match(0, len(quote), 0, len(text))
        return max(start, block.size / max(1, len(quote)))

    scored = sorted(((likeness(line[2]), k) for k, line in enumerate(lines)), reverse=True)
    return [lines[k] for score, k in scored[:3] if score >= 0.4]


def _describe(segmentations: Sequence[Segmentation], chapter: int, i: int, clock: Clock) -> str:
    seg = segmentations[chapter]
    s = seg.segments[i]
    said = " ".join(seg.story.text[s.start : s.end].split())
    said = said if len(said) <= 50 else said[:47] + "..."
    return f"{seg.story.title} {clock(chapter, s.start)} {said}"
