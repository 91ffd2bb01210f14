"""What attribution gives: a `Script`, every segment as a `Line` with its speaker, and the cast."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..load import Story
from ..segment import Kind, Segmentation
from .characters import Gender
from .context import Rule

NARRATOR = "narrator"  # the name of a first-person narrator whose name the text never reveals


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
    rule: Rule | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class Script:
    segmentation: Segmentation
    lines: tuple[Line, ...]
    characters: tuple[Character, ...]
    narrator: str | None  # the first-person narrator's name, NARRATOR if never revealed, None if third person

    @property
    def story(self) -> Story:
        return self.segmentation.story


def format_script(script: Script, rules: bool = False) -> str:
    """The story as a readable script: a heading per section, then `speaker: text` per run
    (`speaker [rule]: text` with `rules`, so that a diff of two scripts says which rule changed)."""
    story = script.story
    out: list[str] = []
    section = None
    for line in script.lines:
        para = story.paragraphs[line.paragraph]
        if para.section != section:
            section = para.section
            out.append(f"## {story.sections[section].title}")
        who = "narration" if line.kind == "narration" else (line.speaker or "?")
        if rules and line.kind == "dialogue":
            who += f" [{line.rule}]"
        text = " ".join(story.text[line.start : line.end].split())
        out.append(f"{who}: {text}")
    return "\n".join(out) + "\n"


def book_characters(scripts: Sequence[Script]) -> tuple[Character, ...]:
    """The speakers of a book's chapters (one cast), with their lines over all of them, most lines first."""
    first: dict[str, Character] = {}
    lines: Counter[str] = Counter()
    for script in scripts:
        for character in script.characters:
            first.setdefault(character.name, character)
            lines[character.name] += character.lines
    return tuple(replace(first[name], lines=n) for name, n in lines.most_common())
