"""The cast voices.toml lists, applied to a book: the attribution seeded with its characters,
`[not_characters]` and `[[lines]]` fixes, each fix located in the book and its speaker checked.

`attribute_cast` is how every command reads a book's speakers (`build`, `cast`, `segment`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .attribution import NARRATOR, Script, attribute_chapters
from .attribution.characters import NAME_RE, STOP_WORDS
from .attribution.seed import Fix, Listed, Located, UserCast, locate, plain
from .book import Book
from .config import Config
from .errors import ConfigError
from .segment import segment
from .timeline import clock as clock_of
from .timeline import estimate
from .transcript import Cue


def user_cast(config: Config) -> UserCast:
    """The cast voices.toml lists, as the attribution takes it."""
    where = str(config.path or "voices.toml")
    return UserCast(
        tuple(Listed(c.name, c.aliases, c.gender, c.first_person) for c in config.characters),  # type: ignore[arg-type]
        config.not_characters,
        tuple(Fix(f.quote, f.speaker, f"{where}:{f.line}" if f.line else where) for f in config.lines),
    )


def attribute_cast(
    book: Book, config: Config, problems: list[str] | None = None, heard: Mapping[int, Sequence[Cue]] | None = None
) -> tuple[tuple[Script, ...], dict[tuple[int, int], Fix]]:
    """Every chapter attributed with the cast voices.toml lists and its `[[lines]]` fixes; and
    where each fix applies: (chapter number, offset of the line in its chapter's text) -> the fix.
    A fix that matches no line or several (unless `problems` collects those), or names nobody in
    the cast, is a ConfigError naming its line in voices.toml."""
    user = user_cast(config)
    segmentations = [segment(story) for story in book.chapters]
    rate = config.narrator.rate or 165

    def clock(chapter: int, offset: int) -> str:
        """When the line at `offset` is heard: in the last build (its cue), else estimated (~)."""
        line = plain(segmentations[chapter].story.text[offset : offset + 200])
        for cue in (heard or {}).get(chapter + 1, ()):
            said = plain(cue.text)
            if said and (line.startswith(said[:40]) or said.startswith(line[:40])):
                return clock_of(cue.start_ms)
        return str(estimate(segmentations[chapter].story, offset, rate))

    located = locate(user, segmentations, clock, problems)
    scripts = attribute_chapters(segmentations, user, {(p.chapter, p.segment): p.fix.speaker for p in located})
    _check_speakers(user, located, scripts)
    where = {(p.chapter + 1, segmentations[p.chapter].segments[p.segment].start): p.fix for p in located}
    return scripts, where


def _check_speakers(user: UserCast, located: Sequence[Located], scripts: Sequence[Script]) -> None:
    """A `[[lines]]` speaker must be someone: listed in voices.toml or named in the stories (in any
    case: "a little girl"); else it is a typo, and the error suggests the nearest names."""
    for place in located:
        name = place.fix.speaker
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        if name.casefold() == NARRATOR or user.listed(name) or any(pattern.search(s.story.text) for s in scripts):
            continue
        import difflib  # only for a mistake

        names = {n for c in user.characters for n in (c.name, *c.aliases)}
        names |= {n for s in scripts for c in s.characters if c.name != name for n in (c.name, *c.aliases)}
        names |= {m.group(2) for s in scripts for m in NAME_RE.finditer(s.story.text) if m.group(2) not in STOP_WORDS}
        close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(repr(n) for n in close)}?)" if close else ""
        raise ConfigError(
            f"{place.fix.where}: speaker '{name}' is not in the cast{hint}: use a name `audiobook cast` shows, "
            "or list them under [characters]"
        )
