"""The podcast feed: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, one episode per chapter.

Built with feedgen (which has the iTunes extension built in) and a small extension of our own
for the ``podcast:`` namespace: ``podcast:chapters`` points at a Podcasting 2.0 JSON chapters
file written beside each MP3, ``podcast:transcript`` at its WebVTT transcript, and in a book of
volumes ``podcast:season`` (with ``itunes:season``) names each episode's volume. The GUIDs and
dates depend only on the book, never on when it was built, so a rebuild gives the same feed
and podcast apps do not see new episodes. Only MP3s go in the feed (never an M4B).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree

from .atomic import write_bytes_atomic
from .errors import PublishError
from .tags import ChapterMark

__all__ = [
    "CHAPTERS_TYPE",
    "FEED_NAME",
    "Episode",
    "Podcast",
    "chapters_json",
    "chapters_path",
    "check_base_url",
    "episode_guid",
    "feed_xml",
    "rebase_feed",
    "write_feed",
]

FEED_NAME = "feed.xml"
CHAPTERS_TYPE = "application/json+chapters"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
_EPISODE_SPACING = timedelta(minutes=1)  # between consecutive episodes' publication dates
_GUID_NAMESPACE = uuid.UUID("6f0b7c1e-3c55-5a4e-9f0e-0a75d10b0a5e")  # this project's own, fixed
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")  # not allowed in XML


@dataclass(frozen=True)
class Episode:
    """One chapter of the built book, as an episode."""

    number: int  # 1, 2, ... in reading order
    title: str
    mp3_path: Path
    duration_ms: int
    marks: tuple[ChapterMark, ...] = ()  # chapter marks inside the MP3, for podcast:chapters
    vtt_path: Path | None = None  # WebVTT transcript, for podcast:transcript
    season: int | None = None  # the volume it is in (1, 2, ...), for a book in volumes: itunes:season
    season_name: str | None = None  # that volume's title ("Volume II"): podcast:season's name


@dataclass(frozen=True)
class Podcast:
    """The built book as a podcast: the feed's channel, one episode per chapter.

    Every file must lie under ``book_dir``.
    """

    title: str
    author: str
    language: str  # BCP 47 / ISO 639-1, such as "en"
    book_dir: Path  # where feed.xml goes; base_url is this folder's URL
    episodes: tuple[Episode, ...]
    published: datetime  # the last episode's date; earlier ones are a minute apart before it
    cover_path: Path | None = None  # a square JPEG
    description: str = ""


class _PodcastExtension(BaseExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}


class _PodcastEntryExtension(BaseEntryExtension):
    """``podcast:chapters``, ``podcast:transcript`` and ``podcast:season`` for one item."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str | None, dict[str, str]]] = []

    def add(self, element: str, text: str | None = None, **attributes: str) -> None:
        self.links.append((element, text, attributes))

    def extend_rss(self, item: etree._Element) -> etree._Element:
        for element, text, attributes in self.links:
            node = xml_elem(f"{{{PODCAST_NS}}}{element}", item)
            node.text = text
            for name, value in attributes.items():
                node.set(name, value)
        return item


def episode_guid(book_title: str, number: int, title: str) -> str:
    """A GUID from the book title and the chapter's number and title: the same on every rebuild."""
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{book_title}\x00{number}\x00{title}"))


def chapters_path(mp3_path: Path) -> Path:
    """Where the JSON chapters file of an MP3 goes: beside it, ``NAME.chapters.json``."""
    return mp3_path.with_name(f"{mp3_path.stem}.chapters.json")


