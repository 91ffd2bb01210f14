"""`voices.toml`: the book's details and its casting, validated with file and line in every error.

```toml
[book]
title = "Vocaloid Stories"
author = "Various"
language = "en"
loudness_lufs = -19  # integrated loudness of every clip and file (true peak at most -1.5 dBTP)

[narrator]
voice = "en+m3"      # eSpeak NG voice, optionally +variant
rate = 165           # words per minute
pitch = 45           # 0-99
volume = 1.0         # 1.0 = normal, up to 2.0
character_voice = true  # a first-person narrator who is a character narrates in their voice

[characters.Miku]
aliases = ["Hatsune Miku"]  # also who the story means by these names
gender = "female"
first_person = false # true: the "I" who narrates
voice = "en-us+f3"   # optional: without one, a voice from the pools
pitch = 60

[characters.Kaito]
voice = "piper:en_US-libritts_r-medium"  # a Piper neural voice (a model in the voices folder or a package)
speaker = 12         # one speaker of a multi-speaker model (also written "piper:NAME#12")

[not_characters]     # capitalised words that are never speakers
names = ["Paris"]

[[lines]]            # the user's word on one line of dialogue
quote = "Where did the pony go?"  # its start, enough to be unique in the book
speaker = "Miku"

[pools]              # voices for characters voices.toml does not list, by gender; engines may mix
female = ["en-us+f1", "en-us+f2", "piper:en_US-libritts_r-medium#3"]
male = ["en-us+m1", "en-us+m2"]

[engines.piper]
voices = "~/piper-voices"  # where Piper models are (default ~/.local/share/piper-voices); relative to this file

[build]
ray = "auto"         # make the clips on a Ray cluster: auto, HOST:PORT or ray://HOST:PORT (--ray overrides)
ray_runtime_env = { env_vars = { ESPEAK_DATA_PATH = "/opt/espeak-ng-data" } }  # Ray's runtime_env, as it is
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .cluster import check_address
from .errors import AudiobookError, ConfigError
from .loudness import LOUDNESS_RANGE_LUFS

GENDERS = ("female", "male")
DEFAULT_POOLS: dict[str, tuple[str, ...]] = {
    "female": (
        "en-us+f1", "en-us+f2", "en-us+f3", "en-us+f4", "en-us+f5", "en+f2", "en+f4",
        "en-us+Annie", "en-us+belinda", "en-us+linda", "en-us+steph", "en-us+anika",
    ),
    "male": (
        "en-us+m1", "en-us+m2", "en-us+m3", "en-us+m4", "en-us+m5", "en-us+m6", "en-us+m7",
        "en+m2", "en+m4", "en-us+Andy", "en-us+Storm", "en-us+travis",
    ),
}


@dataclass(frozen=True)
class VoiceConfig:
    """Voice settings as written; None means "not given" (a default applies)."""

    voice: str | None = None
    rate: int | None = None
    pitch: int | None = None
    volume: float | None = None
    speaker: int | None = None  # a speaker of a multi-speaker Piper model


@dataclass(frozen=True)
class CharacterConfig:
    name: str
    aliases: tuple[str, ...] = ()
    gender: str | None = None
    settings: VoiceConfig = VoiceConfig()
    line: int = 0  # where its table starts in voices.toml, for messages
    first_person: bool = False  # the "I" who narrates the chapters told in the first person


@dataclass(frozen=True)
class LineFix:
    """A `[[lines]]` entry: the line of dialogue starting with `quote` is `speaker`'s."""

    quote: str
    speaker: str
    line: int = 0  # where the entry starts in voices.toml, for messages


