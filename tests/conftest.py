"""A small book built with the real `audiobook build`, shared by the feed and server tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiobook.cli import app

# Shared markers for tests that need a system program as a reference or a reader (setup.sh installs
# both): `@pytest.mark.needs_espeak` / `@pytest.mark.needs_ffmpeg`, or `pytestmark = ...` for a file.
_PROGRAMS = {
    "needs_espeak": (("espeak-ng",), "needs the espeak-ng program (apt-get install espeak-ng, or bash setup.sh)"),
    "needs_ffmpeg": (("ffmpeg", "ffprobe"), "needs ffmpeg and ffprobe (apt-get install ffmpeg, or bash setup.sh)"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip, with the reason, a test marked as needing a program this machine lacks."""
    for marker, (programs, reason) in _PROGRAMS.items():
        if all(shutil.which(program) for program in programs):
            continue
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))

BOOK_TITLE = 'Tea & <Cake>: "Two" Tiny Tales 🎤'
STORIES = {
    "01 - first.txt": 'Rain & <Thunder> "Tonight" ☔\n\nMiku looked up at the sky. "Is it raining?" she asked.\n\n'
    '"Not yet," said Kaito. He smiled at her.\n\n\n\nLater, the sun came out over the tower.\n',
    "02 - second.txt": "The End\n\nIt ended quietly, and everyone went home.\n",
}


@dataclass(frozen=True)
class SmallBook:
    output: Path  # OUTDIR
    book_dir: Path
    stories: Path
    stdout: str


def build_small_book(root: Path, *extra: str) -> SmallBook:
    stories = root / "stories"
    stories.mkdir(parents=True, exist_ok=True)
    for name, text in STORIES.items():
        path = stories / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:  # keep the mtime: it dates the episodes
            path.write_text(text, encoding="utf-8")
    voices = root / "voices.toml"
    voices.write_text(
        f'[book]\ntitle = "{BOOK_TITLE.replace(chr(34), chr(92) + chr(34))}"\nauthor = "Ann & Bob"\n', encoding="utf-8"
    )
    output = root / "output"
    result = CliRunner().invoke(
        app, ["build", str(stories), "-o", str(output), "--voices", str(voices), "-j", "2", *extra]
    )
    assert result.exit_code == 0, result.output
    [book_dir] = [p for p in output.iterdir() if not p.name.startswith(".")]
    return SmallBook(output, book_dir, stories, result.stdout)


@pytest.fixture(scope="session")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> SmallBook:
    return build_small_book(tmp_path_factory.mktemp("small"))


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


def ffprobe(path: Path) -> dict:
    """What ffprobe reads in a file: its format, streams and chapters, as JSON."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", "-show_chapters", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def ebur128(path: Path) -> Loudness:
    """What ffmpeg's EBU R128 meter reads in a file: integrated loudness and true peak (4x oversampled)."""
    result = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:"):]
    integrated = re.search(r"^\s+I:\s+(-?[\d.]+|-inf) LUFS", summary, re.M)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert integrated and peak, summary
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def write_pictures_epub(path: Path) -> Path:
    """A valid EPUB whose only page is a picture: a book with nothing to read aloud."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("pics")
    book.set_title("Pictures")
    page = epub.EpubHtml(title="Page", file_name="p.xhtml")
    page.content = "<html><body><img src='a.png'/></body></html>"
    book.add_item(page)
    book.toc = [epub.Link("p.xhtml", "Page", "p")]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [page]
    epub.write_epub(str(path), book)
    return path
