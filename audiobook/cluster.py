"""Clip tasks on a Ray cluster: the one module that imports ``ray``.

``audiobook build --ray ADDRESS`` plans, joins chapters, tags and publishes on this machine, as
always; only making clips (speak, level, encode) runs on the cluster. A task makes a batch of
clips (:func:`batches`: as many as cost about a second of CPU, fewer towards the end of the book
so every CPU finishes about together) and sends back each clip's speech as MP3 frames; the parts
are written into the local cache here by the code a local worker runs
(:func:`audiobook.produce.write_parts`): the book is byte-identical to a local build. The cache
gets the parts, not the clips' WAV files: a later change of bitrate or loudness speaks those
clips again. A Ray worker process keeps its engine (eSpeak NG's helper process, a Piper model)
from one task to the next.

Ray does the rest, and nothing here is a scheduler or a protocol of our own: each task asks for
the CPUs it uses (so Ray never runs more of them on a node than it has cores), results are taken
as they finish (the progress bar moves as locally, a batch at a time), a task whose worker process
or node dies is run again by Ray (up to :data:`MAX_RETRIES` times), and cancelling (Ctrl-C, or a
clip that fails) cancels the tasks not finished. A clip that fails for a reason of its own fails
the build as it would locally, naming the clip and the worker; clips finished before it, and the
other clips of its task, stay in the cache.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
import time
from collections import deque
from collections.abc import Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import engines, produce, synthesize
from .engine import Voice
from .errors import AudiobookError

INSTALL = "pip install 'audiobook[ray]'"
MISSING = (
    f"--ray needs Ray, which is not installed here: {INSTALL} "
    "(and on every machine of the cluster: see the README, Ray clusters)"
)
ADDRESS_FORMS = "auto, HOST:PORT or ray://HOST:PORT"
LOCAL = "none"  # --ray none: build on this machine whatever voices.toml says
MAX_RETRIES = 3  # a task whose worker dies is run again by Ray, at most this many times
NEURAL_THREADS = 2  # threads (and so CPUs) a task asks for with a neural voice
# How many clips one task makes. Each task costs Ray a few milliseconds of CPU across the command, the
# raylet and the worker (submitting it, leasing a worker, sending the result back), so a task makes
# several short clips: at most BATCH_COST_S of estimated CPU (progress still moves every second or so
# per CPU, and a retried task redoes little), at most 1/BATCH_SHARE of what is left per CPU (tasks
# shrink towards the end, so the CPUs finish about together), and at most MAX_BATCH_CLIPS clips.
BATCH_COST_S = 1.0
BATCH_SHARE = 4
MIN_BATCH_COST_S = 0.1
MAX_BATCH_CLIPS = 32
# How long this command (the owner of the clip tasks) keeps a worker it was lent, giving it task after task.
# Ray's default is 500 ms: shorter than one task, so after every task the worker went back to its machine and
# the next task asked for one again, through the head's scheduler and on to the other machine (a gap of
# 15-90 ms per task here); near the end of a book the head, whose view of the other machine lags, kept the
# last tasks for its own worker while the other one stood idle (2.3 s of 38 in one run). Kept for a minute,
# each worker takes the next task the moment it is free; other jobs on the cluster wait at most that long
# for a CPU a build holds. Set RAY_worker_lease_timeout_milliseconds to choose otherwise. (Through Ray's
# client, ray://, the head's client server owns the tasks and keeps Ray's default.)
LEASE_MS = 60_000
CLIENT_ATTEMPTS = 3  # ray://: times to ask a head's client server for a session (see RayCluster)
AHEAD_PER_CPU = 2  # tasks per CPU sent ahead of what the cluster has finished, when they carry PCM (see RayBatch.send)
MAX_WARM_TASKS = 256  # worker processes readied as a session opens (see RayCluster), at most


class ClusterError(AudiobookError):
    """The cluster cannot be reached, or a task on it failed."""


def check_address(address: str) -> str:
    """The address as given if it has one of the forms Ray takes (`auto`, HOST:PORT, ray://HOST:PORT), or `none`."""
    if re.fullmatch(rf"auto|{LOCAL}|(ray://)?(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{{1,5}}", address):
        return address
    raise ClusterError(f"Ray address {address!r} is not one of {ADDRESS_FORMS} (or {LOCAL}, to build here)")


def task_cpus(voice: Voice, options: engines.EngineOptions) -> int:
    """CPUs one clip task uses: one for eSpeak NG (its helper process works while the task waits),
    a neural voice's inference threads for other engines."""
    return 1 if voice.engine == "espeak" else max(1, options.piper_threads)


def batches(tasks: Mapping[str, produce.ClipTask], cpus: int) -> list[tuple[str, ...]]:
    """The clips (keys of `tasks`, in their order: costliest first) grouped into one Ray task each; only clips
    asking for the same CPUs and made with the same settings share a task. See :data:`BATCH_COST_S`."""
    remaining_s = sum(task.cost_s for task in tasks.values())
    building: dict[Hashable, tuple[list[str], float]] = {}
    grouped: list[tuple[str, ...]] = []
    for key, task in tasks.items():
        kind = (task_cpus(task.voice, task.engine_options), task.bitrate_kbps, task.loudness_lufs, task.engine_options)
        keys, cost_s = building.pop(kind, ([], 0.0))
        keys.append(key)
        cost_s += task.cost_s
        cap_s = min(BATCH_COST_S, max(MIN_BATCH_COST_S, remaining_s / (max(1, cpus) * BATCH_SHARE)))
        if cost_s >= cap_s or len(keys) >= MAX_BATCH_CLIPS:
            grouped.append(tuple(keys))
            remaining_s -= cost_s
        else:
            building[kind] = (keys, cost_s)
    grouped.extend(tuple(keys) for keys, _ in building.values())
    return grouped


@dataclass(frozen=True)
class ClipWork:
    """One clip of a task, as the worker gets it: its text and voice, its speech if it was spoken before
    (then it is only levelled and encoded there), and the engine's id on the machine that runs the build."""

    text: str
    voice: Voice
    given: engines.Speech | None
    engine_id: str


@dataclass(frozen=True)
class SpeechFrames:
    """What a task sends back: the clip's speech as MP3 frames, or why it could not be made."""

    speech: bytes = b""
    error: str = ""  # one line, naming the clip and the worker


class RayCluster:
    """A session on a Ray cluster (one per run, shared by every book); a :class:`produce.Runner`.

    With `warm`, a task per CPU of each machine of the cluster readies a worker process as the
    session opens: it imports the clip code and starts eSpeak NG's helper, as a local pool's server does
    while the book is planned, instead of in the first clips' tasks."""

    def __init__(self, address: str, runtime_env: Mapping[str, Any] | None = None, warm: bool = False) -> None:
        ray = _ray()
        self.address = address
        _reach(address)  # Ray itself retries an address that does not answer for minutes
        for attempt in range(CLIENT_ATTEMPTS):
            try:
                ray.init(
                    address=address, runtime_env=dict(runtime_env) if runtime_env else None,
                    logging_level=logging.ERROR, log_to_driver=False,
                )
                break
            except ConnectionAbortedError as error:
                # ray://: the head's client server could not start this client's own server in time (a busy
                # head); a new attempt gets a new one
                if attempt + 1 == CLIENT_ATTEMPTS:
                    raise _not_connected(address, error) from None
                time.sleep(1.0 + attempt)
            except Exception as error:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
                raise _not_connected(address, error) from None
        self._remote = ray.remote(max_retries=MAX_RETRIES)(speak_clips)
        self._batches: list[RayBatch] = []
        self._warming: list[Any] = []
        if warm:
            self._warming = _warm(ray)

    def threads_per_task(self, tasks: int) -> int:
        """A neural voice's inference threads (and CPUs) per task: :data:`NEURAL_THREADS`, or fewer if no
        machine of the cluster has that many CPUs (a task asking for more than any machine has never runs)."""
        nodes = [node for node in _ray().nodes() if node.get("Alive")]
        largest = max((int(node.get("Resources", {}).get("CPU", 0)) for node in nodes), default=1)
        return max(1, min(NEURAL_THREADS, largest))

    def start(self, tasks: Mapping[str, produce.ClipTask]) -> RayBatch:
        ray = _ray()
        cpus = int(ray.cluster_resources().get("CPU", 1))
        batch = RayBatch(ray, dict(tasks), {}, self._remote, deque(batches(tasks, cpus)), AHEAD_PER_CPU * max(1, cpus))
        batch.send()
        self._batches.append(batch)
        return batch

    def close(self) -> None:
        """Cancel every task not finished (of every book) and leave the cluster."""
        ray = _ray()
        for batch in self._batches:
            batch.cancel()
        for ref in self._warming:
            ray.cancel(ref)
        ray.shutdown()


def _warm(ray: Any) -> list[Any]:
    """A task per CPU of each machine of the cluster, pinned to that machine, that readies a worker process there
    (see :func:`warm_worker`). Pinned, not spread: a warm task is so short that, spread, the second one often ran
    on the first one's worker, just free again, and left the other machine's worker to import everything in its
    first clip task (its first clips 1 s after the other machine's, here)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    ready = ray.remote(num_cpus=1, max_retries=0)(warm_worker)
    refs: list[Any] = []
    for node in ray.nodes():
        cpus = int(node.get("Resources", {}).get("CPU", 0)) if node.get("Alive") else 0
        where = NodeAffinitySchedulingStrategy(node["NodeID"], soft=True)  # elsewhere if that machine is gone
        pinned = ready.options(scheduling_strategy=where)
        refs += [pinned.remote() for _ in range(min(cpus, MAX_WARM_TASKS - len(refs)))]
    return refs


class Connecting:
    """A session on the cluster at `address` opened in the background while the first book is planned
    (importing Ray takes about a CPU-second; connecting, and the cluster starting this run's worker
    processes, take longer): see :class:`RayCluster`. Ray's client (ray://) is connected later, from the
    thread that uses it."""

    def __init__(self, address: str) -> None:
        import importlib.util
        import threading

        if importlib.util.find_spec("ray") is None:
            raise ClusterError(MISSING)  # at once, before the book is planned
        self.address = address
        self._imported = threading.Event()
        self._missing = False
        self._error: BaseException | None = None
        self._session: RayCluster | None = None
        self._handed = False
        self._thread = threading.Thread(target=self._connect, name="connect to Ray", daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        try:
            _ray()
        except ClusterError:
            self._missing = True
        finally:
            self._imported.set()
        if self._missing or self.address.startswith("ray://"):
            return
        try:
            self._session = RayCluster(self.address, warm=True)
        except BaseException as error:  # noqa: BLE001 - raised in the thread that asks for the session
            self._error = error

    def imported(self) -> None:
        """Wait until Ray is imported; ClusterError (what to install) if it cannot be."""
        self._imported.wait()
        if self._missing:
            raise ClusterError(MISSING)

    def session(self, runtime_env: Mapping[str, Any] | None) -> RayCluster:
        """The session, with the book's runtime environment (another session if it has one: Ray sets it per session)."""
        self.imported()
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._session is not None and not runtime_env:
            self._handed = True
            return self._session
        self.close()
        return RayCluster(self.address, runtime_env)

    def close(self) -> None:
        """Leave the session opened here unless it was handed out (then its user closes it)."""
        self._thread.join()
        if self._session is not None and not self._handed:
            self._session.close()
        self._session = None


@dataclass
class RayBatch:
    """One book's clip tasks on the cluster; a :class:`produce.Batch`."""

    ray: Any
    tasks: dict[str, produce.ClipTask]
    pending: dict[Any, tuple[str, ...]]  # each task not taken yet (its result) -> its clips' keys
    remote: Any  # speak_clips as a Ray remote function
    waiting: deque[tuple[str, ...]]  # the clips of each task not sent yet, in order
    ahead: int  # tasks with clips spoken before (their PCM read here and sent) not taken yet, at most
    _ids: dict[engines.EngineOptions, engines.EngineIds] = field(default_factory=dict)

    def send(self) -> None:
        """Send the waiting tasks, in order, up to the first that brings its clips' speech (clips spoken before:
        only levelled and encoded there) while :attr:`ahead` such tasks are not taken yet. Their WAV files are
        read as they are sent, not all at once: a rebuild that only encodes again holds a few tasks' PCM here,
        not the book's (1.6 GB for a ten-hour novel)."""
        carrying = sum(1 for keys in self.pending.values() if self._carries(keys))
        while self.waiting:
            keys = self.waiting[0]
            if self._carries(keys):
                if carrying >= self.ahead:
                    return
                carrying += 1
            self.waiting.popleft()
            self.pending[self._submit(keys)] = keys

    def _carries(self, keys: tuple[str, ...]) -> bool:
        return any(not self.tasks[key].speak for key in keys)

    def _submit(self, keys: tuple[str, ...]) -> Any:
        first = self.tasks[keys[0]]
        options = first.engine_options
        engine_ids = self._ids.setdefault(options, engines.EngineIds(options))
        clips = [
            ClipWork(
                self.tasks[key].text, self.tasks[key].voice,
                None if self.tasks[key].speak else produce.cached_speech(self.tasks[key].wav),  # encoded there
                engine_ids(self.tasks[key].voice),  # in the clip's cache key
            )
            for key in keys
        ]
        remote = self.remote.options(num_cpus=task_cpus(first.voice, options))
        return remote.remote(clips, first.bitrate_kbps, first.loudness_lufs, options)

    def results(self) -> Generator[tuple[str, produce.ClipDone], None, None]:
        """Each clip's parts, written into the cache as its task finishes; cancels the rest on any error or Ctrl-C."""
        ray, pending = self.ray, self.pending
        try:
            while pending:
                ray.wait(list(pending), num_returns=1)  # blocks until one is done (no polling here)
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)  # and any others done
                failure: ClusterError | None = None
                for ref in ready:
                    keys = pending.pop(ref)
                    try:
                        made = self._frames(keys, ref)
                    except ClusterError as error:
                        failure = failure or error
                        continue
                    self.send()  # the next tasks go out before this one's parts are written
                    for key, frames in zip(keys, made, strict=True):
                        if frames.error:
                            failure = failure or ClusterError(frames.error)  # the other clips made are still written
                        else:
                            yield key, self._written(key, frames)
                if failure:
                    raise failure
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Cancel the tasks not taken yet (queued ones never start; running ones are interrupted)."""
        self.waiting.clear()
        for ref in self.pending:
            self.ray.cancel(ref)
        self.pending.clear()

    def _frames(self, keys: tuple[str, ...], ref: Any) -> list[SpeechFrames]:
        """What a task sent back: each of its clips' frames (or why not), in order."""
        try:
            frames: list[SpeechFrames] = self.ray.get(ref)
        except self.ray.exceptions.RayError as error:
            raise ClusterError(_task_failure(error, [self.tasks[key] for key in keys])) from None
        return frames

    def _written(self, key: str, frames: SpeechFrames) -> produce.ClipDone:
        """The clip's parts, written into the cache from the frames its task sent back."""
        task = self.tasks[key]
        return task.speak, produce.write_parts(frames.speech, task.targets, task.bitrate_kbps)


