"""The mentions of a story's characters, in text order, kept in blocks: a mention added anywhere
(the sieve adds them as it reads, between those cast discovery found over the whole book) costs
the length of one block, not of the book, so attribution stays linear in the book's length."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    character: str  # the character's id (its name)


BLOCK_MENTIONS = 512  # a block is split in two when it holds twice as many


class Mentions(Sequence[Mention]):
    """Mentions by their start; one added goes before any with the same start (where
    `list.insert(bisect_left(starts, start), mention)` would put it)."""

    def __init__(self, mentions: Iterable[Mention] = ()) -> None:
        flat = list(mentions)
        self._blocks = [flat[k : k + BLOCK_MENTIONS] for k in range(0, len(flat), BLOCK_MENTIONS)]
        self._starts = [[m.start for m in block] for block in self._blocks]
        self._lasts = [starts[-1] for starts in self._starts]  # each block's last start
        self._count = len(flat)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Mention]:
        for block in self._blocks:
            yield from block

    def __reversed__(self) -> Iterator[Mention]:
        for block in reversed(self._blocks):
            yield from reversed(block)

    @overload
    def __getitem__(self, index: int) -> Mention: ...
    @overload
    def __getitem__(self, index: slice) -> list[Mention]: ...
    def __getitem__(self, index: int | slice) -> Mention | list[Mention]:
        return list(self)[index]  # (rare: the sieve asks by position, with before and between)

    def _locate(self, pos: int) -> tuple[int, int]:
        """The block and the index in it of the first mention starting at `pos` or later
        (the number of blocks and 0 if there is none)."""
        k = bisect_left(self._lasts, pos)
        return (k, bisect_left(self._starts[k], pos)) if k < len(self._blocks) else (k, 0)

    def add(self, mention: Mention) -> None:
        if not self._blocks:
            self._blocks, self._starts, self._lasts = [[]], [[]], [mention.start]
        k, i = self._locate(mention.start)
        if k == len(self._blocks):  # after them all
            k, i = k - 1, len(self._blocks[k - 1])
        block, starts = self._blocks[k], self._starts[k]
        block.insert(i, mention)
        starts.insert(i, mention.start)
        self._lasts[k] = starts[-1]
        self._count += 1
        if len(block) >= 2 * BLOCK_MENTIONS:
            half = len(block) // 2
            self._blocks[k : k + 1] = [block[:half], block[half:]]
            self._starts[k : k + 1] = [starts[:half], starts[half:]]
            self._lasts[k : k + 1] = [starts[half - 1], starts[-1]]

    def before(self, pos: int, count: int) -> list[Mention]:
        """The last `count` mentions starting before `pos`, the most recent first."""
        k, i = self._locate(pos)
        found: list[Mention] = []
        while len(found) < count and (k, i) != (0, 0):
            if i == 0:
                k -= 1
                i = len(self._blocks[k])
            block = self._blocks[k]
            first = max(0, i - (count - len(found)))
            found += block[first:i][::-1]
            i = first
        return found

    def between(self, pos: int, until: int) -> list[Mention]:
        """The mentions starting from `pos` up to `until`, in text order."""
        k, i = self._locate(pos)
        last, j = self._locate(until)
        if (k, i) >= (last, j):
            return []
        if k == last:
            return self._blocks[k][i:j] if k < len(self._blocks) else []
        found = self._blocks[k][i:]
        for block in self._blocks[k + 1 : last]:
            found += block
        if last < len(self._blocks):
            found += self._blocks[last][:j]
        return found
