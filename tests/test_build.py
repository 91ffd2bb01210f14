"""End to end: `audiobook build seeds/` with real eSpeak NG, ffmpeg, mutagen and ffprobe."""

from __future__ import annotations

import errno
import itertools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ebur128, ffprobe
from id3raw import id3v2_tag_size, raw_chapters
from mutagen.id3 import ID3
from pydub import AudioSegment
from pydub.silence import detect_leading_silence
from typer.testing import CliRunner

from audiobook.audio import assemble, count_frames
from audiobook.build import pauses_after
from audiobook.cli import app
from audiobook.encode import HEADER_BYTES, part_key, part_path
from audiobook.engine import engine_id
from audiobook.plan import BuildOptions, plan, speakable
from audiobook.synthesize import ClipRequest, clip_key, clip_path

ROOT = Path(__file__).parent.parent
SEEDS = ROOT / "seeds"
EXPECTED_FILES = [
    "01 - The Act of Leaving.mp3",
    "02 - Hope.mp3",
    "03 - Flying Off the Tower.mp3",
    "04 - Shiroshi.mp3",
]


@dataclass(frozen=True)
class Built:
    output: Path
    book_dir: Path
    stdout: str
    options: BuildOptions


def run_build(output: Path, *extra: str):
    args = ["build", str(SEEDS), "-o", str(output), "--voices", str(ROOT / "voices.toml"), *extra]
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    output = tmp_path_factory.mktemp("build") / "output"
    result = run_build(output)
    assert result.exit_code == 0, result.output
    options = BuildOptions((SEEDS,), output, ROOT / "voices.toml")
    return Built(output, output / "Vocaloid Stories", result.stdout, options)


def test_four_chapter_files(built: Built) -> None:
    assert sorted(p.name for p in built.book_dir.glob("*.mp3")) == [
        *EXPECTED_FILES,
        "Vocaloid Stories.mp3",
    ]  # and the whole book
    assert not list(built.book_dir.glob(".*.partial"))


def test_beside_them_a_cover_feed_transcripts_and_chapters(built: Built) -> None:
    others = {p.name for p in built.book_dir.iterdir()} - set(EXPECTED_FILES) - {"Vocaloid Stories.mp3"}
    stems = [name.removesuffix(".mp3") for name in EXPECTED_FILES]
    expected = {"cover.jpg", "feed.xml", ".audiobook.json"}  # the last: what each chapter file holds, for rebuilds
    assert others == expected | {f"{s}.vtt" for s in stems} | {f"{s}.chapters.json" for s in stems}


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_mp3_format_is_44k_mono_cbr(built: Built, name: str) -> None:
    path = built.book_dir / name
    info = ffprobe(path)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == ("mp3", "44100", 1)
    assert stream["bit_rate"] == "64000"
    # A CBR stream from LAME carries an "Info" header where a VBR one has "Xing".
    data = path.read_bytes()
    audio_start = id3v2_tag_size(data)
    assert b"Info" in data[audio_start : audio_start + 200] and b"Xing" not in data[audio_start : audio_start + 200]


@pytest.mark.parametrize(("track", "name"), list(enumerate(EXPECTED_FILES, 1)))
def test_tags_and_chapters(built: Built, track: int, name: str) -> None:
    path = built.book_dir / name
    info = ffprobe(path)
    tags = info["format"]["tags"]
    assert tags["title"] == name[5:-4]
    assert tags["artist"] == "Various fan authors"
    assert tags["album"] == "Vocaloid Stories"
    assert tags["track"] == f"{track}/4"
    assert tags["genre"] == "Audiobook"
    id3 = ID3(path, translate=False)
    assert id3.version[:2] == (2, 3)
    chapters = info["chapters"]
    assert chapters, "every chapter file has chapter marks"
    starts = [float(c["start_time"]) for c in chapters]
    assert starts == sorted(starts) and starts[0] == 0
    for before, after in itertools.pairwise(chapters):
        assert before["end_time"] == after["start_time"]
    assert abs(float(chapters[-1]["end_time"]) - float(info["format"]["duration"])) < 0.2
    cover = id3.getall("APIC")
    assert len(cover) == 1 and cover[0].type == 3 and cover[0].data == (built.book_dir / "cover.jpg").read_bytes()
    transcript = id3.getall("USLT")[0].text
    assert transcript.splitlines()[0].startswith(("narrator: ", "Luka: ", "Miku: "))
    raw = raw_chapters(path.read_bytes())  # the CHAP frames as stored, in file order
    assert [start for _, start, _ in raw] == sorted(start for _, start, _ in raw)
    toc = id3.getall("CTOC")[0]
    chap_by_id = {c.element_id: c for c in id3.getall("CHAP")}
    assert [chap_by_id[i].start_time for i in toc.child_element_ids] == sorted(
        c.start_time for c in chap_by_id.values()
    )
    assert [c["tags"]["title"] for c in chapters] == [
        chap_by_id[i].sub_frames["TIT2"].text[0] for i in toc.child_element_ids
    ]


def test_scene_and_note_titles(built: Built) -> None:
    titles = [c["tags"]["title"] for c in ffprobe(built.book_dir / EXPECTED_FILES[0])["chapters"]]
    assert titles == ["Scene 1", "Scene 2", "Author's note"]
    titles = [c["tags"]["title"] for c in ffprobe(built.book_dir / EXPECTED_FILES[3])["chapters"]]
    assert titles == ["Author's note", "Shiroshi"]


def _voiced_ms(path: Path) -> int:
    """A clip's length without its silent edges, less the 20 ms kept at each (as the stitcher does)."""
    audio = AudioSegment.from_wav(path)
    lead = detect_leading_silence(audio, -50.0)
    trail = detect_leading_silence(audio.reverse(), -50.0)
    start, end = max(0, lead - 20), min(len(audio), len(audio) - trail + 20)
    return max(0, end - start)