def _task_failure(error: Exception, tasks: Sequence[produce.ClipTask]) -> str:
    """One line for a task Ray could not finish (its worker died too often, or it failed in Ray itself),
    naming its first clip."""
    exceptions = _ray().exceptions
    if isinstance(error, exceptions.WorkerCrashedError | exceptions.NodeDiedError | exceptions.ObjectLostError):
        what = f"its worker died {1 + MAX_RETRIES} times ({type(error).__name__})"
    else:
        cause = getattr(error, "cause", None) or error
        what = f"{type(cause).__name__}: {_first_line(cause)}"
        if isinstance(cause, ImportError):
            what += ": install the package on every worker (see the README, Ray clusters)"
    clip = produce.clip_name(tasks[0].text, tasks[0].voice)
    if len(tasks) > 1:
        clip += f" and {len(tasks) - 1} more in its task"
    return f"{clip}: failed on the Ray cluster: {what}; clips finished so far are cached: run again to resume"


# --- on the cluster's workers ------------------------------------------------------------------


def warm_worker() -> None:
    """A Ray task as a session opens: this worker process has imported the clip code (to run this); it
    starts its eSpeak NG helper too, before its first clip."""
    synthesize.start_helper()


def speak_clips(
    clips: Sequence[ClipWork], bitrate_kbps: int, loudness_lufs: float, options: engines.EngineOptions
) -> list[SpeechFrames]:
    """A Ray task: each clip's frames, or why it could not be made (see :func:`speak_clip`), in order. A clip
    that fails does not stop the others (a voice missing here fails only its own clips): they are kept."""
    return [
        speak_clip(clip.text, clip.voice, clip.given, bitrate_kbps, loudness_lufs, options, clip.engine_id)
        for clip in clips
    ]



