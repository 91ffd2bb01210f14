"""Quote detection and speaker attribution on the LitBank dev set, and segmentation speed.

    .venv/bin/python benchmarks/attribution.py [--gold DIR] [--keep DIR] [--per-novel] [--by-rule]

Runs the pipeline end to end (load -> segment -> attribute, with the cast the tool finds
itself) on every gold file's `text`, writes predictions in the `audiobook segment --json-dir`
format, and scores them with `score_attribution.py` next to the gold. Then scores a plain
"speech verb + name" baseline on the same segmentation, and times segmentation plus
attribution on the LitBank texts concatenated (about 1 MB).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audiobook.attribution import SPEECH_VERBS, Line, Script, attribute, script_json  # noqa: E402
from audiobook.load import parse_story  # noqa: E402
from audiobook.segment import Segmentation, segment  # noqa: E402

DEFAULT_GOLD = ROOT.parent / "shared" / "eval" / "litbank"
_NAME = r"(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)?[A-Z][a-z]+"
_AFTER = re.compile(rf"^[\s,—–-]*(?:(\w+)\s+({_NAME})|({_NAME})\s+(\w+))")
_BEFORE = re.compile(rf"({_NAME})\s+(\w+)[^.!?]{{0,30}}[,:]\s*$")


def baseline(seg: Segmentation) -> Script:
    """Speech verb + name only: `"…," said Kaito`, `Kaito said, "…"`; anything else unattributed."""
    text = seg.story.text
    segs = seg.segments
    lines = []
    for i, s in enumerate(segs):
        speaker = None
        if s.kind == "dialogue":
            nxt = segs[i + 1] if i + 1 < len(segs) and segs[i + 1].paragraph == s.paragraph else None
            prv = segs[i - 1] if i > 0 and segs[i - 1].paragraph == s.paragraph else None
            if nxt is not None and nxt.kind == "narration":
                m = _AFTER.match(text[nxt.start : nxt.end])
                if m and m.group(1) and m.group(1).lower() in SPEECH_VERBS:
                    speaker = m.group(2)
                elif m and m.group(4) and m.group(4).lower() in SPEECH_VERBS:
                    speaker = m.group(3)
            if speaker is None and prv is not None and prv.kind == "narration":
                m = _BEFORE.search(text[prv.start : prv.end])
                if m and m.group(2).lower() in SPEECH_VERBS:
                    speaker = m.group(1)
        lines.append(Line(s.start, s.end, s.kind, s.paragraph, speaker, "speech-verb" if speaker else None))
    return Script(seg, tuple(lines), (), None)


def gold_files(gold: Path) -> list[Path]:
    return sorted(p for p in gold.glob("*.json") if p.name != "index.json")


def predict(gold: Path, out: Path, attributor) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in gold_files(gold):
        text = json.loads(path.read_text(encoding="utf-8"))["text"]
        story = parse_story(Path(path.stem + ".txt"), text, "utf-8")
        script = attributor(segment(story))
        (out / path.name).write_text(json.dumps(script_json(script, path.stem + ".txt")), encoding="utf-8")


def score(gold: Path, pred: Path, per_novel: bool) -> dict:
    scorer = gold.parent / "score_attribution.py"
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        args = [sys.executable, str(scorer), str(gold), str(pred), "--json", str(result)]
        shown = subprocess.run(
            args + (["--per-novel"] if per_novel else []), capture_output=True, text=True, check=True
        )
        if per_novel:
            print(shown.stdout)
        data = json.loads(result.read_text())
    return data["overall"]


def by_rule(gold: Path, pred: Path) -> None:
    """Speaker accuracy per rule: each gold quotation counts for the rule of the predicted segment
    that covers most of it (names compared as the scorer compares them)."""
    import importlib.util
    from collections import Counter

    spec = importlib.util.spec_from_file_location("score_attribution", gold.parent / "score_attribution.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for path in gold_files(gold):
        data = json.loads(path.read_text(encoding="utf-8"))
        resolver = scorer.NameResolver(data["characters"])
        segments = [
            s for s in json.loads((pred / path.name).read_text(encoding="utf-8"))["segments"] if s["kind"] == "dialogue"
        ]
        units: dict = {}
        for q in data["quotes"]:
            units.setdefault(q.get("quote_id"), []).append(q)
        for parts in units.values():
            start, end = parts[0]["start"], parts[-1]["end"]
            best = max(segments, key=lambda s: min(end, s["end"]) - max(start, s["start"]), default=None)
            if best is None or min(end, best["end"]) <= max(start, best["start"]):
                total["(no segment)"] += 1
                continue
            rule = best.get("rule") or "(none)"
            total[rule] += 1
            right[rule] += resolver.resolve(best["speaker"])[0] == resolver.resolve(parts[0]["speaker"])[0]
    print(f"{'rule':<20} {'quotes':>7} {'speaker':>8}")
    for rule, n in total.most_common():
        print(f"{rule:<20} {n:>7} {right[rule] / n:>8.1%}")


def speed(gold: Path, target_bytes: int = 1_000_000) -> tuple[float, float]:
    """(MB/s, MB) of segment + attribute over the LitBank texts concatenated up to ~1 MB."""
    texts = [json.loads(p.read_text(encoding="utf-8"))["text"] for p in gold_files(gold)]
    book = ""
    k = 0
    while len(book.encode("utf-8")) < target_bytes:
        book += texts[k % len(texts)] + "\n\n\n"
        k += 1
    story = parse_story(Path("book.txt"), book, "utf-8")
    began = time.perf_counter()
    attribute(segment(story))
    seconds = time.perf_counter() - began
    megabytes = len(book.encode("utf-8")) / 1e6
    return megabytes / seconds, megabytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--keep", type=Path, help="write predictions here (default: a temporary folder)")
    parser.add_argument("--per-novel", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--by-rule", action="store_true", help="also print speaker accuracy per attribution rule")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        rows = []
        for label, attributor in (("audiobook", attribute), ("baseline: speech verb + name", baseline)):
            pred = base / ("pred" if attributor is attribute else "baseline")
            predict(args.gold, pred, attributor)
            s = score(args.gold, pred, args.per_novel and attributor is attribute)
            rows.append(
                (label, s["quote_detection"]["recall"], s["quote_detection"]["precision"], s["speaker"]["accuracy"])
            )
            if args.by_rule and attributor is attribute:
                by_rule(args.gold, pred)
    print(f"{'LitBank dev (86 texts)':<30} {'recall':>7} {'precision':>9} {'speaker':>8}")
    for label, r, p, a in rows:
        print(f"{label:<30} {r:>7.1%} {p:>9.1%} {a:>8.1%}")
    if not args.no_speed:
        mb_per_s, mb = speed(args.gold)
        print(f"segment + attribute: {mb_per_s:.2f} MB/s on {mb:.2f} MB")


if __name__ == "__main__":
    main()
