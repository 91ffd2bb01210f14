"""Reading a big casting file: `load_config` against the TOML parsers alone, in one run.

    .venv/bin/python benchmarks/casting_file.py [--mb 10] [--runs 3]

Writes a voices.toml of about `--mb` MB (a narrator and tens of thousands of characters, each
with a voice, aliases, a gender and a rate: what `cast --write` makes for a huge cast) and
measures, in CPU seconds of this process (fastest of `--runs`):

- `tomllib.loads` alone: the reference, the standard library's parser;
- `rtoml.loads` alone (what `load_config` parses with when it is installed);
- `load_config`: parsing, the line of every key, and every check of every key.

Machines are shared and noisy: the ratios to `tomllib.loads`, measured in the same run, are what
count.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audiobook.config import load_config  # noqa: E402


def casting_file(size_mb: float) -> str:
    pieces = ['[narrator]\nvoice = "en"\nrate = 165\n\n']
    total, n = 0, 0
    while total < size_mb * 1_000_000:
        piece = (
            f'[characters."Person {n}"]\nvoice = "en-us+f{n % 5 + 1}"\n'
            f'aliases = ["P. {n}", "Mr. {n}"]\ngender = "{("female", "male")[n % 2]}"\nrate = {150 + n % 50}\n\n'
        )
        pieces.append(piece)
        total += len(piece)
        n += 1
    return "".join(pieces)


def fastest(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "voices.toml"
        raw = casting_file(args.mb)
        path.write_text(raw, encoding="utf-8")
        print(f"voices.toml: {len(raw.encode()) / 1e6:.1f} MB, {raw.count(chr(10)):,} lines, "
              f"{raw.count('[characters.'):,} characters")
        reference = fastest(args.runs, lambda: tomllib.loads(raw))
        rows = [("tomllib.loads (reference)", reference)]
        try:
            import rtoml

            rows.append(("rtoml.loads", fastest(args.runs, lambda: rtoml.loads(raw))))
        except ImportError:
            print("rtoml is not installed: load_config parses with tomllib")
        rows.append(("load_config (parse, lines, checks)", fastest(args.runs, lambda: load_config(path))))
        for name, seconds in rows:
            print(f"  {name:<36} {seconds:6.2f} s CPU  {seconds / reference:5.2f}x the reference")


if __name__ == "__main__":
    main()
