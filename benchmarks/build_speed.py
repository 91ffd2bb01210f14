"""Build speed: cold, recast and unchanged builds against the plain sequential path, in one run.

    .venv/bin/python benchmarks/build_speed.py [--long]

The reference is measured here, now, on the same text: `espeak-ng -w` on each whole story,
then ffmpeg encoding that WAV at the build's MP3 settings (64 kbps CBR mono 44.1 kHz, LAME
quality 5), one after the other on one core. Machines are shared and noisy, so only ratios
measured in the same run mean anything. `--long` also builds a long book (the LitBank
excerpts from ../shared/eval, public-domain novels, one chapter each) and reports its peak
memory (the whole process tree) and wall time per hour of audio against the seeds' (see
:func:`long_book`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

from processes import below, stat_fields  # benchmarks/, beside this script

ROOT = Path(__file__).resolve().parent.parent
AUDIOBOOK = [sys.executable, "-m", "audiobook.cli"]
LITBANK = ROOT.parent / "shared" / "eval" / "litbank"


def timed(command: list[str], flushed: bool = False, **kwargs) -> tuple[float, int]:
    """Wall seconds, and the peak resident memory in bytes of the whole process tree.

    Files written by the step before are flushed to disk first: the kernel writes them back
    lazily, and that work would otherwise be timed as part of whatever runs next. `flushed`:
    the time includes writing this command's own files to disk (see :func:`long_book`)."""
    os.sync()
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    if flushed:
        os.sync()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr.decode()}")
    return seconds, peak


def tree_rss(pid: int) -> int:
    """Memory of a process and all its descendants, in bytes: the sum of their proportional set
    sizes (PSS, from /proc/PID/smaps_rollup), so pages shared between workers count once."""
    return sum(_pss_bytes(p) for p in [pid, *below(pid, stat_fields())])


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reference(stories: list[Path], work: Path) -> tuple[float, float]:
    """Seconds and audio seconds for espeak-ng -w + ffmpeg, story by story."""
    seconds = audio_s = 0.0
    for i, story in enumerate(stories):
        wav, mp3 = work / f"{i}.wav", work / f"{i}.mp3"
        s1, _ = timed(["espeak-ng", "-w", str(wav), "-f", str(story)])
        s2, _ = timed(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ar", "44100", "-ac", "1",
                       "-c:a", "libmp3lame", "-b:a", "64k", "-compression_level", "5", str(mp3)])
        seconds += s1 + s2
        with wave.open(str(wav)) as w:
            audio_s += w.getnframes() / w.getframerate()
    return seconds, audio_s


def book_audio_s(out: Path) -> float:
    manifests = list(out.glob("*/.audiobook.json"))
    entries = [e for m in manifests for e in json.loads(m.read_text()).values()]
    chapters = [e for e in entries if not e.get("whole_book") and not e.get("m4b")]
    return sum(e["duration_ms"] for e in chapters) / 1000


def digests(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*/*.mp3"))}


def build(source: Path, out: Path, voices: Path, flushed: bool = False) -> tuple[float, int]:
    return timed([*AUDIOBOOK, "build", str(source), "-o", str(out), "--voices", str(voices)], flushed, cwd=ROOT)


def line(name: str, value: float, limit: float, reference: str) -> None:
    verdict = "ok" if value <= limit else "OVER"
    print(f"{name:<44} {value:6.3f}x  (limit {limit:.2f}x; {reference})  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="also build the long book (several minutes)")
    args = parser.parse_args()
    # As installed (setup.sh byte-compiles the package): where PYTHONDONTWRITEBYTECODE is set, a
    # source edited since would otherwise be compiled again by every build timed here.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "audiobook")], check=True)
    work = Path(tempfile.mkdtemp(prefix="audiobook-bench-"))
    try:
        stories = sorted((ROOT / "seeds").glob("*.txt"))
        ref_s, ref_audio_s = reference(stories, work)
        ref_rate = ref_s / ref_audio_s
        print(f"reference: espeak-ng -w + ffmpeg, {ref_audio_s:.0f} s of audio in {ref_s:.2f} s "
              f"({ref_rate * 3600:.1f} s per hour of audio)")

        voices = work / "voices.toml"
        shutil.copy(ROOT / "voices.toml", voices)
        out = work / "out"
        cold_s, cold_peak = build(ROOT / "seeds", out, voices)
        audio_s = book_audio_s(out)
        cold_rate = cold_s / audio_s
        print(
            f"cold build: {audio_s:.0f} s of audio in {cold_s:.2f} s ({cold_rate * 3600:.1f} s per hour), "
            f"peak memory {cold_peak / 2**20:.0f} MB, {os.cpu_count()} cores"
        )
        line(
            "cold build, wall time per second of audio",
            cold_rate / ref_rate,
            0.75,
            f"reference {ref_rate * 1000:.2f} ms/s",
        )

        before = digests(out)
        same_s, _ = build(ROOT / "seeds", out, voices)
        line("rebuild, nothing changed", same_s / cold_s, 0.05, f"cold build {cold_s:.2f} s")
        print(f"{'  MP3s byte-identical after that rebuild':<44} {'yes' if digests(out) == before else 'NO'}")

        text = voices.read_text().replace('voice = "en-us+m3"', 'voice = "en-us+m6"', 1)
        assert text != voices.read_text(), "Kaito's voice line not found in voices.toml"
        voices.write_text(text)
        recast_s, _ = build(ROOT / "seeds", out, voices)
        line("rebuild after recasting Kaito", recast_s / cold_s, 0.15, f"cold build {cold_s:.2f} s")

        if args.long:
            long_book(work, voices)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def long_book(work: Path, voices: Path) -> None:
    """The long book's time per hour of audio against the seeds', each timed until its files are on
    disk: the long book writes some 3 GB (mostly cached clips), past the point where the kernel
    starts writing back while the build runs, while the seeds' 0.2 GB would be written back only
    after their build has ended. The seeds are built cold before and after it, and their mean
    taken, since a shared machine drifts over the minutes the long book takes."""
    book = work / "long"
    book.mkdir()
    for i, path in enumerate(sorted(p for p in LITBANK.glob("*.json") if p.name != "index.json")):
        (book / f"{i:03d} {path.stem}.txt").write_text(json.loads(path.read_text())["text"], encoding="utf-8")
    size_mb = sum(p.stat().st_size for p in book.iterdir()) / 2**20

    def seeds_rate(name: str) -> float:
        seconds, _ = build(ROOT / "seeds", work / name, voices, flushed=True)
        return seconds / book_audio_s(work / name)

    before = seeds_rate("seeds-before")
    out = work / "long-out"
    seconds, peak = build(book, out, voices, flushed=True)
    audio_s = book_audio_s(out)
    rate = seconds / audio_s
    after = seeds_rate("seeds-after")
    seeds_mean = (before + after) / 2
    print(f"long book: {size_mb:.1f} MB of text, {audio_s / 3600:.1f} h of audio in {seconds:.0f} s "
          f"({rate * 3600:.1f} s per hour of audio, files on disk), peak memory {peak / 2**20:.0f} MB")
    print(f"seeds, cold, files on disk: {before * 3600:.1f} s per hour of audio before it, {after * 3600:.1f} after")
    line("long book, wall time per hour vs seeds", rate / seeds_mean, 1.0, f"seeds {seeds_mean * 3600:.1f} s/h")
    print(
        f"{'long book, peak memory (MB, limit 300)':<44} {peak / 2**20:6.0f}    "
        f"{'ok' if peak <= 300 * 2**20 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
