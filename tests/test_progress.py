"""Progress a build reports: clips counted, and the work (estimated CPU seconds) that time left is reckoned from."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiobook.build import Progress, build
from audiobook.engine import Voice
from audiobook.plan import BuildOptions
from audiobook.produce import estimated_cost_s
from audiobook.synthesize import ClipRequest

pytestmark = pytest.mark.needs_espeak


def test_synthesis_reports_work_until_all_of_it_is_done(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text('Rain\n\nIt rained all day. "Stay in," said Mira.\n\n"I will," said Tom.\n', encoding="utf-8")
    events: list[Progress] = []
    result = build(BuildOptions((story,), tmp_path / "out", jobs=2), on_progress=events.append)
    synthesis = [e for e in events if e.stage == "synthesize"]
    assert synthesis[-1].done == synthesis[-1].total == result.clips_total
    worked = [e for e in synthesis if e.work_total]
    assert worked and worked[-1].work_done == pytest.approx(worked[-1].work_total)
    assert [e.work_done for e in worked] == sorted(e.work_done for e in worked)  # it only grows


def test_a_neural_voice_is_estimated_to_cost_far_more_than_espeak() -> None:
    text = "The boats stayed close to the harbor wall all morning."
    espeak = estimated_cost_s(ClipRequest(text, Voice("en-us")))
    piper = estimated_cost_s(ClipRequest(text, Voice("piper:en_US-joe-medium")))
    assert piper > 10 * espeak > 0
