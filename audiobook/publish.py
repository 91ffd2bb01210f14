"""After the MP3s: the cover, a WebVTT transcript per chapter, JSON chapters and the podcast feed.

A thin step that turns the build's result into the feed's :class:`~audiobook.feed.Podcast` and
writes the files beside the MP3s. Without ``--base-url`` the feed points at ``audiobook serve``'s
default address; the server rewrites the links for whatever address it listens on anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from .atomic import write_bytes_atomic
from .cover import Cover, load_cover
from .feed import Episode, Podcast, check_base_url, write_feed
from .plan import BuildResult
from .transcript import write_vtt

__all__ = [
    "COVER_NAME",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Published",
    "check_publish_options",
    "default_base_url",
    "publish",
]

COVER_NAME = "cover.jpg"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@dataclass(frozen=True)
class Published:
    """The files written beside the MP3s, and the address the feed links them from."""

    feed_path: Path
    cover_path: Path
    vtt_paths: tuple[Path, ...]
    base_url: str


def default_base_url(book_dir: Path) -> str:
    return f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/{quote(book_dir.name)}/"


def check_publish_options(base_url: str | None, cover: Path | None) -> None:
    """Raise the error ``publish`` would, before the long part of the build."""
    if base_url is not None:
        check_base_url(base_url)
    if cover is not None:
        load_cover(cover)


def publish(result: BuildResult, art: Cover, published: datetime, base_url: str | None = None) -> Published:
    """Write cover.jpg, ``NN - Title.vtt`` and ``NN - Title.chapters.json`` per chapter, and feed.xml
    dated `published`."""
    plan = result.plan
    book_dir = result.book_dir
    cover_path = book_dir / COVER_NAME
    write_bytes_atomic(cover_path, art.jpeg)
    volumes = {c.number: c.script.story.volume for c in plan.chapters}
    seasons = {volume: n for n, volume in enumerate(dict.fromkeys(v for v in volumes.values() if v), 1)}
    episodes = []
    for chapter in result.chapters:
        vtt = write_vtt(chapter.path.with_suffix(".vtt"), chapter.cues)
        volume = volumes.get(chapter.number)
        episodes.append(Episode(chapter.number, chapter.title, chapter.path, chapter.duration_ms, chapter.marks, vtt,
                                seasons.get(volume) if volume else None, volume))
    podcast = Podcast(
        title=plan.title,
        author=plan.author,
        language=plan.config.language,
        book_dir=book_dir,
        episodes=tuple(episodes),
        published=published,
        cover_path=cover_path,
    )
    base_url = base_url or default_base_url(book_dir)
    feed_path = write_feed(podcast, base_url)
    return Published(feed_path, cover_path, tuple(e.vtt_path for e in episodes if e.vtt_path), base_url)