def test_durations_add_up_to_clips_plus_pauses(built: Built) -> None:
    """The file is exactly its parts; each part is its voiced clip plus its pause, give or take LAME's framing."""
    book = plan(built.options)
    engine = engine_id()
    frame_ms = 1152 / 44.1
    for chapter, name in zip(book.chapters, EXPECTED_FILES, strict=True):
        total_frames = 0
        for utt, pause_ms in zip(
            chapter.utterances, pauses_after(chapter.utterances, built.options.pauses), strict=True
        ):
            key = clip_key(ClipRequest(utt.spoken, utt.voice), engine) if speakable(utt.spoken) else None
            part = part_path(built.output / ".cache", part_key(key, pause_ms, 64))
            frames = count_frames(part.read_bytes()[HEADER_BYTES:], 64)
            total_frames += frames
            voiced_ms = _voiced_ms(clip_path(built.output / ".cache", key)) if key else 0
            expected_ms = voiced_ms + pause_ms
            assert -2 <= frames * frame_ms - expected_ms <= 2 * frame_ms, (name, utt.text[:40])
        actual_ms = float(ffprobe(built.book_dir / name)["format"]["duration"]) * 1000
        assert abs(actual_ms - total_frames * frame_ms) < 1, name


def test_each_main_character_has_a_voice_of_their_own(built: Built) -> None:
    casting = plan(built.options).casting
    voices = {name: casting.role_for(name).voice for name in ("Miku", "Kaito", "Luka", "Haku", "Luki")}
    voices["narrator"] = casting.narrator.voice
    assert len(set(voices.values())) == 6
    for name, voice in voices.items():  # and the build says who got which
        assert re.search(rf"^  {name} +{re.escape(voice.voice_id)} +rate +{voice.rate_wpm} ", built.stdout, re.M), name


def test_summary_lists_chapters_duration_and_files(built: Built) -> None:
    lines = built.stdout.splitlines()
    assert re.fullmatch(
        r'Built "Vocaloid Stories" by Various fan authors: 4 chapters, (?:\d+:)?\d+:\d\d', lines[0]
    )  # about an hour
    for i, name in enumerate(EXPECTED_FILES, 1):
        assert re.fullmatch(rf"  {re.escape(name)}  (?:\d+:)?\d+:\d\d  \d+ chapter marks?", lines[i])
    assert lines[-1] == f"Files: {built.book_dir}/"
    assert re.fullmatch(r"Clips: (\d+) \(\1 synthesized, 0 from cache\)", lines[-2])


def test_rebuild_uses_the_cache_and_gives_identical_files(built: Built, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in built.book_dir.iterdir()}
    result = run_build(built.output)
    assert result.exit_code == 0, result.output
    clips = re.search(r"^Clips: (\d+) \((\d+) synthesized, (\d+) from cache\)$", result.stdout, re.M)
    assert clips and clips.group(2) == "0" and clips.group(3) == clips.group(1)
    after = {p.name: p.read_bytes() for p in built.book_dir.iterdir()}
    assert after == before


@pytest.mark.needs_ffmpeg
def test_single_file_source(tmp_path: Path) -> None:
    story = tmp_path / "tiny tale.txt"
    story.write_text('The Tiny Tale\n\n"Hello," said Mira. She waved.\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["build", str(story), "-o", str(tmp_path / "out"), "--voices", str(ROOT / "voices.toml")]
    )
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "out" / "Vocaloid Stories").glob("*.mp3"))
    assert [f.name for f in files] == ["01 - The Tiny Tale.mp3", "Vocaloid Stories.mp3"]


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_every_chapter_at_minus_19_lufs_with_true_peak_under_minus_1_5(built: Built, name: str) -> None:
    measured = ebur128(built.book_dir / name)  # ffmpeg's EBU R128 meter, 4x oversampled true peak
    assert abs(measured.integrated_lufs + 19) <= 1.0, measured
    assert measured.true_peak_dbtp <= -1.5, measured


def test_frames_are_counted_in_real_lame_output_and_damage_is_refused(built: Built) -> None:
    part = next((built.output / ".cache" / "mp3").glob("*/*.mp3")).read_bytes()[HEADER_BYTES:]
    frames = count_frames(part, 64)
    probed = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "a:0", "-show_entries",
                             "stream=nb_read_frames", "-of", "csv=p=0", "-f", "mp3", "-"],
                            input=part, capture_output=True, check=True)
    assert frames == int(probed.stdout)  # ffprobe reads as many
    for damaged in (part[:-1], part + b"\x00\x00", b"\x00" * 8 + part[8:]):
        with pytest.raises(ValueError):
            count_frames(damaged, 64)
    with pytest.raises(ValueError, match="not 128 kbps"):
        count_frames(part, 128)


def test_chapters_join_the_same_with_or_without_the_kernel_copy(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = sorted((built.output / ".cache" / "mp3").glob("*/*.mp3"))[:20]
    frames = [count_frames(p.read_bytes()[HEADER_BYTES:], 64) for p in parts]
    in_kernel = assemble(parts, frames, tmp_path / "kernel.mp3", 64, HEADER_BYTES, header=b"TAG").path.read_bytes()

    def unsupported(*_: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    through_memory = assemble(parts, frames, tmp_path / "memory.mp3", 64, HEADER_BYTES, header=b"TAG").path.read_bytes()
    assert in_kernel == through_memory
    assert in_kernel.startswith(b"TAG") and len(in_kernel) == 3 + 208 + sum(
        p.stat().st_size - HEADER_BYTES for p in parts
    )
