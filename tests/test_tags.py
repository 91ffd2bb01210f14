"""Tests for audiobook.tags against real MP3s made by ffmpeg, read back by
ffprobe, by mutagen, and by a small ID3v2.3 parser of the raw bytes."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import mutagen
import pytest
from conftest import ffprobe
from hypothesis import given, settings
from hypothesis import strategies as st
from id3raw import id3v2_tag_size, raw_chapters, raw_frames
from mutagen.id3 import ID3, CTOCFlags

from audiobook import tags as tags_module
from audiobook.errors import AudiobookError, TagError
from audiobook.tags import ChapterMark, Tags, read_tags, write_tags

pytestmark = pytest.mark.needs_ffmpeg

DURATION_S = 6

# Time order differs from size order: the first chapter has the longest title,
# and the next ones are short, long, shortest, medium.
CHAPTERS = (
    ChapterMark("Prologue: in which a very long chapter title goes on and on", 0, 1000),
    ChapterMark("I. Rain", 1000, 2500),
    ChapterMark("II. The lighthouse keeper's second, rather longer, letter", 2500, 3000),
    ChapterMark("III", 3000, 4500),
    ChapterMark("Epilogue, short", 4500, 6000),
)

TAGS = Tags(
    title="Chapter Book",
    artist="A. Author",
    album="The Book",
    track=2,
    track_total=7,
    language="eng",
    chapters=CHAPTERS,
)


# --- helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def source_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One untagged-by-us 6 s MP3 per module (ffmpeg adds its own small ID3v2.4 tag)."""
    path = tmp_path_factory.mktemp("source") / "sine.mp3"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION_S}",
         "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "64k", str(path)],
        check=True,
    )
    return path


@pytest.fixture
def mp3(source_mp3: Path, tmp_path: Path) -> Path:
    path = tmp_path / "book.mp3"
    shutil.copyfile(source_mp3, path)
    return path


def audio_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return data[id3v2_tag_size(data):]


def assert_one_line_naming(error: pytest.ExceptionInfo[TagError], path: Path) -> None:
    message = str(error.value)
    assert str(path) in message
    assert "\n" not in message
    assert isinstance(error.value, AudiobookError)


# --- what players see ------------------------------------------------------------


def test_ffprobe_lists_chapters_in_time_order_with_titles_and_times(mp3: Path) -> None:
    write_tags(mp3, TAGS)

    probe = ffprobe(mp3)

    assert [(c["start"], c["end"], c["tags"]["title"]) for c in probe["chapters"]] == [
        (c.start_ms, c.end_ms, c.title) for c in CHAPTERS
    ]
    assert all(c["time_base"] == "1/1000" for c in probe["chapters"])
    format_tags = probe["format"]["tags"]
    assert format_tags["title"] == "Chapter Book"
    assert format_tags["artist"] == "A. Author"
    assert format_tags["album"] == "The Book"
    assert format_tags["track"] == "2/7"
    assert format_tags["genre"] == "Audiobook"
    assert format_tags["language"] == "eng"


def test_mutagen_reads_back_v23_tag_with_ordered_top_level_toc(mp3: Path) -> None:
    write_tags(mp3, TAGS)

    assert read_tags(mp3) == TAGS
    id3 = ID3(mp3, translate=False)
    assert id3.version == (2, 3, 0)
    [toc] = id3.getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    chapter_ids = [f"ch{i}" for i in range(len(CHAPTERS))]
    assert toc.child_element_ids == chapter_ids
    assert sorted(chap.element_id for chap in id3.getall("CHAP")) == chapter_ids
    assert str(id3["TRCK"]) == "2/7"


def test_chap_frames_are_stored_in_time_order_after_the_toc(mp3: Path) -> None:
    write_tags(mp3, TAGS)

    data = mp3.read_bytes()

    assert raw_chapters(data) == [(f"ch{i}", c.start_ms, c.end_ms) for i, c in enumerate(CHAPTERS)]
    frame_ids = [frame_id for frame_id, _ in raw_frames(data)]
    assert frame_ids.index("CTOC") < frame_ids.index("CHAP")
    assert frame_ids[-len(CHAPTERS):] == ["CHAP"] * len(CHAPTERS)


