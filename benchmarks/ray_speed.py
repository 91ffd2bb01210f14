"""Builds on a Ray cluster against the local pool, on the same CPUs, in one run.

    nice -n 10 .venv/bin/python benchmarks/ray_speed.py [--repeat N]

Builds `seeds/` cold (an empty cache each time) four ways: the local pool with 1 and 2 jobs,
and `--ray` on a local cluster (bound to 127.0.0.1) of one-CPU nodes, with 1 and 2 worker CPUs.
Prints wall time per second of audio for each, and the ratios the Ray issue sets targets for:
2 worker CPUs against 1 (at most 0.6), and the local pool against Ray on the same CPUs (the
local pool at most 1.3 times faster). Also what the README's scaling paragraph needs: clips
and parts per book, bytes sent back per clip, and where the CPU time goes (from /proc
sampled every 50 ms): the build command itself, the clip work (local workers and their eSpeak
NG helpers, or Ray's workers), and Ray's own processes (raylets, GCS, agents, idle workers).
For each Ray build, from Ray's own task events (`ray.timeline`): how long before the first clip task
started, and how long the worker CPUs stood idle while tasks were left (a worker starting late, the gaps
between its tasks, the tail when one is done before another): what scheduling loses, which a loaded machine
does not blur as it does the wall times.
Every build must write the same chapters, byte for byte, as the first (the same work).
A Ray build starts once its cluster has settled (the processes a new cluster starts have done
their own start-up work), as on a cluster that is already running.

Machines are shared and noisy: only ratios measured in the same run mean anything. With
--repeat N the four kinds take turns N times (so load that comes and goes falls on all of them)
and the fastest of each counts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from processes import CHILDREN_SYSTEM_TICKS, CHILDREN_USER_TICKS, SYSTEM_TICKS, USER_TICKS, below, stat_fields  # noqa: E402
from raycluster import ENVIRONMENT, local_cluster  # noqa: E402  (sets Ray's environment first)

AUDIOBOOK = [sys.executable, "-m", "audiobook.cli"]
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    wall_s: float
    driver_cpu_s: float  # the build command's own process
    worker_cpu_s: float  # the clip work: local workers and their eSpeak helpers, or Ray's workers that ran clips
    ray_cpu_s: float  # Ray's own processes during the build: raylets, GCS, agents, log monitor, idle workers
    stdout: str
    started_s: float = 0.0  # the command's start, in seconds since the epoch (as Ray's task events count)
    schedule: Schedule | None = None  # a Ray build's clip tasks, from Ray's task events


@dataclass(frozen=True)
class Schedule:
    """Where a Ray build's worker CPUs stood idle, from Ray's own task events (start and end of each clip task
    on its worker): what scheduling loses, whatever the load (a loaded machine slows the tasks themselves)."""

    cpus: int
    tasks: int
    before_s: float  # from the command's start to the first clip task's (reading, planning, connecting)
    late_s: float  # CPU-seconds of workers starting their first task after the first task started
    between_s: float  # CPU-seconds between one task's end and the next one's start on a worker
    tail_s: float  # CPU-seconds of workers done while another still ran the last tasks
    span_s: float  # from the first task's start to the last one's end
    after_s: float  # from the last task's end to the command's end (joining, tags, feed, leaving)

    def idle_s(self) -> float:
        return self.late_s + self.between_s + self.tail_s


def schedule(address: str, cpus: int, started_s: float, ended_s: float) -> Schedule:
    """The clip tasks of the build that just ran on the cluster at `address` (its only job's), from ray.timeline."""
    import ray

    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    try:
        time.sleep(2)  # workers report their task events every second
        events = [e for e in ray.timeline() if e.get("cat") == "task::speak_clips"]
    finally:
        ray.shutdown()
    workers: dict[str, list[tuple[float, float]]] = {}
    for event in events:
        start_s = event["ts"] / 1e6
        workers.setdefault(event["tid"], []).append((start_s, start_s + event["dur"] / 1e6))
    first = min(start for spans in workers.values() for start, _ in spans)
    last = max(end for spans in workers.values() for _, end in spans)
    late = between = tail = 0.0
    for spans in workers.values():
        spans.sort()
        late += spans[0][0] - first
        between += sum(start - end for (_, end), (start, _) in itertools.pairwise(spans))
        tail += last - spans[-1][1]
    late += (last - first) * (cpus - len(workers))  # a CPU that never ran a clip task
    return Schedule(cpus, len(events), first - started_s, late, between, tail, last - first, ended_s - last)


class CpuSampler:
    """CPU seconds of the processes under `root`, split by a test on their command line; each process's
    last sample counts (a process that lives under 50 ms can be missed: eSpeak's per-clip forks are
    counted through their helper's reaped-children time instead)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.last: dict[int, tuple[set[str], float]] = {}  # pid -> (the command lines seen, CPU seconds)
        self.before: dict[int, float] = {}  # CPU seconds of the processes there before (a cluster's)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> CpuSampler:
        self.before = {pid: cpu_s for pid, (_, cpu_s) in _tree(self.root).items()}
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for pid, (command, cpu_s) in _tree(self.root).items():
                seen = self.last.get(pid, (set(), 0.0))[0]  # a Ray worker is ray::IDLE between its tasks
                self.last[pid] = (seen | {command}, cpu_s)
            self._stop.wait(0.05)

    def cpu_s(self, which: str = "", but: tuple[str, ...] = ()) -> float:
        """CPU seconds since the start of processes with `which` in a command line, and none of `but`."""
        return sum(
            cpu - self.before.get(pid, 0.0) for pid, (commands, cpu) in self.last.items()
            if any(which in command for command in commands)
            and not any(other in command for command in commands for other in but)
        )


def settle(root: int, timeout_s: float = 60) -> None:
    """Wait until the processes under `root` (a new cluster's) use under a tenth of a core for a second."""
    deadline = time.monotonic() + timeout_s
    last = sum(cpu for _, cpu in _tree(root).values())
    while time.monotonic() < deadline:
        time.sleep(1)
        now = sum(cpu for _, cpu in _tree(root).values())
        if now - last < 0.1:
            return
        last = now


def _tree(root: int) -> dict[int, tuple[str, float]]:
    """Every process under `root` (not root itself): its command line and CPU seconds (a zygote helper's
    includes its reaped per-clip children)."""
    fields = stat_fields()
    found: dict[int, tuple[str, float]] = {}
    for pid in below(root, fields):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        stat = fields[pid]
        ticks = int(stat[USER_TICKS]) + int(stat[SYSTEM_TICKS])
        if "audiobook.zygote" in command:
            ticks += int(stat[CHILDREN_USER_TICKS]) + int(stat[CHILDREN_SYSTEM_TICKS])  # the clips it forked
        found[pid] = (command, ticks / _TICKS_PER_S)
    return found


def build(output: Path, *extra: str) -> Run:
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, **ENVIRONMENT, "CI": "1", "PYTHONPATH": str(ROOT)}
    command = [*AUDIOBOOK, "build", str(ROOT / "seeds"), "-o", str(output),
               "--voices", str(ROOT / "voices.toml"), *extra]
    os.sync()
    with CpuSampler(os.getpid()) as sampler:
        started_s = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        stdout, stderr = process.communicate()
        wall_s = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr}")
    driver = sampler.cpu_s("audiobook.cli build")
    helpers = sampler.cpu_s("audiobook.zygote")  # each worker's eSpeak NG helper, wherever it runs
    ray = "--ray" in extra
    workers = sampler.cpu_s("ray::speak_clips" if ray else "forkserver") + helpers
    own = sampler.cpu_s(but=("audiobook.cli build", "audiobook.zygote", "ray::speak_clips")) if ray else 0.0
    return Run(wall_s, driver, workers, own, stdout, started_s)


