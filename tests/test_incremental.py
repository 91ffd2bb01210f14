"""Incremental builds: the cache is used, a recast touches only that character, damage is repaired."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiobook.build import likely_to_make_audio
from audiobook.cli import app
from audiobook.plan import BuildOptions

ONE = """The Gate

Rin met Len at the gate. He was holding two tickets.

"Where are we going?" Rin asked.

"The fair," Len said.
"""
TWO = """The Fair

The fair was loud. Rin laughed.

"Look at the lights," Rin said.
"""
VOICES = """[book]
title = "Small Book"

[characters.Rin]
gender = "female"
voice = "en-us+f2"

[characters.Len]
gender = "male"
voice = "en-us+m2"
"""


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    source = tmp_path / "stories"
    source.mkdir()
    (source / "1.txt").write_text(ONE, encoding="utf-8")
    (source / "2.txt").write_text(TWO, encoding="utf-8")
    (tmp_path / "voices.toml").write_text(VOICES, encoding="utf-8")
    return tmp_path


def build(root: Path, *extra: str) -> tuple[int, int]:
    """Run the real CLI; return (clips synthesized, clips from cache)."""
    args = ["build", str(root / "stories"), "-o", str(root / "out"), "--voices", str(root / "voices.toml"), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    m = re.search(r"^Clips: (\d+) \((\d+) synthesized, (\d+) from cache\)$", result.stdout, re.M)
    assert m, result.stdout
    return int(m.group(2)), int(m.group(3))


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted((root / "out" / "Small Book").glob("*.mp3"))}


def test_second_build_synthesizes_nothing_and_rewrites_nothing(book: Path) -> None:
    synthesized, cached = build(book)
    assert synthesized > 0 and cached == 0
    before = files(book)
    assert build(book) == (0, synthesized)
    assert files(book) == before  # same bytes, not even rewritten


def test_recast_touches_only_that_characters_clips(book: Path) -> None:
    build(book)
    before = files(book)
    voices = book / "voices.toml"
    voices.write_text(voices.read_text().replace('voice = "en-us+m2"', 'voice = "en-us+m4"'))
    synthesized, _ = build(book)
    assert synthesized == 1  # Len's one line
    after = files(book)
    assert after["02 - The Fair.mp3"] == before["02 - The Fair.mp3"]  # Len is not in chapter 2
    assert after["01 - The Gate.mp3"][0] != before["01 - The Gate.mp3"][0]


def test_truncated_cache_files_are_detected_and_rebuilt(book: Path) -> None:
    build(book)
    before = files(book)
    cache = book / "out" / ".cache"
    for path in [*cache.glob("clips/*/*.wav"), *cache.glob("mp3/*/*.mp3")]:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    for path in (book / "out" / "Small Book").glob("*.mp3"):
        path.unlink()  # so the chapters must be made again from the cache
    synthesized, cached = build(book)
    assert cached == 0 and synthesized > 0
    assert {k: v[0] for k, v in files(book).items()} == {k: v[0] for k, v in before.items()}


def test_damaged_parts_are_encoded_again(book: Path) -> None:
    build(book)
    before = files(book)
    parts = sorted((book / "out" / ".cache").glob("mp3/*/*.mp3"))
    originals = {path: path.read_bytes() for path in parts}
    for path, data in originals.items():
        damaged = bytearray(data)
        damaged[len(data) * 2 // 3] ^= 0x55  # one byte inside the MP3 data: same length, frames still walk
        path.write_bytes(damaged)
    for path in (book / "out" / "Small Book").glob("*.mp3"):
        path.unlink()
    build(book)
    assert all(path.read_bytes() == data for path, data in originals.items())
    assert {k: v[0] for k, v in files(book).items()} == {k: v[0] for k, v in before.items()}


def test_chapters_no_longer_in_the_book_are_removed(book: Path) -> None:
    build(book)
    (book / "stories" / "2.txt").unlink()
    build(book)
    assert list(files(book)) == ["01 - The Gate.mp3", "Small Book.mp3"]


def test_cli_flags_override_voices_toml(book: Path) -> None:
    build(book, "--title", "Other Title", "--narrator-voice", "en-us+m1")
    assert sorted(p.name for p in (book / "out" / "Other Title").glob("*.mp3")) == [
        "01 - The Gate.mp3",
        "02 - The Fair.mp3",
        "Other Title.mp3",
    ]


def test_the_workers_server_starts_early_only_when_audio_is_likely(book: Path) -> None:
    """Before planning, a build guesses from file times whether it will make audio (then the
    workers' server boots while it plans); a rebuild with nothing changed must guess no."""
    options = BuildOptions(sources=(book / "stories",), output_dir=book / "out", voices_path=book / "voices.toml")
    assert likely_to_make_audio(options)  # nothing built yet
    build(book)
    assert not likely_to_make_audio(options)
    voices = book / "voices.toml"
    voices.write_text(voices.read_text().replace("en-us+m2", "en-us+m4"))
    a_second_later(voices, book)
    assert likely_to_make_audio(options)  # recast
    build(book)
    assert not likely_to_make_audio(options)
    (book / "stories" / "2.txt").write_text(TWO + "\nThe end.\n", encoding="utf-8")
    a_second_later(book / "stories" / "2.txt", book)
    assert likely_to_make_audio(options)  # a story edited


def a_second_later(path: Path, book: Path) -> None:
    """Date the last build a second before the edit of `path`, as a person's edit would come (file times
    can be coarse)."""
    manifest = book / "out" / "Small Book" / ".audiobook.json"
    edited = path.stat().st_mtime_ns
    os.utime(manifest, ns=(edited - 10**9, edited - 10**9))