def test_plain_mutagen_would_store_chapters_in_size_order(mp3: Path) -> None:
    """Proves the ordering tests can fail: mutagen's own writer sorts frames
    by size, and ffprobe then lists the chapters in that (wrong) order."""
    write_tags(mp3, TAGS)
    plain = ID3(mp3, translate=False)
    plain.save(mp3, v2_version=3)  # same frames, mutagen's ordering

    stored = raw_chapters(mp3.read_bytes())
    time_order = [(f"ch{i}", c.start_ms, c.end_ms) for i, c in enumerate(CHAPTERS)]
    assert sorted(stored) == time_order  # same chapters...
    assert stored != time_order  # ...in another order
    by_title_length = sorted(range(len(CHAPTERS)), key=lambda i: len(CHAPTERS[i].title))
    assert [element_id for element_id, _, _ in stored] == [f"ch{i}" for i in by_title_length]
    ffprobe_starts = [c["start"] for c in ffprobe(mp3)["chapters"]]
    assert ffprobe_starts != sorted(ffprobe_starts)  # ffmpeg ignores the CTOC: CHAPs in file order


# --- text encodings --------------------------------------------------------------


def test_non_latin1_titles_round_trip_as_utf16(mp3: Path) -> None:
    title = "初音ミク — “Hope”"
    tags = Tags(
        title=title, artist="Émile Zola", album="Café ☕", track=1, track_total=1,
        chapters=(ChapterMark(title, 0, 3000), ChapterMark("Zwei – “ß”", 3000, 6000)),
    )
    write_tags(mp3, tags)

    assert read_tags(mp3) == tags
    assert [c["tags"]["title"] for c in ffprobe(mp3)["chapters"]] == [title, "Zwei – “ß”"]
    assert ffprobe(mp3)["format"]["tags"]["title"] == title
    # v2.3 knows only Latin-1 (0) and UTF-16 with BOM (1); UTF-8 (3) would be invalid.
    frames = dict(raw_frames(mp3.read_bytes()))
    assert frames["TIT2"][:3] in (b"\x01\xff\xfe", b"\x01\xfe\xff")
    assert frames["TPE1"][:1] == b"\x00"  # "Émile" fits Latin-1, so it stays compact
    assert frames["TALB"][:1] == b"\x01"  # "☕" does not


# --- errors ------------------------------------------------------------------------


def test_missing_file_is_a_tag_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "book.mp3"
    with pytest.raises(TagError) as error:
        write_tags(missing, TAGS)
    assert_one_line_naming(error, missing)
    with pytest.raises(TagError) as error:
        read_tags(missing)
    assert_one_line_naming(error, missing)


def test_directory_is_a_tag_error(tmp_path: Path) -> None:
    with pytest.raises(TagError) as error:
        write_tags(tmp_path, TAGS)
    assert_one_line_naming(error, tmp_path)


