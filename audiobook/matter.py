"""Front matter: author's notes, disclaimers and edit notes around a story, a volume's title page,
illustration markers and ``END OF VOL. I.`` lines: read or skipped.

The loader marks those sections "front-matter" or "back-matter". With ``front_matter =
"read"`` (the default) the narrator reads them under their own chapter mark; with ``"skip"``
their lines are left out of the audio. The chapter's title line is always read, even when
the loader counted it into the first (front-matter) section.

`expected_text` is what the spoken-words check compares against: the story text with the
scene dividers and any skipped paragraphs blanked (same length, so offsets still hold).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from .attribution import Script
from .load import Story

FrontMatter = Literal["read", "skip"]
FRONT_MATTER_CHOICES: tuple[FrontMatter, ...] = ("read", "skip")
MATTER_KINDS = frozenset({"front-matter", "back-matter"})


def skipped_paragraphs(story: Story, front_matter: FrontMatter) -> frozenset[int]:
    """Indexes of the paragraphs left out of the audio."""
    if front_matter not in FRONT_MATTER_CHOICES:
        raise ValueError(f"front_matter must be one of {FRONT_MATTER_CHOICES}, not {front_matter!r}")
    if front_matter == "read":
        return frozenset()
    return frozenset(
        i
        for i, p in enumerate(story.paragraphs)
        if not p.is_title and story.sections[p.section].kind in MATTER_KINDS
    )


def drop_matter(script: Script, front_matter: FrontMatter) -> Script:
    """The script without the lines of skipped paragraphs (the same script when reading them).

    A heading inside skipped matter (``VOL. II.`` on a volume's title page) is still read, at the
    start of the section that follows it, so it is not left under a mark of its own.
    """
    story = script.story
    skipped = skipped_paragraphs(story, front_matter)
    if not skipped:
        return script
    paragraphs = list(story.paragraphs)
    following = None
    for i in reversed(range(len(paragraphs))):
        paragraph = paragraphs[i]
        if i in skipped:
            continue
        if not paragraph.is_title:
            following = paragraph.section
        elif following is not None and story.sections[paragraph.section].kind in MATTER_KINDS:
            paragraphs[i] = replace(paragraph, section=following)
    segmentation = replace(script.segmentation, story=replace(story, paragraphs=tuple(paragraphs)))
    lines = tuple(line for line in script.lines if line.paragraph not in skipped)
    return replace(script, segmentation=segmentation, lines=lines)


def expected_text(story: Story, front_matter: FrontMatter) -> str:
    """The story text a listener should hear: scene dividers and skipped paragraphs replaced by spaces.

    A divider such as ``xXx`` or ``oOoOo`` has letters, but the loader reads it as a scene
    break, so it is not a word to speak.
    """
    blanks = list(story.dividers)
    blanks += [(story.paragraphs[i].start, story.paragraphs[i].end) for i in skipped_paragraphs(story, front_matter)]
    if not blanks:
        return story.text
    pieces = []
    pos = 0
    for start, end in sorted(blanks):
        pieces += [story.text[pos:start], " " * (end - start)]
        pos = end
    pieces.append(story.text[pos:])
    return "".join(pieces)


def skipped_sections(story: Story, front_matter: FrontMatter) -> tuple[str, ...]:
    """Titles of the sections left out entirely, for the build summary ("Author's note")."""
    skipped = skipped_paragraphs(story, front_matter)
    if not skipped:
        return ()
    read = {p.section for i, p in enumerate(story.paragraphs) if i not in skipped and not p.is_title}
    return tuple(
        s.title for n, s in enumerate(story.sections) if s.kind in MATTER_KINDS and n not in read
    )