def speak_clip(
    text: str, voice: Voice, given: engines.Speech | None, bitrate_kbps: int, loudness_lufs: float,
    options: engines.EngineOptions, engine_id: str,
) -> SpeechFrames:
    """A Ray task: the clip's speech as MP3 frames (spoken here unless given), or why not. `engine_id` is
    the engine's version on the machine that runs the build: a worker whose engine differs refuses."""
    try:
        _check_voice(voice, options)
    except AudiobookError as error:
        return SpeechFrames(error=(
            f"{produce.clip_name(text, voice)}: worker {_worker()} cannot speak voice {voice.voice_id!r}: {error}: "
            "install it on every worker of the cluster (see the README, Ray clusters)"
        ))
    if given is None:
        here = _engine_ids(options)(voice)
        if here != engine_id:
            return SpeechFrames(error=(
                f"{produce.clip_name(text, voice)}: worker {_worker()} has {here}, but this build's cache is of "
                f"{engine_id}: its clips would differ from a local build's; install the same version on every "
                "worker (see the README, Ray clusters)"
            ))
    try:
        return SpeechFrames(produce.speech_frames(text, voice, given, bitrate_kbps, loudness_lufs, options))
    except AudiobookError as error:
        return SpeechFrames(error=f"{error} (on worker {_worker()})")


