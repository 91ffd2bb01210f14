"""WebVTT transcripts and their plain-text form."""

from __future__ import annotations

from pathlib import Path

from audiobook.transcript import Cue, plain_text, webvtt, write_vtt

CUES = (
    Cue(0, 1500, "narrator", "It was raining\nover the tower."),
    Cue(1800, 2600, "Miku", "Fish & <chips>?"),
    Cue(2600, 2600, "Miku", "…"),  # takes no time: not a cue
    Cue(3_725_004, 3_726_000, "Len & Rin", "Yes -->"),
)


def test_webvtt_has_one_voice_tagged_cue_per_spoken_line_with_escapes() -> None:
    assert webvtt(CUES) == (
        "WEBVTT\n"
        "\n"
        "1\n00:00:00.000 --> 00:00:01.500\n<v narrator>It was raining over the tower.\n"
        "\n"
        "2\n00:00:01.800 --> 00:00:02.600\n<v Miku>Fish &amp; &lt;chips&gt;?\n"
        "\n"
        "3\n01:02:05.004 --> 01:02:06.000\n<v Len &amp; Rin>Yes --&gt;\n"
    )


def test_plain_text_is_one_speaker_line_per_cue() -> None:
    assert plain_text(CUES) == (
        "narrator: It was raining over the tower.\nMiku: Fish & <chips>?\nLen & Rin: Yes -->"
    )


def test_write_vtt_writes_utf8_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = write_vtt(tmp_path / "01 - Hope.vtt", [Cue(0, 10, "初音ミク", "こんにちは 🎤")])

    assert path.read_bytes().decode("utf-8").endswith("<v 初音ミク>こんにちは 🎤\n")
    assert [p.name for p in tmp_path.iterdir()] == ["01 - Hope.vtt"]
