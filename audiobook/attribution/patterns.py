"""Regex building blocks shared by the attribution modules."""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    """A pattern for the text read backwards (`word_starts`): a capital A-Z, `between` (reversed),
    and one of `words` reversed, standing at the start of a word (no word character before it).

    Forwards, a pattern opening with the words (`\\b(?:said|asked|…)\\s+[A-Z]`) is tried at nearly
    every letter of a book; backwards it opens with the capital, and the scanner jumps from one
    capital to the next."""
    return re.compile(rf"[A-Z]{between}(?:{word_trie(word[::-1] for word in words)})(?!\w)")


def word_starts(text: str, backwards: re.Pattern[str]) -> list[int]:
    """Where in `text` the words a `before_capital` pattern finds start, in text order: every word
    of its list standing before a capital so (the capital is in no match but its own, so none is missed)."""
    n = len(text)
    return [n - m.end() for m in backwards.finditer(text[::-1])][::-1]
