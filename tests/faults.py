"""Helpers for the fault tests: a small book, `audiobook build` as a real process, completeness checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

from mutagen.id3 import ID3
from PIL import Image

from audiobook.audio import count_frames, probe

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Kill Book"
STORIES = {
    "01.txt": """The Gate

Rin met Len at the gate. He was holding two tickets.

"Where are we going?" Rin asked.

"The fair," Len said. "It opens at seven."

"Can Miku come too?" Rin asked.

"If she hurries," Len said.



Later, the three of them walked down the hill.
""",
    "02.txt": """The Fair

The fair was loud. Rin laughed.

"Look at the lights," Rin said.

"I see them," said Miku. "They are beautiful."

The wheel turned slowly above them.
""",
}


_EVENING = "\n\n".join(f'"This is line {i} of a long evening at the fair," Rin said.' for i in range(120))
# A book that takes a few seconds to build: long enough that a build is surely still running
# when a test interrupts it, however fast the machine.
LONG_STORIES = {**STORIES, "03.txt": f"The Long Evening\n\n{_EVENING}\n"}


def write_book(root: Path, stories: dict[str, str] = STORIES) -> Path:
    """The stories and a voices.toml under `root`; returns the stories folder."""
    folder = root / "stories"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in stories.items():
        (folder / name).write_text(text, encoding="utf-8")
    (root / "voices.toml").write_text(f'[book]\ntitle = "{TITLE}"\nauthor = "Ann"\n', encoding="utf-8")
    return folder


def build_args(root: Path, output: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "audiobook.cli", "build", str(root / "stories"), "-o", str(output),
        "--voices", str(root / "voices.toml"), "-j", "2", *extra,
    ]


def start_build(root: Path, output: Path, *extra: str) -> subprocess.Popen[str]:
    """`audiobook build` in a session (and process group) of its own, as a terminal would run it."""
    env = {**os.environ, "CI": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        build_args(root, output, *extra), cwd=root, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def run_build(root: Path, output: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    process = start_build(root, output, *extra)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the build and everything it started (workers, the forkserver, eSpeak children); wait until all
    are gone."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()
    deadline = time.monotonic() + 10
    while group_members(process.pid):
        assert time.monotonic() < deadline, f"processes survived SIGKILL: {group_members(process.pid)}"
        time.sleep(0.01)


def visible_files(book_dir: Path) -> list[Path]:
    return sorted(p for p in book_dir.iterdir() if not p.name.startswith(".")) if book_dir.is_dir() else []


def check_complete(path: Path) -> None:
    """Raise AssertionError unless `path` is a whole file of its kind."""
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".mp3":
        tag_bytes = ID3(path).size  # the whole tag must be there
        assert count_frames(data[tag_bytes:], 64) > 1, path  # and every frame after it, none cut short
        assert probe(path).duration_ms > 0, path
    elif suffix == ".json":
        json.loads(data)
    elif suffix == ".xml":
        ElementTree.fromstring(data)
    elif suffix == ".vtt":
        text = data.decode("utf-8")
        assert text.startswith("WEBVTT") and text.endswith("\n"), path
    elif suffix == ".jpg":
        with Image.open(path) as image:
            image.load()  # raises on a truncated JPEG
    else:
        raise AssertionError(f"unexpected file in the book folder: {path.name}")


def snapshot(book_dir: Path) -> dict[str, bytes]:
    """Every file in the book folder, the manifest included (the lock file is not in it)."""
    return {p.name: p.read_bytes() for p in sorted(book_dir.iterdir()) if p.is_file()}