@dataclass(frozen=True)
class Config:
    """A casting file as read and validated: the book's details, the narrator's and each character's
    voice settings, the pools for everyone else, and pronunciations. ``Config()`` is the built-in casting."""

    path: Path | None = None
    title: str | None = None
    author: str | None = None
    language: str = "en"
    cover: Path | None = None  # relative paths are relative to voices.toml
    loudness_lufs: float | None = None  # None: loudness.DEFAULT_LOUDNESS_LUFS
    # author's notes and disclaimers: "read" under their own mark, or "skip"
    front_matter: Literal["read", "skip"] = "read"
    pronunciations: dict[str, str] = field(default_factory=dict)  # word -> how to say it
    narrator: VoiceConfig = VoiceConfig()
    narrator_character_voice: bool = True  # a first-person narrator who is a character reads in their voice
    characters: tuple[CharacterConfig, ...] = ()
    not_characters: tuple[str, ...] = ()  # names the attribution must never treat as speakers
    lines: tuple[LineFix, ...] = ()  # the user's word on single lines
    pools: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_POOLS))
    piper_voices: Path | None = None  # [engines.piper] voices: the Piper voices folder (None: the default)
    ray: str | None = None  # [build] ray: the Ray cluster that makes the clips (see audiobook.cluster)
    ray_runtime_env: dict[str, Any] | None = None  # [build] ray_runtime_env: given to ray.init as it is

    def line_of(self, *keys: str) -> int:
        """The line of a table or key in the file (1-based), 0 if unknown."""
        if self.path is None:
            return 0
        return _find_line(self.path.read_text(encoding="utf-8-sig"), keys)

    def where(self, *keys: str) -> str:
        line = self.line_of(*keys)
        return f"{self.path}:{line}" if line else str(self.path or "voices.toml")


_VOICE_KEYS = {"voice": str, "rate": int, "pitch": int, "volume": (int, float), "speaker": int}
_TABLE_KEYS: dict[str, dict[str, Any]] = {
    "book": {
        "title": str,
        "author": str,
        "language": str,
        "cover": str,
        "front_matter": str,
        "loudness_lufs": (int, float),
    },
    "narrator": {**_VOICE_KEYS, "character_voice": bool},
    "character": {**_VOICE_KEYS, "aliases": list, "gender": str, "first_person": bool},
    "pools": {"female": list, "male": list, "other": list},
    "engines.piper": {"voices": str},
    "not_characters": {"names": list},
    "line": {"quote": str, "speaker": str},
    "build": {"ray": str, "ray_runtime_env": dict},
}
_RANGES: dict[str, tuple[float, float]] = {
    "rate": (80, 450),
    "pitch": (0, 99),
    "volume": (0.0, 2.0),
    "speaker": (0, 99_999),
    "loudness_lufs": LOUDNESS_RANGE_LUFS,
}


def _find_line(raw: str, keys: tuple[str, ...]) -> int:
    """Line of `[a.b]` (keys = table path) or of `key =` inside it (last key); 0 if not found."""
    return _line_index(raw).get(keys, 0)


class _Lines:
    """The line of each table and key of a casting file, found when first asked for: table headers
    in one pass over the header lines only, every key only once a key is asked for (an error)."""

    def __init__(self, raw: str) -> None:
        self._raw = raw
        self._headers: dict[tuple[str, ...], int] | None = None
        self._all: dict[tuple[str, ...], int] | None = None

    def get(self, keys: tuple[str, ...], default: int = 0) -> int:
        if self._headers is None:
            self._headers = _header_lines(self._raw)
        found = self._headers.get(keys)
        if found is not None:
            return found
        if self._all is None:
            self._all = _line_index(self._raw)
        return self._all.get(keys, default)


_HEADER = re.compile(r"^[ \t]*\[[^\n]*", re.MULTILINE)


def _header_lines(raw: str) -> dict[tuple[str, ...], int]:
    """The line (1-based) of every table header, as `_line_index` finds them, newlines counted in C."""
    index: dict[tuple[str, ...], int] = {}
    entries: dict[tuple[str, ...], int] = {}
    number, pos = 1, 0
    for match in _HEADER.finditer(raw):
        number += raw.count("\n", pos, match.start())
        pos = match.start()
        _header(match.group().strip(), number, index, entries)
    return index