def chapters_json(episode: Episode) -> bytes:
    """The Podcasting 2.0 JSON chapters document for one episode (times in seconds)."""
    document = {
        "version": "1.2.0",
        "chapters": [{"startTime": mark.start_ms / 1000, "title": _text(mark.title)} for mark in episode.marks],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _text(value: str) -> str:
    """Text as XML can hold it: lxml escapes &, < and quotes, but control characters cannot be written at all."""
    return _CONTROL.sub("", value)


def _duration(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PublishError(f"--base-url {base_url!r}: not an http(s) URL; pass one like https://example.org/book/")
    return base_url if base_url.endswith("/") else base_url + "/"


def _url(base_url: str, book_dir: Path, path: Path) -> str:
    try:
        relative = Path(path).relative_to(book_dir)
    except ValueError:
        raise PublishError(
            f"{path}: not inside the book folder {book_dir}; the feed can only link files under it"
        ) from None
    return base_url + quote(relative.as_posix())


def feed_xml(podcast: Podcast, base_url: str) -> bytes:
    """The RSS document, with every link under ``base_url`` (the URL of ``podcast.book_dir``)."""
    base_url = check_base_url(base_url)
    if podcast.published.tzinfo is None:
        raise ValueError("Podcast.published must be timezone-aware")
    feed = FeedGenerator()
    feed.load_extension("podcast")  # feedgen's name for the iTunes namespace
    feed.register_extension("podcast_index", _PodcastExtension, _PodcastEntryExtension)
    title = _text(podcast.title)
    author = _text(podcast.author)
    feed.title(title)
    feed.author({"name": author})
    feed.link(href=base_url + FEED_NAME, rel="self", type="application/rss+xml")
    feed.link(href=base_url, rel="alternate")  # after "self": feedgen's RSS <link> is the last link set
    # A description is HTML by convention, so its text is HTML-escaped too (lxml then escapes the markup).
    feed.description(
        html.escape(_text(podcast.description) or f"{title}, by {author}: an audiobook, one episode per chapter.")
    )
    feed.language(podcast.language)
    feed.generator("audiobook")
    feed.lastBuildDate(podcast.published)
    feed.pubDate(podcast.published)
    feed.podcast.itunes_type("serial")
    feed.podcast.itunes_author(author)
    feed.podcast.itunes_explicit("no")
    feed.podcast.itunes_category("Arts", "Books")
    feed.podcast.itunes_complete("yes")
    if podcast.cover_path is not None:
        cover_url = _url(base_url, podcast.book_dir, podcast.cover_path)
        feed.image(url=cover_url, title=title, link=base_url)
        feed.podcast.itunes_image(cover_url)

    episodes = sorted(podcast.episodes, key=lambda e: e.number)
    for index, episode in enumerate(episodes):
        if episode.mp3_path.suffix.lower() != ".mp3":
            raise PublishError(f"{episode.mp3_path}: only MP3 files go in the feed; pass the chapter's MP3")
        try:
            size = episode.mp3_path.stat().st_size
        except OSError as exc:
            raise PublishError(f"{episode.mp3_path}: cannot read: {exc.strerror}; build the book first") from None
        entry = feed.add_entry(order="append")
        episode_title = _text(episode.title)
        mp3_url = _url(base_url, podcast.book_dir, episode.mp3_path)
        entry.title(episode_title)
        entry.guid(episode_guid(podcast.title, episode.number, episode.title), permalink=False)
        entry.link(href=mp3_url)
        entry.description(html.escape(f"Chapter {episode.number} of {title}: {episode_title}"))
        entry.enclosure(mp3_url, str(size), "audio/mpeg")
        entry.pubDate(podcast.published - _EPISODE_SPACING * (len(episodes) - 1 - index))
        entry.podcast.itunes_episode(episode.number)
        entry.podcast.itunes_episode_type("full")
        entry.podcast.itunes_duration(_duration(episode.duration_ms))
        if episode.season is not None:  # a podcast app lists a book's volumes as seasons
            entry.podcast.itunes_season(episode.season)
            name = {"name": _text(episode.season_name)} if episode.season_name else {}
            entry.podcast_index.add("season", str(episode.season), **name)
        if episode.marks:
            url = _url(base_url, podcast.book_dir, chapters_path(episode.mp3_path))
            entry.podcast_index.add("chapters", url=url, type=CHAPTERS_TYPE)
        if episode.vtt_path is not None:
            url = _url(base_url, podcast.book_dir, episode.vtt_path)
            entry.podcast_index.add("transcript", url=url, type="text/vtt", language=podcast.language)
    return feed.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8")


def write_feed(podcast: Podcast, base_url: str) -> Path:
    """Write each episode's JSON chapters beside its MP3, then ``feed.xml`` in the book folder."""
    for episode in podcast.episodes:
        if episode.marks:
            write_bytes_atomic(chapters_path(episode.mp3_path), chapters_json(episode))
    path = podcast.book_dir / FEED_NAME
    write_bytes_atomic(path, feed_xml(podcast, base_url))
    return path


def rebase_feed(xml: bytes, base_url: str) -> bytes:
    """The same feed with every link moved from its own base URL (that of its atom:link rel="self") to ``base_url``.

    ``audiobook serve`` uses this so the feed points at the server it came from.
    """
    base_url = check_base_url(base_url)
    root = etree.fromstring(xml)
    own = root.find("channel/{http://www.w3.org/2005/Atom}link[@rel='self']")
    href = own.get("href", "") if own is not None else ""
    if not href.endswith("/" + FEED_NAME):
        raise PublishError(f"{FEED_NAME} has no atom:link to itself; rebuild the book to rewrite it")
    old = href[: -len(FEED_NAME)]
    for element in root.iter():
        if element.text and element.text.startswith(old):
            element.text = base_url + element.text[len(old):]
        for name, value in element.attrib.items():
            if value.startswith(old):
                element.set(name, base_url + value[len(old):])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