def chapters(output: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(output.glob("*/*.mp3"))}


def audio_seconds(stdout: str) -> float:
    match = re.search(r"\d+ chapters, (?:(\d+):)?(\d+):(\d+)\n", stdout)
    assert match, stdout
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def part_bytes(output: Path) -> tuple[int, int]:
    """Parts in the cache and their total MP3 bytes (speech and its pause: what a task's frames become)."""
    parts = list((output / ".cache" / "mp3").glob("*/*.mp3"))
    return len(parts), sum(p.stat().st_size for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="turns of the four builds; the fastest of each counts")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    runs: dict[str, list[Run]] = {}
    first: dict[str, bytes] = {}

    def same_work(output: Path) -> None:
        made = chapters(output)
        first.update(first or made)
        if made != first:
            sys.exit(f"{output.name} wrote other chapters than the first build: not the same work")

    try:
        for _ in range(args.repeat):
            for jobs in (1, 2):
                name = f"local pool, {jobs} job{'s' if jobs > 1 else ''}"
                runs.setdefault(name, []).append(build(work / f"local{jobs}", "-j", str(jobs)))
                same_work(work / f"local{jobs}")
            for cpus in (1, 2):  # a cluster at a time: its idle processes would take a little from the others
                with local_cluster(nodes=cpus) as cluster:
                    settle(os.getpid())
                    name = f"Ray, {cpus} worker CPU{'s' if cpus > 1 else ''}"
                    run = build(work / f"ray{cpus}", "--ray", cluster.address)
                    tasks = schedule(cluster.address, cpus, run.started_s, run.started_s + run.wall_s)
                    runs.setdefault(name, []).append(replace(run, schedule=tasks))
                    same_work(work / f"ray{cpus}")
        parts, mp3_bytes = part_bytes(work / "ray2")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    best = {name: min(kind, key=lambda run: run.wall_s) for name, kind in runs.items()}
    stdout = best["local pool, 1 job"].stdout
    audio_s = audio_seconds(stdout)
    clips = int(stdout.split("Clips: ")[1].split()[0])
    print(f"seeds/: {audio_s / 60:.1f} min of audio, {clips} clips, {parts} parts; "
          f"fastest of {args.repeat} per kind; load average now {os.getloadavg()[0]:.1f}")
    print(f"{'build':<22} {'wall s':>7} {'wall ms per audio s':>20} {'command CPU s':>14} {'clip work CPU s':>16} "
          f"{'Ray own CPU s':>14} {'all CPU s':>10}")
    for name, run in best.items():
        every = run.driver_cpu_s + run.worker_cpu_s + run.ray_cpu_s
        print(f"{name:<22} {run.wall_s:7.1f} {run.wall_s / audio_s * 1000:20.2f} "
              f"{run.driver_cpu_s:14.1f} {run.worker_cpu_s:16.1f} {run.ray_cpu_s:14.1f} {every:10.1f}")
    local1, local2 = best["local pool, 1 job"].wall_s, best["local pool, 2 jobs"].wall_s
    ray1, ray2 = best["Ray, 1 worker CPU"], best["Ray, 2 worker CPUs"]
    print(f"Ray 2 CPUs / Ray 1 CPU:                {ray2.wall_s / ray1.wall_s:.2f}  (target at most 0.60)")
    print(f"  the local pool's own 2 jobs / 1 job:  {local2 / local1:.2f}  (what this machine gave two processes now)")
    print(f"local pool faster than Ray, 1 CPU:     {ray1.wall_s / local1:.2f}x (target at most 1.30x)")
    print(f"local pool faster than Ray, 2 CPUs:    {ray2.wall_s / local2:.2f}x (target at most 1.30x)")
    print(f"bytes sent back per clip:              {mp3_bytes / max(1, parts) / 1024:.1f} KiB of MP3 frames "
          f"({mp3_bytes * 8 / audio_s / 1000:.0f} kbit per second of audio)")
    every = ray2.driver_cpu_s + ray2.worker_cpu_s + ray2.ray_cpu_s
    print(f"driver's share of the CPU (Ray, 2):    {ray2.driver_cpu_s:.1f} s of {every:.1f} s "
          f"({ray2.driver_cpu_s / every:.0%}): planning, writing parts, joining, tags, feed; "
          f"Ray's own processes {ray2.ray_cpu_s:.1f} s ({ray2.ray_cpu_s / every:.0%})")
    for name in ("Ray, 1 worker CPU", "Ray, 2 worker CPUs"):
        tasks = best[name].schedule
        assert tasks is not None
        print(f"{name + ':':<19} {tasks.before_s:.1f} s before the first clip task; {tasks.tasks} tasks over "
              f"{tasks.span_s:.1f} s; CPUs idle while tasks were left {tasks.idle_s():.1f} s of "
              f"{tasks.cpus * tasks.span_s:.1f} ({tasks.idle_s() / (tasks.cpus * tasks.span_s):.1%}: "
              f"late start {tasks.late_s:.1f}, between tasks {tasks.between_s:.1f}, tail {tasks.tail_s:.1f}); "
              f"{tasks.after_s:.1f} s after the last")
    local2_cpu = (lambda r: r.driver_cpu_s + r.worker_cpu_s)(best["local pool, 2 jobs"])
    print(f"all CPU, Ray 2 CPUs / local pool 2 jobs: {every / local2_cpu:.2f}  (with both cores busy and nothing "
          "else running, the local pool is at least this much faster)")


if __name__ == "__main__":
    main()
    sys.stdout.flush()  # before Ray's exit handlers (with ray.init in this process, the report was lost unflushed)
