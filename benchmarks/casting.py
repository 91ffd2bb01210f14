"""Speaker accuracy with the cast a user writes in voices.toml, beside the cast the tool finds itself.

    .venv/bin/python benchmarks/casting.py [--gold DIR] [--keep DIR] [--jobs N]

For every novel of the gold set (default: ../shared/eval/pdnc-dev, whole novels), this writes at
run time, in a temporary folder, the novel's text and a voices.toml listing its characters as a
user would: each with its aliases and gender, and `first_person = true` for the narrator of a
novel told in the first person (the gold's `meta.narrative_person`). Then it runs the command
line a user runs, `audiobook segment FILE --voices TOML --json-dir DIR`, and the same without a
casting file (the automatic cast), and scores both with `score_attribution.py` next to the gold.

The gold data is for measuring only: nothing of it is written anywhere but the temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared next to the project (from a git worktree of it, next to the folder holding the worktree)
DEFAULT_GOLD = next((p / "shared" / "eval" / "pdnc-dev" for p in ROOT.parents if (p / "shared" / "eval").is_dir()),
                    ROOT.parent / "shared" / "eval" / "pdnc-dev")
AUDIOBOOK = Path(sys.executable).with_name("audiobook")
_NARRATOR_ALIASES = {"narr", "_narr", "narrator"}
_GENDERS = {"F": "female", "M": "male"}


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string


def voices_toml(gold: dict) -> str:
    """The novel's character list as a user would write it: names, aliases, gender, the narrator."""
    first_person = gold.get("meta", {}).get("narrative_person") == 1
    people = []
    for c in gold["characters"]:
        forms = [c["name"], *c.get("aliases", [])]
        narrator = any(f.lower() in _NARRATOR_ALIASES for f in forms)
        names = [f for f in dict.fromkeys(forms) if f.strip() and not f.startswith("_") and f.lower() != "narr"]
        if not names:
            continue  # `_group`, `_unknowable`: nobody a user would list
        people.append((names[0], names[1:], _GENDERS.get(c.get("gender", "")), narrator and first_person))
    claims: dict[str, int] = {}
    for name, aliases, _, _ in people:
        for form in {name.lower(), *(a.lower() for a in aliases)}:
            claims[form] = claims.get(form, 0) + 1
    out = ["# written by benchmarks/casting.py at run time; not part of the project"]
    seen: set[str] = set()
    for name, aliases, gender, narrator in people:
        if name.lower() in seen or claims[name.lower()] > 1:
            continue  # a name two characters share: a user lists it once, under the one they mean
        seen.add(name.lower())
        kept = [a for a in aliases if claims[a.lower()] == 1]
        out += ["", f"[characters.{_string(name)}]"]
        if kept:
            out.append("aliases = [" + ", ".join(_string(a) for a in kept) + "]")
        if gender:
            out.append(f'gender = "{gender}"')
        if narrator:
            out.append("first_person = true")
    return "\n".join(out) + "\n"


def segment(text: Path, out: Path, voices: Path | None, cwd: Path) -> None:
    args = [str(AUDIOBOOK), "segment", str(text), "--json-dir", str(out)]
    if voices is not None:
        args += ["--voices", str(voices)]
    subprocess.run(args, check=True, cwd=cwd, capture_output=True, text=True)


def score(gold: Path, pred: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        args = [sys.executable, str(gold.parent / "score_attribution.py"), str(gold), str(pred), "--json", str(result),
                "--per-novel"]
        subprocess.run(args, check=True, capture_output=True, text=True)
        return json.loads(result.read_text(encoding="utf-8"))


def _accuracy(block: dict) -> tuple[float, int, int]:
    return block["speaker"]["accuracy"], block["speaker"]["correct"], block["quote_detection"]["gold_units"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--keep", type=Path, help="work here (texts, casting files, predictions)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    golds = sorted(p for p in args.gold.glob("*.json") if p.name != "index.json")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        for sub in ("text", "cast", "user", "auto"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        runs = []
        for path in golds:
            gold = json.loads(path.read_text(encoding="utf-8"))
            text = work / "text" / f"{path.stem}.txt"
            text.write_text(gold["text"], encoding="utf-8")
            toml = work / "cast" / f"{path.stem}.toml"
            toml.write_text(voices_toml(gold), encoding="utf-8")
            runs += [(text, work / "user", toml), (text, work / "auto", None)]
        with ThreadPoolExecutor(args.jobs) as pool:  # the work dir has no voices.toml: "auto" is the automatic cast
            list(pool.map(lambda run: segment(run[0], run[1], run[2], work), runs))
        user, auto = score(args.gold, work / "user"), score(args.gold, work / "auto")
    print(f"{'speaker accuracy':<32} {'user cast':>10} {'automatic':>10}")
    for name in sorted(user["per_document"]):
        u, a = _accuracy(user["per_document"][name]), _accuracy(auto["per_document"][name])
        print(f"{name:<32} {u[0]:>10.1%} {a[0]:>10.1%}")
    u, a = _accuracy(user["overall"]), _accuracy(auto["overall"])
    print(f"{'all (' + str(len(golds)) + ' novels, ' + str(u[2]) + ' quotations)':<32} {u[0]:>10.1%} {a[0]:>10.1%}")


if __name__ == "__main__":
    main()
