"""Nothing lost: every word of a story is spoken exactly once, in order.

`check_spoken` compares the words of the story with the words of everything that will be
read aloud. Quotation marks, scene-break lines and whitespace carry no words, so they may
be dropped; anything else missing, doubled or out of order is a bug and stops the build.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .errors import AudiobookError

MAX_WORD_CHARS = 100  # a longer run of letters is no word anyone says: it counts (and is spoken) in pieces this long
_WORD = re.compile(rf"[^\W_]{{1,{MAX_WORD_CHARS}}}")


def spoken_words(text: str) -> list[str]:
    """The words of a text, case-folded: what a listener must hear."""
    return [word.casefold() for word in _WORD.findall(text)]


def check_spoken(story_text: str, spoken: Sequence[str], path: Path | str) -> None:
    expected = spoken_words(story_text)
    actual = spoken_words(" ".join(spoken))
    if expected == actual:
        return
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), min(len(expected), len(actual))
    )
    context = " ".join(expected[max(0, at - 3) : at + 3])
    raise AudiobookError(
        f"{path}: internal error: the script would not speak every word once, near \"{context}\" "
        f"(word {at + 1}): please report this with the story file"
    )
