"""Regex building blocks shared by the attribution modules."""

from __future__ import annotations

import re
from collections.abc import Iterable


def word_trie(words: Iterable[str]) -> str:
    """A regex alternation of `words` as a trie (`sa(?:id|ys?)`): the scanner tries one branch per
    letter instead of every word in turn. Wherever the words must end at a word boundary (or
    before a space or a dot), it matches what `word|word|…` matches."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(node[ch]) for ch in sorted(node) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)