def test_text_file_named_mp3_is_a_tag_error_and_left_alone(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp3"
    fake.write_text("Once upon a time\nthere was no audio.\n" * 20)
    before = fake.read_bytes()

    with pytest.raises(TagError) as error:
        write_tags(fake, TAGS)
    assert_one_line_naming(error, fake)
    assert "not a readable MP3" in str(error.value)
    assert fake.read_bytes() == before
    with pytest.raises(TagError) as error:
        read_tags(fake)
    assert_one_line_naming(error, fake)


def test_read_of_an_mp3_without_our_tag_is_a_tag_error(mp3: Path) -> None:
    # ffmpeg's own tag has no TRCK, so it is not a tag write_tags made.
    with pytest.raises(TagError) as error:
        read_tags(mp3)
    assert_one_line_naming(error, mp3)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write read-only files")
def test_read_only_file_is_a_tag_error(mp3: Path) -> None:
    mp3.chmod(0o444)
    with pytest.raises(TagError) as error:
        write_tags(mp3, TAGS)
    assert_one_line_naming(error, mp3)


def test_save_failure_becomes_a_one_line_tag_error(mp3: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stands in for an unwritable file when the tests run as root."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise mutagen.MutagenError(PermissionError(13, "Permission denied\n(read-only)"))

    monkeypatch.setattr(tags_module._TimeOrderedID3, "save", refuse)
    with pytest.raises(TagError) as error:
        write_tags(mp3, TAGS)
    assert_one_line_naming(error, mp3)
    assert "Permission denied" in str(error.value)


# --- rewriting ----------------------------------------------------------------------


def test_rewriting_replaces_the_tag_and_leaves_the_audio_alone(mp3: Path) -> None:
    original_audio = audio_bytes(mp3)
    original_duration = ffprobe(mp3)["format"]["duration"]
    assert "TSSE" in ID3(mp3)  # ffmpeg's "encoded by" frame, to be replaced
    mp3.write_bytes(mp3.read_bytes() + b"TAG" + b"\x00" * 125)  # and an ID3v1 tag, to be removed
    shorter = Tags(
        title="Second", artist="B", album="Other", track=1, track_total=1,
        chapters=(ChapterMark("Only", 0, 6000),),
    )

    write_tags(mp3, TAGS)
    write_tags(mp3, shorter)

    assert read_tags(mp3) == shorter
    frame_ids = [frame_id for frame_id, _ in raw_frames(mp3.read_bytes())]
    assert sorted(frame_ids) == ["CHAP", "CTOC", "TALB", "TCON", "TIT2", "TPE1", "TRCK"]
    assert raw_chapters(mp3.read_bytes()) == [("ch0", 0, 6000)]
    assert audio_bytes(mp3) == original_audio  # no second tag, no v1 tag, same audio frames
    assert ffprobe(mp3)["format"]["duration"] == original_duration
    assert len(ffprobe(mp3)["chapters"]) == 1


def test_tags_without_chapters_write_no_toc(mp3: Path) -> None:
    tags = Tags(title="T", artist="A", album="B", track=1, track_total=1)
    write_tags(mp3, tags)
    assert read_tags(mp3) == tags
    frame_ids = [frame_id for frame_id, _ in raw_frames(mp3.read_bytes())]
    assert frame_ids == ["TIT2", "TPE1", "TALB", "TCON", "TRCK"]
    assert ffprobe(mp3)["chapters"] == []


# --- validation (programming errors are ValueError) ----------------------------------


def test_chapters_are_stored_sorted_by_time() -> None:
    shuffled = Tags("T", "A", "B", 1, 1, chapters=tuple(CHAPTERS[i] for i in (3, 0, 4, 1, 2)))
    assert shuffled.chapters == CHAPTERS
    assert shuffled == Tags("T", "A", "B", 1, 1, chapters=CHAPTERS)


def test_touching_and_zero_length_chapters_are_allowed(mp3: Path) -> None:
    """One mark may start where the last ends, and a mark may be empty (a section with nothing to say):
    both are written, and read back as they were by mutagen and by ffprobe."""
    marks = (ChapterMark("a", 0, 1000), ChapterMark("b", 1000, 1000), ChapterMark("c", 1000, 6000))
    tags = Tags("T", "A", "B", 1, 1, chapters=marks)
    assert tags.chapters == marks
    write_tags(mp3, tags)
    assert read_tags(mp3).chapters == marks
    assert [(c["start"], c["end"], c["tags"]["title"]) for c in ffprobe(mp3)["chapters"]] == [
        (m.start_ms, m.end_ms, m.title) for m in marks
    ]


@pytest.mark.parametrize(
    ("start_ms", "end_ms"),
    [(1000, 999), (-1, 10), (0, 0x1_0000_0000)],
)
def test_bad_chapter_times_are_value_errors(start_ms: int, end_ms: int) -> None:
    with pytest.raises(ValueError, match="start_ms"):
        ChapterMark("x", start_ms, end_ms)


def test_overlapping_chapters_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Tags("T", "A", "B", 1, 1, chapters=(ChapterMark("a", 0, 1001), ChapterMark("b", 1000, 2000)))


@pytest.mark.parametrize(
    "changes",
    [
        {"track": 0},
        {"track": 3, "track_total": 2},
        {"language": "en"},
        {"language": "ENG"},
        {"title": "two\x00values"},
    ],
)
def test_bad_fields_are_value_errors(changes: dict) -> None:
    fields = {"title": "T", "artist": "A", "album": "B", "track": 1, "track_total": 1} | changes
    with pytest.raises(ValueError):
        Tags(**fields)


# --- property: whatever Tags accepts survives a real file ------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@st.composite
def _tags(draw: st.DrawFn) -> Tags:
    boundaries_ms = sorted(draw(st.sets(st.integers(0, 0xFFFFFFFF), max_size=8)))
    groups = st.none() | st.sampled_from(["Volume I", "Volume II", "Book Two: Sowing", "Livre Ⅱ"])  # volumes
    chapters = tuple(
        ChapterMark(draw(_text), start_ms, end_ms, draw(groups))
        for start_ms, end_ms in itertools.pairwise(boundaries_ms)
    )
    track_total = draw(st.integers(1, 999))
    return Tags(
        title=draw(_text),
        artist=draw(_text),
        album=draw(_text),
        track=draw(st.integers(1, track_total)),
        track_total=track_total,
        genre=draw(_text),
        language=draw(st.none() | st.from_regex(r"[a-z]{3}", fullmatch=True)),
        chapters=chapters,
    )


@settings(max_examples=60, deadline=None)
@given(tags=_tags())
def test_any_valid_tags_round_trip_through_a_real_file(source_mp3: Path, tags: Tags) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "book.mp3"
        shutil.copyfile(source_mp3, path)
        write_tags(path, tags)
        assert read_tags(path) == tags
        stored_starts = [start_ms for _, start_ms, _ in raw_chapters(path.read_bytes())]
        assert stored_starts == [c.start_ms for c in tags.chapters]


# --- transcript (USLT) and cover (APIC) ----------------------------------------------


def _tiny_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_lyrics_and_front_cover_round_trip_and_players_see_them(mp3: Path) -> None:
    jpeg = _tiny_jpeg()
    lyrics = "narrator: It rained.\nMiku: “Hello & <goodbye>”, 初音"
    tags = replace(TAGS, lyrics=lyrics, cover_jpeg=jpeg)
    write_tags(mp3, tags)

    assert read_tags(mp3) == tags
    id3 = ID3(mp3, translate=False)
    [uslt] = id3.getall("USLT")
    assert (uslt.text, uslt.lang) == (lyrics, "eng")
    [apic] = id3.getall("APIC")
    assert (apic.type, apic.mime, apic.data) == (3, "image/jpeg", jpeg)
    # ffprobe shows the picture as an attached-picture video stream, the way players find covers.
    streams = ffprobe_streams(mp3)
    [picture] = [s for s in streams if s["codec_type"] == "video"]
    assert picture["codec_name"] == "mjpeg" and picture["disposition"]["attached_pic"] == 1
    assert raw_chapters(mp3.read_bytes()) == [(f"ch{i}", c.start_ms, c.end_ms) for i, c in enumerate(CHAPTERS)]


def test_without_lyrics_or_cover_no_uslt_or_apic_is_written(mp3: Path) -> None:
    write_tags(mp3, TAGS)

    frame_ids = {frame_id for frame_id, _ in raw_frames(mp3.read_bytes())}
    assert not frame_ids & {"USLT", "APIC"}
    assert read_tags(mp3).lyrics is None and read_tags(mp3).cover_jpeg is None


def test_cover_that_is_not_jpeg_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cover_jpeg must be JPEG"):
        replace(TAGS, cover_jpeg=b"\x89PNG\r\n\x1a\n")


def ffprobe_streams(path: Path) -> list[dict]:
    return ffprobe(path)["streams"]


# --- more chapters than one table of contents holds ------------------------------------


def test_300_chapters_nest_in_tables_of_255_that_readers_follow(mp3: Path) -> None:
    """A CTOC counts its entries in one byte: 300 chapters make a top-level table of two ordered tables."""
    marks = tuple(ChapterMark(f"Story {n}", n * 20, (n + 1) * 20) for n in range(300))  # 6 s of sine, 20 ms each
    write_tags(mp3, replace(TAGS, chapters=marks))

    id3 = ID3(mp3, translate=False)
    tocs = {toc.element_id: toc for toc in id3.getall("CTOC")}
    [top] = [toc for toc in tocs.values() if toc.flags & CTOCFlags.TOP_LEVEL]
    assert top.flags & CTOCFlags.ORDERED and len(top.child_element_ids) == 2
    subs = [tocs[i] for i in top.child_element_ids]
    assert [len(s.child_element_ids) for s in subs] == [255, 45]
    assert all(s.flags & CTOCFlags.ORDERED and not s.flags & CTOCFlags.TOP_LEVEL for s in subs)
    assert [s.sub_frames["TIT2"].text[0] for s in subs] == ["Chapters 1-255", "Chapters 256-300"]
    chaps = {c.element_id: c for c in id3.getall("CHAP")}
    in_toc_order = [chaps[i] for s in subs for i in s.child_element_ids]  # mutagen follows the nesting
    assert [c.sub_frames["TIT2"].text[0] for c in in_toc_order] == [m.title for m in marks]
    assert [c.start_time for c in in_toc_order] == [m.start_ms for m in marks]

    assert [c[1] for c in raw_chapters(mp3.read_bytes())] == [m.start_ms for m in marks]  # CHAPs in time order
    chapters = ffprobe(mp3)["chapters"]  # ffmpeg reads every CHAP, whatever the tables
    assert [c["tags"]["title"] for c in chapters] == [m.title for m in marks]
    assert read_tags(mp3).chapters == marks


def test_more_chapters_than_nested_tables_hold_is_a_value_error() -> None:
    marks = tuple(ChapterMark("x", n, n + 1) for n in range(255 * 255 + 1))
    with pytest.raises(ValueError, match="at most 65025"):
        replace(TAGS, chapters=marks)


def test_volumes_are_a_level_of_the_table_of_contents_even_past_255_chapters(mp3: Path) -> None:
    """A preface, then 300 chapters of volume I and 2 of volume II: the top table lists the preface
    and a table per volume; volume I's is split in tables of 255 below its own."""
    groups = [None] + ["Volume I"] * 300 + ["Volume II"] * 2
    marks = tuple(ChapterMark(f"Part {n}", n * 19, (n + 1) * 19, group) for n, group in enumerate(groups))
    write_tags(mp3, replace(TAGS, chapters=marks))
    id3 = ID3(mp3, translate=False)
    tocs = {toc.element_id: toc for toc in id3.getall("CTOC")}
    chaps = {c.element_id: c.sub_frames["TIT2"].text[0] for c in id3.getall("CHAP")}
    [top] = [toc for toc in tocs.values() if toc.flags & CTOCFlags.TOP_LEVEL]
    preface, first, second = top.child_element_ids
    assert chaps[preface] == "Part 0"
    assert [tocs[t].sub_frames["TIT2"].text[0] for t in (first, second)] == ["Volume I", "Volume II"]
    chunks = [tocs[t] for t in tocs[first].child_element_ids]
    assert [c.sub_frames["TIT2"].text[0] for c in chunks] == ["Chapters 1-255", "Chapters 256-300"]
    assert [chaps[c] for chunk in chunks for c in chunk.child_element_ids] == [f"Part {n}" for n in range(1, 301)]
    assert [chaps[c] for c in tocs[second].child_element_ids] == ["Part 301", "Part 302"]
    assert all(toc.flags & CTOCFlags.ORDERED for toc in tocs.values())
    assert read_tags(mp3).chapters == marks
    assert [c["tags"]["title"] for c in ffprobe(mp3)["chapters"]] == [m.title for m in marks]
