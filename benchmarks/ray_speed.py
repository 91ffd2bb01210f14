"""Builds on a Ray cluster against the local pool, on the same CPUs, in one run.

    .venv/bin/python benchmarks/ray_speed.py [--repeat N]

Builds `seeds/` cold (an empty cache each time) four ways: the local pool with 1 and 2 jobs,
and `--ray` on a local cluster (bound to 127.0.0.1) with 1 and 2 worker CPUs (one node each).
Prints wall time per second of audio for each, and the ratios the Ray issue sets targets for:
2 worker CPUs against 1 (at most 0.6), and Ray against the local pool on the same CPUs (the
local pool at most 1.3 times faster). Also what the README's scaling paragraph needs: clips
(tasks) per book, bytes sent back per clip, and the driver's share of the CPU time. Machines are
shared and noisy: only ratios measured in the same run mean anything; --repeat keeps the fastest.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from raycluster import ENVIRONMENT, local_cluster  # noqa: E402  (sets Ray's environment before ray is imported)

AUDIOBOOK = [sys.executable, "-m", "audiobook.cli"]


def build(output: Path, *extra: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the build process and its own children, and its output."""
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, **ENVIRONMENT, "CI": "1", "PYTHONPATH": str(ROOT)}
    command = [*AUDIOBOOK, "build", str(ROOT / "seeds"), "-o", str(output),
               "--voices", str(ROOT / "voices.toml"), *extra]
    os.sync()
    _cpu_of_last_child()  # not the cluster's processes reaped before (a cluster shut down)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr}")
    return seconds, _cpu_of_last_child(), stdout


_children_cpu = 0.0


def _cpu_of_last_child() -> float:
    """CPU seconds of the children reaped since the last call (the build just run, and what it started)."""
    import resource

    global _children_cpu  # noqa: PLW0603
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    spent, _children_cpu = total - _children_cpu, total
    return spent


def audio_seconds(stdout: str) -> float:
    match = re.search(r"\d+ chapters, (?:(\d+):)?(\d+):(\d+)\n", stdout)
    assert match, stdout
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def part_bytes(output: Path) -> tuple[int, int]:
    """Parts in the cache and their total MP3 bytes (speech and its pause: what a task's frames become)."""
    parts = list((output / ".cache" / "mp3").glob("*/*.mp3"))
    return len(parts), sum(p.stat().st_size - 20 for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="builds of each kind; the fastest counts")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    _cpu_of_last_child()
    results: dict[str, tuple[float, float]] = {}
    audio_s = 0.0
    clips = 0
    try:
        for jobs in (1, 2):
            runs = [build(work / f"local{jobs}", "-j", str(jobs)) for _ in range(args.repeat)]
            wall, cpu, stdout = min(runs)
            results[f"local pool, {jobs} job{'s' if jobs > 1 else ''}"] = (wall, cpu)
            audio_s = audio_seconds(stdout)
            clips = int(stdout.split("Clips: ")[1].split()[0])
        for cpus in (1, 2):
            with local_cluster(nodes=cpus) as cluster:
                runs = [build(work / f"ray{cpus}", "--ray", cluster.address) for _ in range(args.repeat)]
            wall, cpu, _ = min(runs)
            results[f"Ray, {cpus} worker CPU{'s' if cpus > 1 else ''}"] = (wall, cpu)
        parts, mp3_bytes = part_bytes(work / "ray2")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"seeds/: {audio_s / 60:.1f} min of audio, {clips} clips (tasks), {parts} parts")
    print(f"{'build':<24} {'wall s':>8} {'ms per audio s':>15} {'build process CPU s':>20}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<24} {wall:8.1f} {wall / audio_s * 1000:15.2f} {cpu:20.1f}")
    local1, local2 = results["local pool, 1 job"][0], results["local pool, 2 jobs"][0]
    ray1, ray2 = results["Ray, 1 worker CPU"][0], results["Ray, 2 worker CPUs"][0]
    print(f"Ray 2 CPUs / Ray 1 CPU:         {ray2 / ray1:.2f}  (target at most 0.60)")
    print(f"local pool faster than Ray, 1:  {ray1 / local1:.2f}x (target at most 1.30x)")
    print(f"local pool faster than Ray, 2:  {ray2 / local2:.2f}x (target at most 1.30x)")
    total_cpu = results["local pool, 1 job"][1]  # every stage, on this machine
    driver_cpu = results["Ray, 2 worker CPUs"][1]  # planning, writing parts, joining, tags, feed
    print(f"bytes sent back per clip:       {mp3_bytes / max(1, clips) / 1024:.1f} KiB of MP3 frames "
          f"({mp3_bytes / audio_s * 8 / 1000:.0f} kbit per audio second)")
    print(f"driver's share of the CPU time: {driver_cpu:.1f} s of {total_cpu:.1f} s ({driver_cpu / total_cpu:.0%})")


if __name__ == "__main__":
    main()