@functools.cache
def _check_voice(voice: Voice, options: engines.EngineOptions) -> None:
    """Raise once per worker process and voice if this machine cannot speak it (a voice not installed here)."""
    engines.check_voice(voice, options)


@functools.cache
def _engine_ids(options: engines.EngineOptions) -> engines.EngineIds:
    """This worker's engine versions (each looked up once per worker process and engine, or model)."""
    return engines.EngineIds(options)


def _worker() -> str:
    """This worker, for messages: its host name and the address of its Ray node (the host name alone
    outside a Ray worker, where Ray would guess an address by routing towards a public one)."""
    ray = _ray()
    if not ray.is_initialized():
        return socket.gethostname()
    return f"{socket.gethostname()} ({ray.util.get_node_ip_address()})"


# --- Ray itself --------------------------------------------------------------------------------


def _ray() -> Any:
    os.environ.setdefault("RAY_worker_lease_timeout_milliseconds", str(LEASE_MS))  # read as Ray connects: see LEASE_MS
    try:
        import ray
    except ImportError:
        raise ClusterError(MISSING) from None
    return ray


def _reach(address: str, timeout_s: float = 10) -> None:
    """ClusterError unless something listens at HOST:PORT (`auto` is Ray's to find)."""
    found = re.fullmatch(r"(?:ray://)?\[?([^\]]+?)\]?:(\d+)", address)
    if not found:
        return
    try:
        socket.create_connection((found[1], int(found[2])), timeout=timeout_s).close()
    except OSError as error:
        raise ClusterError(
            f"cannot reach the Ray cluster at {address}: {error.strerror or error}: "
            "start it there with `ray start --head` (see the README, Ray clusters), or check the address"
        ) from None


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _not_connected(address: str, error: BaseException) -> ClusterError:
    """One line: why Ray would not connect (for a failure the client server reports with a traceback, the
    traceback's last line, which names the cause) and what to do."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    why = " ".join(lines[:1] + lines[-1:]) if len(lines) > 1 and lines[0].endswith(":") else _first_line(error)
    return ClusterError(
        f"cannot connect to the Ray cluster at {address}: {why}: "
        "start one with `ray start --head` (see the README, Ray clusters), or leave out --ray"
    )