def _header(
    stripped: str, number: int, index: dict[tuple[str, ...], int], entries: dict[tuple[str, ...], int]
) -> tuple[str, ...] | None:
    """Record the table a header line opens (and an array of tables' entry); None if it is none."""
    close = stripped.find("]")
    if close <= 1:
        return None
    inner = stripped[1:close].strip("[ \t")
    parts = _split_dotted(inner) if '"' in inner or "'" in inner else inner.split(".")
    table = tuple(_unquote(part) for part in parts)
    index.setdefault(table, number)
    if stripped.startswith("[["):  # an array of tables: its entries counted, ("lines", "#0"), ...
        entries[table] = entries.get(table, -1) + 1
        index[table + (f"#{entries[table]}",)] = number
    return table


def _line_index(raw: str) -> dict[tuple[str, ...], int]:
    """The line (1-based) of every table header and key in the file, first one wins: one pass over
    the file, so that a casting file of any size is checked in linear time."""
    index: dict[tuple[str, ...], int] = {}
    entries: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(raw.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        if stripped[0] == "[":
            opened = _header(stripped, number, index, entries)
            if opened is not None:
                table = opened
                continue
        key, equals, _ = stripped.partition("=")
        if equals and key:
            index.setdefault(table + (_unquote(key),), number)
    return index


def _split_dotted(key: str) -> list[str]:
    """`characters."Dr. Who"` -> ['characters', '"Dr. Who"']: dots inside quotes do not split."""
    parts = [""]
    for token in _DOTTED_TOKEN.findall(key):
        if token == ".":
            parts.append("")
        else:
            parts[-1] += token
    return parts


_DOTTED_TOKEN = re.compile(r""""[^"]*"?|'[^']*'?|[^."']+|\.""")  # a quoted part (dots inside), a bare run, a dot


def _unquote(part: str) -> str:
    return part.strip().strip("\"'").strip()


def load_config(path: Path | None) -> Config:
    """Read and fully validate a voices.toml; None gives the built-in defaults."""
    if path is None:
        return Config()
    try:
        raw = path.read_text(encoding="utf-8-sig")  # a BOM (Windows Notepad) is not part of the TOML
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file: check --voices, or leave it out to use built-in voices") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = _toml(raw)
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: values nested too deeply: flatten the file") from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        message = re.sub(r"\s*\(at line.*\)", "", str(exc))
        raise ConfigError(f"{where}: invalid TOML: {message}: fix the syntax") from None
    return _parse(path, _Lines(raw), data)


def _toml(raw: str) -> dict[str, Any]:
    """The TOML document: rtoml (Rust) reads a big casting file ten times faster than tomllib; anything
    it refuses is read again by tomllib, whose result or error (with its familiar message) then holds."""
    try:
        import rtoml
    except ImportError:  # a platform without its wheel: the standard library's parser alone
        return tomllib.loads(raw)
    try:
        return rtoml.loads(raw)
    except (rtoml.TomlParsingError, ValueError):  # e.g. nesting deeper than rtoml's limit, or bad syntax
        return tomllib.loads(raw)


def _check_table(path: Path, lines: _Lines, table: tuple[str, ...], data: Any, kind: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:{lines.get(table, 0) or 1}: [{'.'.join(table)}] must be a table")
    name = f"[{'.'.join(table)}]"
    for key, value in data.items():
        problem = _problem(name, kind, key, value)
        if problem:
            line = lines.get(table + (key,), 0) or lines.get(table, 0) or 1
            raise ConfigError(f"{path}:{line}: {problem}")


def _problem(table: str, kind: str, key: str, value: Any) -> str:
    """What is wrong with one key of a table (unknown, of the wrong type, out of range); "" if nothing."""
    allowed = _TABLE_KEYS[kind]
    if key in allowed and not isinstance(value, (bool, list)) and isinstance(value, allowed[key]):
        if key not in _RANGES or kind == "line" or _RANGES[key][0] <= value <= _RANGES[key][1]:
            if key != "gender" or value in GENDERS:
                return ""  # the common case, checked without building a message
    if key not in allowed:
        return f"unknown key '{key}' in {table}: use one of {', '.join(sorted(allowed))}"
    expected = allowed[key]
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        names = {
            str: "a string", int: "a whole number", list: "a list", (int, float): "a number", bool: "true or false",
            dict: "a table",
        }
        return f"'{key}' must be {names[expected]}, not {value!r}"
    if key in _RANGES and kind != "line" and not _RANGES[key][0] <= value <= _RANGES[key][1]:
        low, high = _RANGES[key]
        return f"'{key}' = {value} is out of range: use {low} to {high}"
    if key == "gender" and value not in GENDERS:
        return f"gender '{value}' unknown: use \"female\" or \"male\""
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        return f"'{key}' must be a list of strings"
    return ""


def _line_fixes(path: Path, lines: _Lines, data: Any) -> tuple[LineFix, ...]:
    """`[[lines]]`: each entry a quote and a speaker, each quote given once."""
    if isinstance(data, list) and not data:
        return ()
    table_line = lines.get(("lines",), 0) or 1
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise ConfigError(f'{path}:{table_line}: lines must be [[lines]] tables: quote = "..." and speaker = "..."')
    fixes: list[LineFix] = []
    seen: dict[str, int] = {}
    for k, entry in enumerate(data):
        line = lines.get(("lines", f"#{k}"), 0) or table_line
        for key, value in entry.items():
            problem = _problem("[[lines]]", "line", key, value)
            if problem:
                raise ConfigError(f"{path}:{line}: {problem}")
        for key in ("quote", "speaker"):
            if not str(entry.get(key, "")).strip():
                raise ConfigError(
                    f'{path}:{line}: [[lines]] needs {key} = "...": the start of the line of dialogue and who says it'
                )
        quote = " ".join(entry["quote"].split())
        if quote.casefold() in seen:
            first = seen[quote.casefold()]
            raise ConfigError(f"{path}:{line}: this quote is already fixed at line {first}: keep one entry")
        seen[quote.casefold()] = line
        fixes.append(LineFix(quote, " ".join(entry["speaker"].split()), line))
    return tuple(fixes)


def _voice(data: dict) -> VoiceConfig:
    volume = data.get("volume")
    return VoiceConfig(
        data.get("voice"),
        data.get("rate"),
        data.get("pitch"),
        None if volume is None else float(volume),
        data.get("speaker"),
    )


def _piper_voices(path: Path, lines: _Lines, data: Any) -> Path | None:
    """[engines.piper] voices, relative to voices.toml's folder (~ expanded); None if not given."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:{lines.get(('engines',), 0) or 1}: [engines] must be a table: write [engines.piper]")
    for key in data:
        if key != "piper":
            line = lines.get(("engines", key), 0) or lines.get(("engines",), 0) or 1
            raise ConfigError(f"{path}:{line}: unknown engine [engines.{key}]: use [engines.piper]")
    piper = data.get("piper", {})
    _check_table(path, lines, ("engines", "piper"), piper, "engines.piper")
    return path.parent / Path(piper["voices"]).expanduser() if "voices" in piper else None


def _parse(path: Path, lines: _Lines, data: dict) -> Config:
    for key in data:
        tables = (
            "book", "narrator", "characters", "pools", "pronunciations", "engines", "not_characters", "lines", "build"
        )
        if key not in tables:
            line = lines.get((key,), 0) or 1
            raise ConfigError(
                f"{path}:{line}: unknown table [{key}]: use [book], [narrator], [characters.NAME], [pools],"
                " [pronunciations], [engines.piper], [not_characters], [[lines]] or [build]"
            )
    book = data.get("book", {})
    _check_table(path, lines, ("book",), book, "book")
    narrator = data.get("narrator", {})
    _check_table(path, lines, ("narrator",), narrator, "narrator")
    pools_data = data.get("pools", {})
    _check_table(path, lines, ("pools",), pools_data, "pools")
    build = data.get("build", {})
    _check_table(path, lines, ("build",), build, "build")
    if "ray" in build:
        try:
            check_address(build["ray"])
        except AudiobookError as error:
            raise ConfigError(f"{path}:{lines.get(('build', 'ray'), 0) or 1}: {error}") from None
    characters = []
    claimed: dict[str, str] = {}
    chars_data = data.get("characters", {})
    if not isinstance(chars_data, dict):
        raise ConfigError(
            f"{path}:{lines.get(('characters',), 0) or 1}: 'characters' must be tables: [characters.NAME]"
        )
    for name, entry in chars_data.items():
        table = ("characters", name)
        _check_table(path, lines, table, entry, "character")
        line = lines.get(table, 0)
        for alias in (name, *entry.get("aliases", [])):
            other = claimed.get(alias.lower())
            if other is not None and other != name:
                alias_line = lines.get(table + ("aliases",), 0) or line
                raise ConfigError(
                    f"{path}:{alias_line}: '{alias}' is claimed by both {other} and {name}: "
                    f"keep it under one character"
                )
            claimed[alias.lower()] = name
        characters.append(
            CharacterConfig(
                name, tuple(entry.get("aliases", [])), entry.get("gender"), _voice(entry), line,
                entry.get("first_person", False),
            )
        )
    not_characters = data.get("not_characters", {})
    _check_table(path, lines, ("not_characters",), not_characters, "not_characters")
    for name in not_characters.get("names", []):
        if name.lower() in claimed:
            line = lines.get(("not_characters", "names"), 0) or 1
            owner = claimed[name.lower()]
            raise ConfigError(
                f"{path}:{line}: '{name}' is in [not_characters] and is {owner}'s name: keep it in one place"
            )
    front_matter = book.get("front_matter", "read")
    if front_matter not in ("read", "skip"):
        line = lines.get(("book", "front_matter"), 0) or 1
        raise ConfigError(f'{path}:{line}: front_matter = "{front_matter}" unknown: use "read" or "skip"')
    pronunciations = data.get("pronunciations", {})
    if not isinstance(pronunciations, dict):
        raise ConfigError(
            f'{path}:{lines.get(("pronunciations",), 0) or 1}: [pronunciations] must be a table of word = "spoken form"'
        )
    for word, spoken in pronunciations.items():
        if not isinstance(spoken, str) or not spoken.strip() or not word.strip():
            line = lines.get(("pronunciations", word), 0) or 1
            raise ConfigError(
                f'{path}:{line}: pronunciation of "{word}" must be a non-empty string: write {word} = "how to say it"'
            )
    pools = dict(DEFAULT_POOLS)
    pools.update({k: tuple(v) for k, v in pools_data.items()})
    for gender, voices in pools.items():
        if not voices:
            line = lines.get(("pools", gender), 0) or 1
            raise ConfigError(f"{path}:{line}: pool '{gender}' is empty: list at least one voice")
    return Config(
        path=path,
        title=book.get("title"),
        author=book.get("author"),
        language=book.get("language", "en"),
        cover=path.parent / book["cover"] if "cover" in book else None,
        loudness_lufs=None if "loudness_lufs" not in book else float(book["loudness_lufs"]),
        front_matter=front_matter,
        pronunciations=dict(pronunciations),
        narrator=_voice(narrator),
        narrator_character_voice=narrator.get("character_voice", True),
        characters=tuple(characters),
        not_characters=tuple(" ".join(n.split()) for n in not_characters.get("names", []) if n.strip()),
        lines=_line_fixes(path, lines, data.get("lines", [])),
        pools=pools,
        piper_voices=_piper_voices(path, lines, data.get("engines", {})),
        ray=build.get("ray"),
        ray_runtime_env=build.get("ray_runtime_env"),
    )
