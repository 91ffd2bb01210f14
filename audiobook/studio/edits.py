"""Changes the studio makes to a casting file, applied in place with tomlkit.

Every edit keeps what the user wrote: comments, blank lines, the order of tables and keys, and
every key it does not touch. A character the file does not list yet gets a table of its own at
the end of the characters; `[not_characters]` and `[[lines]]` are made when first needed.

This is the only module that imports tomlkit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from ..config import GENDERS
from ..errors import ConfigError

NARRATOR = "narrator"


@dataclass(frozen=True)
class SetVoice:
    """`name` speaks in `voice` (an engine's voice id: "en-us+f3", "piper:NAME#3" for a model's speaker 3)
    at `rate_wpm` and `pitch`."""

    name: str
    voice: str
    rate_wpm: int
    pitch: int


@dataclass(frozen=True)
class SetGender:
    name: str
    gender: str | None  # None: unknown (the key is removed)


@dataclass(frozen=True)
class Merge:
    """`name` is `into` under another name: it becomes one of `into`'s aliases, with its own aliases
    (those its table lists, and `aliases`: the other names the book calls them by)."""

    name: str
    into: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotCharacter:
    """`name` is never a speaker (a place, a ship, a composer)."""

    name: str


@dataclass(frozen=True)
class FixLine:
    """The line of dialogue that starts with `quote` is `speaker`'s: a `[[lines]]` entry. With
    `replaces`, the quote of the entry already fixing that line, that entry's speaker changes instead."""

    quote: str
    speaker: str
    replaces: str | None = None


Edit = SetVoice | SetGender | Merge | NotCharacter | FixLine


def apply_edits(text: str, edits: Sequence[Edit], where: str = "voices.toml") -> str:
    """`text` (a casting file) with `edits` applied, everything else as it was."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}: fix the syntax, then save again") from None
    for edit in edits:
        _apply(doc, edit, where)
    return tomlkit.dumps(doc)


def _apply(doc: Any, edit: Edit, where: str) -> None:
    if isinstance(edit, SetVoice):
        table = _voice_table(doc, edit.name)
        table["voice"] = edit.voice
        table["rate"] = edit.rate_wpm
        table["pitch"] = edit.pitch
        if "speaker" in table:  # the speaker is in the voice id now
            del table["speaker"]
    elif isinstance(edit, SetGender):
        if edit.gender is not None and edit.gender not in GENDERS:
            raise ConfigError(f"gender {edit.gender!r} unknown: use female, male or unknown")
        table = _voice_table(doc, edit.name)
        if edit.gender is None:
            if "gender" in table:
                del table["gender"]
        else:
            table["gender"] = edit.gender
    elif isinstance(edit, Merge):
        _merge(doc, edit)
    elif isinstance(edit, NotCharacter):
        _not_character(doc, edit.name)
    else:
        _fix_line(doc, edit)


def _characters(doc: Any) -> Any:
    if "characters" not in doc:
        doc["characters"] = tomlkit.table(is_super_table=True)
    return doc["characters"]


def _character_key(doc: Any, name: str) -> str | None:
    """The key of `name`'s table as written (names are matched in any case), or None."""
    characters = doc.get("characters", {})
    return next((key for key in characters if key.casefold() == name.casefold()), None)


def _voice_table(doc: Any, name: str) -> Any:
    """The table that holds `name`'s voice: [narrator], or [characters.NAME] (made if missing)."""
    if name.casefold() == NARRATOR:
        if "narrator" not in doc:
            doc["narrator"] = tomlkit.table()
        return doc["narrator"]
    key = _character_key(doc, name)
    if key is None:
        characters = _characters(doc)
        characters[name] = tomlkit.table()
        key = name
    return doc["characters"][key]


def _merge(doc: Any, edit: Merge) -> None:
    if NARRATOR in (edit.name.casefold(), edit.into.casefold()):
        raise ConfigError("the narrator cannot be merged: merge two characters")
    if edit.name.casefold() == edit.into.casefold():
        raise ConfigError(f"{edit.name} cannot be merged with themselves: choose another character")
    names = [edit.name]
    old = _character_key(doc, edit.name)
    if old is not None:
        names += [str(a) for a in doc["characters"][old].get("aliases", [])]
        del doc["characters"][old]
    names += [a for a in edit.aliases if _character_key(doc, a) is None]  # not another character's own name
    into = _character_key(doc, edit.into)
    own = doc["characters"][into].get("aliases", []) if into is not None else []
    theirs = {edit.into.casefold()} | {str(a).casefold() for a in own}
    names = [name for name in names if name.casefold() not in theirs]  # the target's own names stay as they are
    _drop_alias(doc, names)
    target = _voice_table(doc, edit.into)
    if "aliases" not in target:
        target["aliases"] = tomlkit.array()
    aliases = target["aliases"]
    for name in names:
        if name.casefold() != edit.into.casefold() and all(str(a).casefold() != name.casefold() for a in aliases):
            aliases.append(name)


def _drop_alias(doc: Any, names: Sequence[str]) -> None:
    """Take `names` off every character's aliases (a name belongs to one character)."""
    wanted = {name.casefold() for name in names}
    for table in doc.get("characters", {}).values():
        aliases = table.get("aliases")
        if aliases is None:
            continue
        for index in reversed(range(len(aliases))):
            if str(aliases[index]).casefold() in wanted:
                del aliases[index]


def _not_character(doc: Any, name: str) -> None:
    if name.casefold() == NARRATOR:
        raise ConfigError("the narrator is not a name in the story: mark a character")
    key = _character_key(doc, name)
    if key is not None:
        del doc["characters"][key]
    _drop_alias(doc, [name])
    if "not_characters" not in doc:
        doc["not_characters"] = tomlkit.table()
    table = doc["not_characters"]
    if "names" not in table:
        table["names"] = tomlkit.array()
    if all(str(n).casefold() != name.casefold() for n in table["names"]):
        table["names"].append(name)


def _fix_line(doc: Any, edit: FixLine) -> None:
    if "lines" not in doc:
        doc["lines"] = tomlkit.aot()
    if edit.replaces is not None:
        for entry in doc["lines"]:
            if " ".join(str(entry.get("quote", "")).split()) == edit.replaces:
                entry["speaker"] = edit.speaker
                return
    entry = tomlkit.table()
    entry["quote"] = edit.quote
    entry["speaker"] = edit.speaker
    entry.trivia.indent = "" if tomlkit.dumps(doc).endswith("\n\n") else "\n"  # a blank line before it
    doc["lines"].append(entry)
