"""Speaker accuracy with the cast a user writes in voices.toml, beside the cast the tool finds itself.

    .venv/bin/python benchmarks/casting.py [--gold DIR] [--keep DIR] [--jobs N]

For every novel of the gold set (default: ../shared/eval/pdnc-dev, whole novels), this writes at
run time, in a temporary folder, the novel's text and a voices.toml listing its cast as a user
would: the characters who speak, each with its aliases and gender, and `first_person = true` for
the narrator of a novel told in the first person (the gold's `meta.narrative_person`); and a
second voices.toml listing the gold's whole character list. Then it runs the command
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


def voices_toml(gold: dict, everyone: bool = False) -> str:
    """The novel's cast as a user would write it: the characters who speak (those a user gives a
    voice; with `everyone`, the gold's whole character list, which also holds people only
    mentioned and stray entries such as a family name alone beside the full name) with their
    names, aliases, gender, and the narrator."""
    first_person = gold.get("meta", {}).get("narrative_person") == 1
    speaking = {q.get("speaker") for q in gold.get("quotes", [])}
    people = []
    for c in gold["characters"]:
        if not everyone and c["name"] not in speaking:
            continue
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


def segment(text: Path, out: Path, voices: Path | None, cwd: Path) -> float:
    """Run the command as a user does; its CPU seconds (the child's user + system time)."""
    args = [str(AUDIOBOOK), "segment", str(text), "--json-dir", str(out)]
    if voices is not None:
        args += ["--voices", str(voices)]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            stderr.seek(0)
            raise SystemExit(f"{' '.join(args)} failed: {stderr.read().decode(errors='replace').strip()}")
    return usage.ru_utime + usage.ru_stime


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
        for sub in ("text", "cast", "cast-all", "user", "user-all", "auto"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        runs = []
        for path in golds:
            gold = json.loads(path.read_text(encoding="utf-8"))
            text = work / "text" / f"{path.stem}.txt"
            text.write_text(gold["text"], encoding="utf-8")
            toml = work / "cast" / f"{path.stem}.toml"
            toml.write_text(voices_toml(gold), encoding="utf-8")
            everyone = work / "cast-all" / f"{path.stem}.toml"
            everyone.write_text(voices_toml(gold, everyone=True), encoding="utf-8")
            runs += [(text, work / "user", toml), (text, work / "user-all", everyone), (text, work / "auto", None)]
        with ThreadPoolExecutor(args.jobs) as pool:  # the work dir has no voices.toml: "auto" is the automatic cast
            seconds = list(pool.map(lambda run: segment(run[0], run[1], run[2], work), runs))
        user, listed, auto = (score(args.gold, work / sub) for sub in ("user", "user-all", "auto"))
    cpu = {(run[0].stem, run[1].name): s for run, s in zip(runs, seconds, strict=True)}
    print(f"{'speaker accuracy':<32} {'user cast':>10} {'whole list':>10} {'automatic':>10} {'CPU s':>6} {'ratio':>6}")
    for name in sorted(user["per_document"]):
        u, w, a = (_accuracy(r["per_document"][name])[0] for r in (user, listed, auto))
        mine, theirs = cpu.get((name, "user"), 0.0), cpu.get((name, "auto"), 0.0)
        print(f"{name:<32} {u:>10.1%} {w:>10.1%} {a:>10.1%} {mine:>6.1f} {mine / max(theirs, 1e-9):>6.2f}")
    u, w, a = (_accuracy(r["overall"]) for r in (user, listed, auto))
    mine = sum(s for (_, sub), s in cpu.items() if sub == "user")
    theirs = sum(s for (_, sub), s in cpu.items() if sub == "auto")
    label = f"all ({len(golds)} novels, {u[2]} quotations)"
    print(f"{label:<32} {u[0]:>10.1%} {w[0]:>10.1%} {a[0]:>10.1%} {mine:>6.1f} {mine / max(theirs, 1e-9):>6.2f}")
    print("user cast: voices.toml lists the characters who speak (names, aliases, gender, first_person);")
    print("whole list: it lists every entry of the gold's character list; automatic: no casting file.")
    print("CPU s: the whole `audiobook segment` command with the user cast (start-up, loading, attribution);")
    print("ratio: that over the same command without a casting file, in this run")


if __name__ == "__main__":
    main()
