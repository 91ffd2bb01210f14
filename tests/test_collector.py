"""The cycle collector is paused while a book is attributed, and comes back as it was."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from audiobook.attribution import attribute
from audiobook.attribution.collector import collector_paused
from audiobook.load import parse_story
from audiobook.segment import segment


def test_paused_inside_and_enabled_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # attribute_book calls attribute_chapters: nested
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_stays_off_if_it_was_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_resumed_by_the_last_of_several_threads() -> None:
    inside = threading.Barrier(2)
    first_left = threading.Event()

    def first() -> None:
        with collector_paused():
            inside.wait()
        first_left.set()

    def second() -> None:
        with collector_paused():
            inside.wait()
            first_left.wait()
            assert not gc.isenabled()  # the other thread left; this one still holds it

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_enabled_after_attribution_even_when_it_fails() -> None:
    script = attribute(segment(parse_story(Path("s.txt"), '"Hello," said Anna.\n', "utf-8")))
    assert script.lines and gc.isenabled()
    try:
        attribute(None)  # type: ignore[arg-type]
    except AttributeError:
        pass
    assert gc.isenabled()
