"""Regex building blocks: a trie of words, and words found before capitals by reading backwards."""

import re

import pytest

from audiobook.attribution.patterns import before_capital, matches_at, word_starts, word_trie


def test_word_starts_finds_each_listed_word_standing_before_a_capital() -> None:
    text = "She said Tom. unsaid Ann; said  \n Bo, said x, his cousin Miss Lee, her sister Miss Ann"
    said = word_starts(text, before_capital(["said", "sister"]))
    assert said == [text.index("said Tom"), text.index("said  \n"), text.index("sister")]
    nouns = word_starts(text, before_capital(["cousin Miss", "sister", "Ann"], r"\s+,?"))
    # a capital inside one word (`cousin Miss`) still opens another (`sister Miss`)
    assert nouns == [text.index("cousin"), text.index("sister")]
    with pytest.raises(ValueError, match="'Miss' ends another"):
        before_capital(["cousin Miss", "Miss"])  # one capital, one word: `Miss Lee` would never be found


def test_matches_at_finds_what_finditer_finds() -> None:
    pattern = re.compile(rf"\b(?:{word_trie(['the', 'a', 'another'])})\s+([A-Z][a-z]+)")
    text = "the King and a Queen met another Knave; the Zoo, the\nDuke, athe Cat, the X."
    starts = word_starts(text, before_capital(["the", "a", "another"]))
    assert [m.span() for m in matches_at(pattern, text, starts)] == [m.span() for m in pattern.finditer(text)]
    assert [m.group(1) for m in matches_at(pattern, text, starts, 10, 60)] == ["Queen", "Knave", "Zoo", "Duke"]
