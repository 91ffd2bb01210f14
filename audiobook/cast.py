"""Cast stage: every speaker gets a voice, from voices.toml or from per-gender pools.

Automatic voices are stable: each character ranks the pool by a hash of its own name and
takes its favourite voice still free (rendezvous hashing), characters in order of first
appearance, so adding a character later in a book does not move anyone else's voice.
Voices stay distinct from the narrator's and each other's while the pool lasts.

A character whose gender stays unknown never draws from the women's or the men's pool (a coin
flip between the two would give every other such character the wrong kind of voice): it gets a
voice from `[pools] other`, voices the user chose as neutral, or else the narrator's own voice
at another pitch, as a human narrator reads a speaker the text leaves open.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Literal

from .attribution import NARRATOR, Script
from .casting_file import mentions
from .config import Config, VoiceConfig
from .engine import Voice
from .errors import ConfigError, EngineError

Source = Literal["voices.toml", "auto", "default"]
NARRATOR_DEFAULT = VoiceConfig(voice="en", rate=165, pitch=45, volume=1.0)
CHARACTER_DEFAULT = VoiceConfig(voice=None, rate=170, pitch=50, volume=1.0)
_PITCH_STEP = 15  # when a pool runs out, voices are reused this much higher or lower


@dataclass(frozen=True)
class Role:
    """Someone who reads lines in the book, the narrator included, and the voice they read in."""

    name: str
    voice: Voice
    source: Source
    gender: str | None = None
    lines: int = 0


@dataclass(frozen=True)
class Casting:
    """Who reads what in which voice: the cast stage's result, asked with :meth:`role_for`."""

    narrator: Role
    roles: tuple[Role, ...]
    names: dict[str, str]  # lowercased speaker name or alias -> role name

    def role_for(self, speaker: str | None) -> Role:
        """The role reading a line; unattributed dialogue is read by the narrator."""
        if speaker is None:
            return self.narrator
        name = self.names.get(speaker.lower())
        for role in self.roles:
            if role.name == name:
                return role
        return self.narrator


def voice_of(settings: VoiceConfig, defaults: VoiceConfig = CHARACTER_DEFAULT) -> Voice:
    """The voice `settings` describe, what they leave out taken from `defaults`: the one place voice defaults apply."""
    given = {f.name: getattr(settings, f.name) for f in fields(settings) if getattr(settings, f.name) is not None}
    full = replace(defaults, **given)
    if full.voice is None or full.rate is None or full.pitch is None or full.volume is None:
        raise ValueError(f"no voice id in {settings} or its defaults {defaults}")  # a bug: callers give one
    voice_id = full.voice if settings.speaker is None else f"{full.voice.partition('#')[0]}#{settings.speaker}"
    return Voice(voice_id, full.rate, full.pitch, full.volume)


def _rank(name: str, pool: Sequence[str]) -> list[str]:
    return sorted(pool, key=lambda v: hashlib.sha256(f"{name.lower()}|{v}".encode()).hexdigest())


