"""The podcast feed of a small real build, read by feedparser, lxml, ffprobe and mutagen."""

from __future__ import annotations

import html
import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from conftest import BOOK_TITLE, SmallBook, build_small_book
from lxml import etree

from audiobook.errors import PublishError
from audiobook.feed import Episode, Podcast, episode_guid, feed_xml, rebase_feed
from audiobook.tags import read_tags

PODCAST = "{https://podcastindex.org/namespace/1.0}"
BASE = "http://127.0.0.1:8000/"


def mp3s(book: SmallBook) -> list[Path]:
    return sorted(book.book_dir.glob("[0-9]* - *.mp3"))  # the chapters, not the whole-book file


def local(book: SmallBook, url: str) -> Path:
    """The file a feed URL names, for the default base URL."""
    assert url.startswith(BASE)
    return book.book_dir.parent / unquote(url[len(BASE):])


def test_feedparser_reads_the_feed_without_errors(small_book: SmallBook) -> None:
    parsed = feedparser.parse((small_book.book_dir / "feed.xml").read_bytes())

    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == BOOK_TITLE  # &, <, quotes and emoji survive
    assert parsed.feed.author == "Ann & Bob"
    assert parsed.feed.itunes_type == "serial"
    assert parsed.feed.language == "en"
    assert local(small_book, parsed.feed.image.href) == small_book.book_dir / "cover.jpg"


def test_one_item_per_chapter_with_exact_enclosures_durations_and_guids(small_book: SmallBook) -> None:
    parsed = feedparser.parse((small_book.book_dir / "feed.xml").read_bytes())
    files = mp3s(small_book)

    assert [e.title for e in parsed.entries] == ['Rain & <Thunder> "Tonight" ☔', "Second"]
    assert [e.itunes_episode for e in parsed.entries] == ["1", "2"]
    for entry, path in zip(parsed.entries, files, strict=True):
        [enclosure] = entry.enclosures
        assert local(small_book, enclosure.href) == path
        assert (enclosure.type, int(enclosure.length)) == ("audio/mpeg", path.stat().st_size)
        duration_s = read_tags(path).chapters[-1].end_ms / 1000
        h, m, s = (int(x) for x in entry.itunes_duration.split(":"))
        assert abs(h * 3600 + m * 60 + s - duration_s) <= 0.5
        assert entry.guidislink is False
        assert entry.id == episode_guid(BOOK_TITLE, int(entry.itunes_episode), entry.title)
        assert entry.summary_detail.type == "text/html"  # so the text was escaped as text: shown as written
        assert html.unescape(entry.summary) == f"Chapter {entry.itunes_episode} of {BOOK_TITLE}: {entry.title}"
    dates = [time.mktime(e.published_parsed) for e in parsed.entries]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert not any(e.enclosures[0].href.endswith(".m4b") for e in parsed.entries)


def test_podcast_chapters_json_matches_the_mp3_chapter_marks(small_book: SmallBook) -> None:
    root = etree.parse(str(small_book.book_dir / "feed.xml")).getroot()
    items = root.findall("channel/item")

    for item, path in zip(items, mp3s(small_book), strict=True):
        link = item.find(f"{PODCAST}chapters")
        assert link.get("type") == "application/json+chapters"
        document = json.loads(local(small_book, link.get("url")).read_text(encoding="utf-8"))
        assert document["version"] == "1.2.0"
        marks = read_tags(path).chapters
        assert [(round(c["startTime"] * 1000), c["title"]) for c in document["chapters"]] == [
            (m.start_ms, m.title) for m in marks
        ]


def test_podcast_transcript_is_webvtt_that_ffmpeg_reads_with_one_cue_per_line(small_book: SmallBook) -> None:
    root = etree.parse(str(small_book.book_dir / "feed.xml")).getroot()
    [first, _] = root.findall("channel/item")
    link = first.find(f"{PODCAST}transcript")
    assert (link.get("type"), link.get("language")) == ("text/vtt", "en")
    vtt = local(small_book, link.get("url"))
    text = vtt.read_text(encoding="utf-8")

    assert text.startswith("WEBVTT\n")
    assert "<v narrator>Rain &amp; &lt;Thunder&gt;" in text
    assert "<v Miku>Is it raining?" in text
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_packets", str(vtt)], capture_output=True, text=True, check=True
    )
    packets = json.loads(probe.stdout)["packets"]
    assert len(packets) == text.count(" --> ")
    starts = [float(p["pts_time"]) for p in packets]
    duration_s = read_tags(mp3s(small_book)[0]).chapters[-1].end_ms / 1000
    assert starts == sorted(starts) and starts[0] == 0 and starts[-1] < duration_s


