"""Mentions kept in blocks behave as the sorted list they replace (`list.insert` at `bisect_left`)."""

from bisect import bisect_left

from hypothesis import given
from hypothesis import strategies as st

from audiobook.attribution import mentions as mentions_module
from audiobook.attribution.mentions import Mention, Mentions


class _Plain:
    """The list the blocks replace: insert at bisect_left of the starts, slice around a position."""

    def __init__(self, found: list[Mention]) -> None:
        self.items = list(found)

    def add(self, m: Mention) -> None:
        self.items.insert(bisect_left([x.start for x in self.items], m.start), m)

    def before(self, pos: int, count: int) -> list[Mention]:
        i = bisect_left([x.start for x in self.items], pos)
        return self.items[max(0, i - count) : i][::-1]

    def between(self, pos: int, until: int) -> list[Mention]:
        starts = [x.start for x in self.items]
        return self.items[bisect_left(starts, pos) : bisect_left(starts, until)]


@given(
    st.lists(st.integers(0, 300), max_size=60),
    st.lists(st.integers(0, 300), max_size=200),
    st.lists(st.tuples(st.integers(-5, 310), st.integers(-5, 310), st.integers(0, 70)), max_size=20),
)
def test_blocks_keep_the_order_of_a_sorted_list(found, added, asked):
    mentions_module.BLOCK_MENTIONS = 4  # small blocks: every query crosses several, and blocks split
    try:
        first = [Mention(s, s + 3, f"found {k}") for k, s in enumerate(sorted(found))]
        blocks, plain = Mentions(first), _Plain(first)
        for k, s in enumerate(added):  # same starts too: the one added last comes first
            blocks.add(Mention(s, s, f"added {k}"))
            plain.add(Mention(s, s, f"added {k}"))
        assert list(blocks) == plain.items and len(blocks) == len(plain.items)
        assert list(reversed(blocks)) == plain.items[::-1]
        for pos, until, count in asked:
            assert blocks.before(pos, count) == plain.before(pos, count)
            assert blocks.between(pos, until) == plain.between(pos, until)
    finally:
        mentions_module.BLOCK_MENTIONS = 512


def test_an_empty_story_has_no_mentions():
    empty = Mentions()
    assert empty.before(10, 5) == [] and empty.between(0, 10) == [] and list(empty) == []
    empty.add(Mention(3, 5, "Ann"))
    assert empty.before(10, 5) == [Mention(3, 5, "Ann")] and empty.between(4, 10) == []