def cast(
    scripts: Sequence[Script],
    config: Config,
    check_voice: Callable[[Voice], None],
    declared_gender: Callable[[Voice], str | None] = lambda voice: None,
) -> Casting:
    """Cast the narrator and every speaker of the scripts. A role's gender is its voice's: the
    gender voices.toml lists, else for a voice it chose, the pool holding it or the gender the
    voice declares (`declared_gender`: "en-us+f3" is a woman's, whoever the text says speaks);
    an automatic voice's is the pool's it was drawn from (None: a neutral voice)."""
    narrator_voice = voice_of(config.narrator, NARRATOR_DEFAULT)
    _checked(check_voice, narrator_voice, config, ("narrator", "voice"))
    narrator = Role("narrator", narrator_voice, "voices.toml" if config.narrator.voice else "default")

    names: dict[str, str] = {}
    for entry in config.characters:
        for form in (entry.name, *entry.aliases):
            names[form.lower()] = entry.name
    # Speakers in order of first appearance, with their detected genders and aliases.
    order: list[str] = []
    genders: dict[str, str | None] = {}
    lines: dict[str, int] = {}
    for script in scripts:
        found = {c.name: c for c in script.characters}
        for line in script.lines:
            if line.kind != "dialogue" or not line.speaker or line.speaker == NARRATOR:
                continue  # the narrator's own lines are read in the narration's voice
            key = line.speaker.lower()
            if key not in names:
                character = found.get(line.speaker)
                aliases = character.aliases if character else ()
                target = next((names[a.lower()] for a in aliases if a.lower() in names), line.speaker)
                names[key] = target
                for alias in aliases:
                    names.setdefault(alias.lower(), target)
            name = names[key]
            if name not in lines:
                order.append(name)
                genders[name] = found[line.speaker].gender if line.speaker in found else None
            lines[name] = lines.get(name, 0) + 1

    configured = {entry.name: entry for entry in config.characters}
    taken = {(narrator_voice.voice_id, narrator_voice.pitch)}
    roles: dict[str, Role] = {}
    for entry in config.characters:
        if entry.settings.voice:
            voice = voice_of(entry.settings)
            _checked(check_voice, voice, config, ("characters", entry.name, "voice"))
            taken.add((voice.voice_id, voice.pitch))
            gender = entry.gender or _pool_gender(voice.voice_id, config) or declared_gender(voice)
            roles[entry.name] = Role(entry.name, voice, "voices.toml", gender, lines.get(entry.name, 0))
    for pool_name, pool in config.pools.items():
        for voice_id in pool:
            _checked(check_voice, Voice(voice_id), config, ("pools", pool_name))
    for name in order:
        if name in roles:
            continue
        listed = configured.get(name)  # in voices.toml, without a voice id
        gender = (listed.gender if listed else None) or genders.get(name)
        settings = listed.settings if listed else VoiceConfig()
        pool = config.pools.get(gender or "other", ())
        if pool:
            voice = _auto_voice(name, pool, settings, taken)
        else:  # unknown gender and no neutral voices chosen: the narrator's voice, at another pitch
            voice = _narrator_variant(name, narrator_voice, settings, taken)
            gender = None  # a pool missing for a gender falls back to the narrator's voice too
        taken.add((voice.voice_id, voice.pitch))
        roles[name] = Role(name, voice, "auto", gender if gender in ("female", "male") else None, lines[name])
    ordered = [roles[n] for n in order] + [r for n, r in roles.items() if n not in order]
    return Casting(narrator, tuple(ordered), names)


def _pool_gender(voice_id: str, config: Config) -> str | None:
    """"female" or "male" when the casting's pool of that gender (and no other) lists the voice."""
    holding = {g for g, pool in config.pools.items() if voice_id in pool and g in ("female", "male")}
    return holding.pop() if len(holding) == 1 else None


def _auto_voice(name: str, pool: Sequence[str], settings: VoiceConfig, taken: set[tuple[str, int]]) -> Voice:
    """A voice from the pool for a character voices.toml gives no voice id (its other settings still apply)."""
    ranked = _rank(name, pool)
    pitch = voice_of(replace(settings, voice=ranked[0])).pitch
    used = {voice_id for voice_id, _ in taken}
    for voice_id in ranked:  # a voice nobody has yet, at any pitch
        if voice_id not in used:
            return voice_of(replace(settings, voice=voice_id, pitch=pitch))
    # then voices already taken, at a pitch apart
    for offset in (0, _PITCH_STEP, -_PITCH_STEP, 2 * _PITCH_STEP, -2 * _PITCH_STEP):
        shifted = max(0, min(99, pitch + offset))
        for voice_id in ranked:
            if (voice_id, shifted) not in taken:
                return voice_of(replace(settings, voice=voice_id, pitch=shifted))
    return voice_of(replace(settings, voice=ranked[0], pitch=pitch))


