"""A `Script` as JSON: the format `score_attribution.py` reads, segments tiling the whole text."""

from __future__ import annotations

import hashlib
from typing import Any

from .script import Script


def script_json(script: Script, file_name: str) -> dict[str, Any]:
    """{"file", "text_sha256", "narrator", "characters", "segments"}; gaps become narration."""
    text = script.story.text
    segments: list[dict[str, Any]] = []
    pos = 0

    def narration(start: int, end: int) -> None:
        if end <= start:
            return
        if segments and segments[-1]["kind"] == "narration":
            segments[-1]["end"] = end  # whitespace between runs joins the narration before it
        else:
            segments.append({"start": start, "end": end, "kind": "narration", "speaker": None})

    for line in script.lines:
        narration(pos, line.start)
        if line.kind == "narration":
            narration(line.start, line.end)
        else:
            segments.append({"start": line.start, "end": line.end, "kind": "dialogue", "speaker": line.speaker,
                             "rule": line.rule, "confidence": round(line.confidence, 2)})
        pos = line.end
    narration(pos, len(text))
    return {
        "file": file_name,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "narrator": script.narrator,
        "characters": [
            {"name": c.name, "aliases": list(c.aliases), "gender": c.gender, "lines": c.lines}
            for c in script.characters
        ],
        "segments": segments,
    }
