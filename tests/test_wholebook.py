"""The whole book in one MP3 (and, with --m4b, one M4B) beside the chapter files, read by ffprobe and mutagen."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BOOK_TITLE, SmallBook, build_small_book, ebur128, ffprobe
from mutagen.id3 import ID3, CTOCFlags

from audiobook.build import safe_filename
from audiobook.wholebook import chapter_audio

CHAPTER_TITLES = ['Rain & <Thunder> "Tonight" ☔', "Second"]


def chapter_files(book: SmallBook) -> list[Path]:
    return sorted(book.book_dir.glob("[0-9]* - *.mp3"))


@pytest.fixture(scope="module")
def m4b_book(tmp_path_factory: pytest.TempPathFactory) -> SmallBook:
    return build_small_book(tmp_path_factory.mktemp("m4b"), "--m4b")


def test_named_for_the_book_beside_the_chapters(small_book: SmallBook) -> None:
    names = sorted(p.name for p in small_book.book_dir.glob("*.mp3"))
    assert names == ["01 - Rain & -Thunder- -Tonight- ☔.mp3", "02 - Second.mp3", f"{safe_filename(BOOK_TITLE)}.mp3"]
    assert not list(small_book.book_dir.glob("*.m4b"))  # only with --m4b


def test_its_audio_is_the_chapters_frames_one_after_another(small_book: SmallBook) -> None:
    whole = small_book.book_dir / f"{safe_filename(BOOK_TITLE)}.mp3"
    joined = b""
    for chapter in chapter_files(small_book):
        start, _ = chapter_audio(chapter, 64)
        joined += chapter.read_bytes()[start:]
    start, frames = chapter_audio(whole, 64)
    assert whole.read_bytes()[start:] == joined  # copied, not encoded again
    info = ffprobe(whole)
    assert abs(float(info["format"]["duration"]) - frames * 1152 / 44100) < 0.001
    assert (
        abs(
            float(info["format"]["duration"])
            - sum(float(ffprobe(c)["format"]["duration"]) for c in chapter_files(small_book))
        )
        < 0.001
    )


def test_a_chapter_per_story_in_order_for_ffprobe_and_mutagen(small_book: SmallBook) -> None:
    whole = small_book.book_dir / f"{safe_filename(BOOK_TITLE)}.mp3"
    info = ffprobe(whole)
    assert [c["tags"]["title"] for c in info["chapters"]] == CHAPTER_TITLES
    durations = [float(ffprobe(c)["format"]["duration"]) for c in chapter_files(small_book)]
    assert [float(c["start_time"]) for c in info["chapters"]] == pytest.approx([0, durations[0]], abs=0.001)
    assert float(info["chapters"][-1]["end_time"]) == pytest.approx(float(info["format"]["duration"]), abs=0.001)
    tags = info["format"]["tags"]
    assert (tags["title"], tags["album"], tags["artist"], tags["track"]) == (BOOK_TITLE, BOOK_TITLE, "Ann & Bob", "1/1")
    id3 = ID3(whole, translate=False)
    [toc] = id3.getall("CTOC")
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    chaps = {c.element_id: c for c in id3.getall("CHAP")}
    assert [chaps[i].sub_frames["TIT2"].text[0] for i in toc.child_element_ids] == CHAPTER_TITLES
    assert id3.getall("APIC")[0].data == (small_book.book_dir / "cover.jpg").read_bytes()
    transcript = id3.getall("USLT")[0].text
    assert (
        transcript.startswith(CHAPTER_TITLES[0]) and "\n\nSecond\n\n" in transcript and "Kaito: Not yet," in transcript
    )


def test_at_the_target_loudness(small_book: SmallBook) -> None:
    measured = ebur128(small_book.book_dir / f"{safe_filename(BOOK_TITLE)}.mp3")
    assert abs(measured.integrated_lufs + 19) <= 1.0 and measured.true_peak_dbtp <= -1.5, measured


def test_never_in_the_feed(small_book: SmallBook) -> None:
    feed = (small_book.book_dir / "feed.xml").read_text(encoding="utf-8")
    assert feed.count("<enclosure") == 2
    assert "Tiny%20Tales%20%F0%9F%8E%A4.mp3" not in feed and ".m4b" not in feed


def test_rebuilt_only_when_a_chapter_changes(tmp_path: Path) -> None:
    book = build_small_book(tmp_path)
    whole = book.book_dir / f"{safe_filename(BOOK_TITLE)}.mp3"
    before = (whole.read_bytes(), whole.stat().st_mtime_ns)
    build_small_book(tmp_path)
    assert (whole.read_bytes(), whole.stat().st_mtime_ns) == before  # nothing changed: not even rewritten
    build_small_book(tmp_path, "--narrator-voice", "en-us+m1")  # a recast: the chapters change, so does the book
    assert whole.read_bytes() != before[0]
    assert [c["tags"]["title"] for c in ffprobe(whole)["chapters"]] == CHAPTER_TITLES


def test_m4b_has_aac_chapters_and_the_cover(m4b_book: SmallBook) -> None:
    m4b = m4b_book.book_dir / f"{safe_filename(BOOK_TITLE)}.m4b"
    info = ffprobe(m4b)
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    cover = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert [(s["codec_name"], s["sample_rate"], s["channels"]) for s in audio] == [("aac", "44100", 1)]
    assert len(cover) == 1 and cover[0]["codec_name"] == "mjpeg" and cover[0]["disposition"]["attached_pic"] == 1
    whole = ffprobe(m4b_book.book_dir / f"{safe_filename(BOOK_TITLE)}.mp3")
    assert [c["tags"]["title"] for c in info["chapters"]] == CHAPTER_TITLES
    starts = [float(c["start_time"]) for c in info["chapters"]]
    assert starts == pytest.approx([float(c["start_time"]) for c in whole["chapters"]], abs=0.001)
    assert info["format"]["tags"]["title"] == BOOK_TITLE and info["format"]["tags"]["artist"] == "Ann & Bob"
    assert "mp4" in info["format"]["format_name"]
    measured = ebur128(m4b)
    assert abs(measured.integrated_lufs + 19) <= 1.0 and measured.true_peak_dbtp <= -1.5, measured
    assert not list(m4b_book.book_dir.glob(".*.partial"))
    assert ".m4b" not in (m4b_book.book_dir / "feed.xml").read_text(encoding="utf-8")


def test_m4b_is_not_rewritten_when_nothing_changed(m4b_book: SmallBook) -> None:
    m4b = m4b_book.book_dir / f"{safe_filename(BOOK_TITLE)}.m4b"
    before = m4b.stat().st_mtime_ns
    build_small_book(m4b_book.output.parent, "--m4b")
    assert m4b.stat().st_mtime_ns == before