def _narrator_variant(name: str, narrator: Voice, settings: VoiceConfig, taken: set[tuple[str, int]]) -> Voice:
    """The narrator's voice id at a pitch of its own: the nearest pitches first (each character
    takes its favourite of the two at the same distance, by a hash of its name), never the narrator's;
    once all are taken, its favourite of them all. A pitch voices.toml gives is kept."""
    if settings.pitch is not None:
        return voice_of(replace(settings, voice=narrator.voice_id))
    pitches: list[int] = []
    for distance in (_PITCH_STEP, 2 * _PITCH_STEP, _PITCH_STEP // 2, 3 * _PITCH_STEP // 2):
        pair = {max(0, min(99, narrator.pitch + sign * distance)) for sign in (1, -1)} - {narrator.pitch, *pitches}
        pitches += sorted(pair, key=lambda p: hashlib.sha256(f"{name.lower()}|{p}".encode()).hexdigest())
    free = [p for p in pitches if (narrator.voice_id, p) not in taken]
    pitch = free[0] if free else min(pitches, key=lambda p: hashlib.sha256(f"{name.lower()}|{p}".encode()).hexdigest())
    return voice_of(replace(settings, voice=narrator.voice_id, pitch=pitch))


def _checked(check_voice: Callable[[Voice], None], voice: Voice, config: Config, keys: tuple[str, ...]) -> None:
    try:
        check_voice(voice)
    except EngineError as exc:
        if config.path is None:
            raise
        raise ConfigError(f"{config.where(*keys)}: {exc}") from None


@dataclass(frozen=True)
class CastEntry:
    """One row of `audiobook cast`: a speaker, what they say, and the voice they get."""

    name: str
    aliases: tuple[str, ...]
    gender: str | None
    lines: int
    words: int
    first_line: str
    voice: Voice
    source: Source
    first_person: bool = False  # the "I" who narrates chapters told in the first person


def cast_entries(scripts: Sequence[Script], casting: Casting) -> list[CastEntry]:
    """Every role that speaks, in order of first appearance, with counts and first line."""
    lines: dict[str, list[str]] = {}
    aliases: dict[str, set[str]] = {}
    for script in scripts:
        for character in script.characters:
            name = casting.role_for(character.name).name
            aliases.setdefault(name, set()).update(a for a in (character.name, *character.aliases) if a != name)
        for line in script.lines:
            if line.kind == "dialogue" and line.speaker:
                role = casting.role_for(line.speaker).name
                lines.setdefault(role, []).append(" ".join(script.story.text[line.start : line.end].split()))
    narrators = {
        casting.role_for(script.narrator).name for script in scripts if script.narrator and script.narrator != NARRATOR
    }
    entries = []
    for cast_role in casting.roles:
        said = lines.get(cast_role.name, [])
        if not said:
            continue
        words = sum(len(re.findall(r"[^\W_]+", text)) for text in said)
        entries.append(
            CastEntry(cast_role.name, tuple(sorted(aliases.get(cast_role.name, ()))), cast_role.gender, len(said),
                      words, said[0], cast_role.voice, cast_role.source, cast_role.name in narrators)
        )
    return entries


def unmentioned(config: Config, scripts: Sequence[Script]) -> list[str]:
    """Characters in voices.toml that no story mentions by any of their names: usually a typo."""
    texts = [script.story.text for script in scripts]
    return [entry.name for entry in config.characters if not mentions(texts, (entry.name, *entry.aliases))]


def starter_voices_toml(entries: Sequence[CastEntry], narrator: Voice, unnamed_narrator: bool = False) -> str:
    """A voices.toml casting everyone found, to edit by hand: each character with the aliases,
    gender and voice found, `first_person` for the narrator, and a comment with how many lines
    they speak and the first one."""
    out = [
        "# Casting written by `audiobook cast --write`: the characters found, their other names",
        "# (aliases), gender and voice. Fix what is wrong, then rebuild: names and genders decide who",
        "# speaks each line, and only the lines that change are spoken again. A character needs no",
        "# voice; [not_characters] names = [...] are never speakers; a [[lines]] entry (quote, speaker)",
        "# fixes one line. Voices: `audiobook voices`. Lines: `audiobook segment --find WORDS`.",
        "",
        "[book]",
        '# title = "My Book"',
        '# author = "Me"',
        "",
        "[narrator]",
        f'voice = "{narrator.voice_id}"',
        f"rate = {narrator.rate_wpm}            # words per minute",
        f"pitch = {narrator.pitch}            # 0-99",
        f"volume = {narrator.volume}          # 1.0 = normal",
    ]
    if unnamed_narrator:
        out += ["", "# Told in the first person by someone the story never names: list them as a character",
                "# with first_person = true to give their lines (and, with [narrator] character_voice, the",
                "# narration) their own voice."]
    for entry in entries:
        first = entry.first_line if len(entry.first_line) <= 60 else entry.first_line[:57] + "…"
        out += ["", f"# {entry.lines} line{'s' if entry.lines != 1 else ''}, first: {first}"]
        out.append(f"[characters.{_toml_key(entry.name)}]")
        if entry.aliases:
            out.append("aliases = [" + ", ".join(_toml_string(a) for a in entry.aliases) + "]")
        if entry.gender:
            out.append(f'gender = "{entry.gender}"')
        if entry.first_person:
            out.append("first_person = true")
        out += [
            f'voice = "{entry.voice.voice_id}"',
            f"rate = {entry.voice.rate_wpm}",
            f"pitch = {entry.voice.pitch}",
        ]
    return "\n".join(out) + "\n"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_string(name)
