"""A story read entirely by one Piper voice: speed against the `piper` program, loudness, and words heard.

    .venv/bin/python benchmarks/piper_speed.py [--story FILE] [--runs N] [--voice piper:NAME]

The reference is measured here, now, on the same text: the `piper` command-line program from
piper-tts speaking the whole story in one process (its own session: a thread per core), into
one WAV. Against it, a cold `audiobook build` of the same story with every voice (narrator and
both pools) on the same model: planning, speaking, levelling, encoding, tags and feed. The two
alternate, `--runs` times each, and only ratios within the run are reported (machines are shared
and noisy). Also reported: CPU seconds per second of audio and how many cores each kept busy
(from the children's resource usage), the build's loudness (ffmpeg's EBU R128 meter), and the
word error rate of an offline recogniser (pocketsphinx) on both outputs against the story.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import recognise  # noqa: E402
from conftest import ebur128  # noqa: E402

AUDIOBOOK = [sys.executable, "-m", "audiobook.cli"]
PIPER = [str(Path(sys.executable).parent / "piper")]
DEFAULT_STORY = ROOT / "seeds" / "03 - Flying Off the Tower.txt"


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # user + system of the whole process tree
    audio_s: float

    @property
    def wall_per_audio_s(self) -> float:
        return self.wall_s / self.audio_s

    @property
    def cores_busy(self) -> float:
        return self.cpu_s / self.wall_s


def adopt_orphans() -> None:
    """Become the reaper of this process's orphaned descendants (Linux): a build's forkserver and the
    workers it forked can outlive the build's main process by a moment, and their CPU time counts
    in RUSAGE_CHILDREN only once some ancestor here waits for them."""
    import ctypes

    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans(timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid == 0:
            time.sleep(0.05)


def timed(command: list[str], **kwargs) -> tuple[float, float]:
    """Wall seconds of a command, and CPU seconds (user + system) of it and every process it started."""
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - start
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def duration_s(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(out)


def model_path(voice: str) -> Path:
    from audiobook.engine import Voice
    from audiobook.piper_engine import PiperEngine

    return PiperEngine().model(Voice(voice)).model_path


def reference(text_file: Path, model: Path, wav: Path) -> Run:
    wall, cpu = timed([*PIPER, "-m", str(model), "-i", str(text_file), "-f", str(wav)])
    return Run(wall, cpu, duration_s(wav))


def ours(stories: Path, voices: Path, out: Path) -> tuple[Run, Path]:
    cache = out / ".cache"
    command = [*AUDIOBOOK, "build", str(stories), "-o", str(out), "--voices", str(voices), "--cache", str(cache)]
    wall, cpu = timed(command)
    [book] = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    chapters = sorted(p for p in book.glob("*.mp3") if p.name[:2].isdigit())
    return Run(wall, cpu, sum(duration_s(p) for p in chapters)), chapters[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--story", type=Path, default=DEFAULT_STORY)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--voice", default="piper:en_US-joe-medium")
    args = parser.parse_args()
    adopt_orphans()
    model = model_path(args.voice)
    text = args.story.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="piper-speed-") as tmp:
        root = Path(tmp)
        (root / "stories").mkdir()
        (root / "stories" / "01.txt").write_text(text, encoding="utf-8")
        voices = root / "voices.toml"
        voices.write_text(
            f'[book]\ntitle = "Piper Speed"\nauthor = "Benchmark"\n\n[narrator]\nvoice = "{args.voice}"\n\n'
            f'[pools]\nfemale = ["{args.voice}"]\nmale = ["{args.voice}"]\n',
            encoding="utf-8",
        )
        refs: list[Run] = []
        builds: list[Run] = []
        for n in range(args.runs):
            refs.append(reference(root / "stories" / "01.txt", model, root / f"ref{n}.wav"))
            run, chapter = ours(root / "stories", voices, root / f"out{n}")
            builds.append(run)
            ratio = run.wall_per_audio_s / refs[-1].wall_per_audio_s
            print(
                f"run {n + 1}: piper {refs[-1].wall_per_audio_s * 1000:.1f} ms/s of audio "
                f"({refs[-1].cores_busy:.2f} cores busy, {refs[-1].cpu_s / refs[-1].audio_s * 1000:.0f} ms CPU/s); "
                f"build {run.wall_per_audio_s * 1000:.1f} ms/s ({run.cores_busy:.2f} cores busy, "
                f"{run.cpu_s / run.audio_s * 1000:.0f} ms CPU/s); ratio {ratio:.3f}",
                flush=True,
            )
        ratios = [b.wall_per_audio_s / r.wall_per_audio_s for b, r in zip(builds, refs, strict=True)]
        loudness = ebur128(chapter)
        heard_ours = recognise.word_error_rate(text, recognise.transcribe_file(chapter))
        heard_ref = recognise.word_error_rate(text, recognise.transcribe_file(root / "ref0.wav"))
        summary = {
            "story": args.story.name,
            "voice": args.voice,
            "audio_s": {"build": round(builds[-1].audio_s, 1), "piper": round(refs[-1].audio_s, 1)},
            "wall_per_audio_ratio": {
                "median": round(statistics.median(ratios), 3), "runs": [round(r, 3) for r in ratios],
            },
            "cores_busy": {"build": round(statistics.median(b.cores_busy for b in builds), 2),
                           "piper": round(statistics.median(r.cores_busy for r in refs), 2)},
            "cpu_ms_per_audio_s": {"build": round(statistics.median(b.cpu_s / b.audio_s for b in builds) * 1000),
                                   "piper": round(statistics.median(r.cpu_s / r.audio_s for r in refs) * 1000)},
            "loudness_lufs": round(loudness.integrated_lufs, 2),
            "true_peak_dbtp": round(loudness.true_peak_dbtp, 2),
            "word_error_rate": {"build": round(heard_ours, 3), "piper": round(heard_ref, 3)},
        }
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
