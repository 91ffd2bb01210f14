"""Regex building blocks shared by the attribution modules."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator

# After a word's first letter: no word character before it (`\b` before the word, checked one letter on;
# pass it to `word_trie` as `after_first`). With a hyphen: not inside `Mary-Anne` either.
STARTED_WORD = r"(?<!\w.)"
STARTED_NAME = r"(?<![\w-].)"


def word_trie(words: Iterable[str], after_first: str = "") -> str:
    """A regex alternation of `words` as a trie (`sa(?:id|ys?)`): the scanner tries one branch per
    letter instead of every word in turn. Wherever the words must end at a word boundary (or
    before a space or a dot), it matches what `word|word|…` matches.

    `after_first` goes after each word's first letter: a look-behind such as `(?<!\\w.)`, which is
    `\\b` before the word, checked after its first letter. A pattern that opens with such a trie
    opens with a literal in each branch, and the scanner jumps from one first letter to the next
    instead of trying the whole pattern at every character of the text."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict], after: str = "") -> str:
        branches = [re.escape(ch) + after + emit(node[ch]) for ch in sorted(node) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    if after_first and "" in tree:
        raise ValueError("an empty word has no first letter")
    return emit(tree, after_first)


def before_capital(words: Iterable[str], between: str = r"\s+") -> re.Pattern[str]:
    """A pattern for the text read backwards (`word_starts`): a capital A-Z followed by `between`
    (reversed) and one of `words` reversed, standing at the start of a word (no word character
    before it). The capital is all it consumes (the rest is a look-ahead, group 1 its end), so no
    capital is passed over.

    Forwards, a pattern opening with the words (`\\b(?:said|asked|…)\\s+[A-Z]`) is tried at nearly
    every letter of a book; backwards it opens with the capital, and the scanner jumps from one
    capital to the next."""
    words = list(words)
    for word in words:  # (one capital gives one word: the longest)
        if any(other.endswith(word) and not other[-len(word) - 1].isalnum() for other in words if other != word):
            raise ValueError(f"{word!r} ends another of the words: only the longer would be found")
    return re.compile(rf"[A-Z](?=({between}(?:{word_trie(word[::-1] for word in words)}))(?!\w))")


def word_starts(text: str, backwards: re.Pattern[str]) -> list[int]:
    """Where in `text` the words a `before_capital` pattern finds start, in text order."""
    n = len(text)
    return [n - m.end(1) for m in backwards.finditer(text[::-1])][::-1]


def matches_at(
    pattern: re.Pattern[str], text: str, starts: list[int], start: int = 0, end: int | None = None
) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text, start, end)` finds, for a pattern that matches no empty string
    and nowhere but at `starts` (in order): tried there only, each after the last match."""
    end = len(text) if end is None else end
    last = start
    for k in range(bisect_left(starts, start), len(starts)):
        if starts[k] >= end:
            break
        if starts[k] >= last and (m := pattern.match(text, starts[k], end)):
            last = m.end()
            yield m
