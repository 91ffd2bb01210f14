"""Which casting file a book uses: a `voices.toml` belongs to its book.

* ``--voices FILE``: that file, always.
* A ``voices.toml`` beside the sources (inside the book's folder, or beside a story file in
  another folder than the current one) is that book's.
* A ``voices.toml`` in the current folder applies only when it was written for this book: its
  ``[book] title`` is the book's title, or the book mentions at least half of its characters (or
  it names neither, being settings for any book, such as a narrator's voice). Otherwise the book
  is built with the built-in voices, and :attr:`CastingFile.note` says why in one line.

So a novel built from a project folder whose ``voices.toml`` casts other stories is neither
retitled nor recast by it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import Config, load_config

VOICES_FILE = "voices.toml"
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class CastingFile:
    """The casting file a book is built with (None: the built-in voices), and why."""

    path: Path | None
    config: Config
    note: str | None = None  # one line, when a voices.toml was found but is another book's

    def describe(self) -> str:
        """For the build summary: which file cast the book."""
        used = str(self.path) if self.path is not None else "built-in voices"
        return f"{used} ({self.note})" if self.note else used


def beside_sources(sources: Sequence[Path]) -> Path | None:
    """The voices.toml that belongs to these sources: in the book's folder, or beside its first
    story file when that file is not in the current folder (there, the current folder's rule applies)."""
    if not sources:
        return None
    first = sources[0]
    if first.is_dir():
        candidate = first / VOICES_FILE
    elif first.parent.resolve() != Path.cwd().resolve():
        candidate = first.parent / VOICES_FILE
    else:
        return None
    return candidate if candidate.is_file() else None


def candidates(voices_path: Path | None, sources: Sequence[Path]) -> list[Path]:
    """Every casting file a build of `sources` might read (to tell whether one changed since the last build)."""
    if voices_path is not None:
        return [voices_path]
    found = [beside_sources(sources), Path(VOICES_FILE)]
    return [path for path in found if path is not None and path.is_file()]


def choose_casting_file(
    voices_path: Path | None, sources: Sequence[Path], title: str, texts: Sequence[str]
) -> CastingFile:
    """The casting file for the book titled `title` whose stories are `texts` (see the module's rules)."""
    if voices_path is not None:
        return CastingFile(voices_path, load_config(voices_path))
    beside = beside_sources(sources)
    if beside is not None:
        return CastingFile(beside, load_config(beside))
    here = Path(VOICES_FILE)
    if not here.is_file():
        return CastingFile(None, Config())
    config = load_config(here)
    if written_for(config, title, texts):
        return CastingFile(here, config)
    other = f'"{config.title}"' if config.title else "other stories"
    note = f"{here} is the casting of {other}, not of this book: pass --voices {here} to use it anyway"
    return CastingFile(None, Config(), note)


def written_for(config: Config, title: str, texts: Sequence[str]) -> bool:
    """Whether a casting file found in the current folder is this book's."""
    if config.title is None and not config.characters:
        return True  # settings for any book (a narrator's voice, pools)
    if config.title is not None and _words(config.title) == _words(title):
        return True
    mentioned = [entry.name for entry in config.characters if mentions(texts, (entry.name, *entry.aliases))]
    return bool(config.characters) and 2 * len(mentioned) >= len(config.characters)


def mentions(texts: Sequence[str], names: Sequence[str]) -> bool:
    """Whether any text mentions any of the names, as whole words."""
    return any(re.search(rf"\b{re.escape(name)}\b", text) for name in names for text in texts)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("&", "and"))