def test_the_cover_is_a_square_jpeg_for_podcast_apps(small_book: SmallBook) -> None:
    from PIL import Image

    with Image.open(small_book.book_dir / "cover.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (1400, 1400))


def test_a_rebuild_writes_the_same_feed_byte_for_byte(tmp_path: Path) -> None:
    first = build_small_book(tmp_path)
    before = {p.name: p.read_bytes() for p in first.book_dir.iterdir()}

    again = build_small_book(tmp_path)

    assert "(0 synthesized, 9 from cache)" in again.stdout
    assert {p.name: p.read_bytes() for p in again.book_dir.iterdir()} == before


def test_base_url_sets_where_every_link_points(tmp_path: Path) -> None:
    book = build_small_book(tmp_path, "--base-url", "https://books.example.org/tea")
    parsed = feedparser.parse((book.book_dir / "feed.xml").read_bytes())

    assert parsed.bozo == 0
    hrefs = [parsed.feed.image.href, *(e.enclosures[0].href for e in parsed.entries)]
    assert all(h.startswith("https://books.example.org/tea/") for h in hrefs)
    assert parsed.entries[1].enclosures[0].href == "https://books.example.org/tea/02%20-%20Second.mp3"


def test_rebase_moves_every_link_and_keeps_guids(small_book: SmallBook) -> None:
    xml = (small_book.book_dir / "feed.xml").read_bytes()

    moved = feedparser.parse(rebase_feed(xml, "http://10.1.2.3:9000/x"))
    original = feedparser.parse(xml)

    assert moved.bozo == 0
    assert b"127.0.0.1:8000" not in rebase_feed(xml, "http://10.1.2.3:9000/x")
    assert [e.id for e in moved.entries] == [e.id for e in original.entries]
    assert moved.entries[1].enclosures[0].href == "http://10.1.2.3:9000/x/02%20-%20Second.mp3"


def _book(tmp_path: Path, name: str) -> Podcast:
    path = tmp_path / name
    path.write_bytes(b"\xff\xfb" * 10)
    episode = Episode(1, "One", path, 1000)
    return Podcast("T", "A", "en", tmp_path, (episode,), datetime(2024, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("name", "base_url", "message"),
    [
        ("book.m4b", BASE, "book.m4b: only MP3 files go in the feed; pass the chapter's MP3"),
        ("one.mp3", "ftp://example.org/", "--base-url 'ftp://example.org/': not an http(s) URL"),
        ("one.mp3", "example.org/book", "--base-url 'example.org/book': not an http(s) URL"),
    ],
)
def test_feed_errors_are_one_line_and_say_what_to_do(tmp_path: Path, name: str, base_url: str, message: str) -> None:
    with pytest.raises(PublishError) as error:
        feed_xml(_book(tmp_path, name), base_url)

    assert message in str(error.value) and "\n" not in str(error.value)


def test_control_characters_in_titles_do_not_break_the_xml(tmp_path: Path) -> None:
    book = _book(tmp_path, "one.mp3")
    episode = Episode(1, "One\x1b]", book.episodes[0].mp3_path, 1000)
    book = Podcast("Bell\x07 & <b>", "A\x00", "en", tmp_path, (episode,), book.published)

    parsed = feedparser.parse(feed_xml(book, BASE))

    assert parsed.bozo == 0
    assert (parsed.feed.title, parsed.entries[0].title) == ("Bell & <b>", "One]")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--base-url", "books.example.org"],
            "error: --base-url 'books.example.org': not an http(s) URL; pass one like",
        ),
        (["--cover", "missing.png"], "error: missing.png: no such cover image; check the path"),
    ],
)
def test_bad_publish_options_fail_before_any_synthesis(tmp_path: Path, extra: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from audiobook.cli import app

    story = tmp_path / "story.txt"
    story.write_text("Hello there.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["build", str(story), "-o", str(tmp_path / "out"), *extra])

    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not (tmp_path / "out" / ".cache").exists() or not any((tmp_path / "out" / ".cache").rglob("*.wav"))
