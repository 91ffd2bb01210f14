"""`--ray` and several books, without a cluster: addresses, `[build]` in voices.toml, which sources are
which books, the one line without Ray installed, and the order a run of several books works in.
(The builds on a real Ray cluster are in test_ray.py.)"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from faults import STORIES, write_book
from typer.testing import CliRunner

from audiobook.build import Progress, build_books
from audiobook.cli import app
from audiobook.cluster import ClusterError, check_address, task_cpus
from audiobook.config import load_config
from audiobook.engine import Voice
from audiobook.engines import EngineOptions
from audiobook.errors import ConfigError, InputError
from audiobook.plan import BuildOptions, books_of
from audiobook.produce import Batch, ClipTask, LocalPool

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("address", ["auto", "none", "127.0.0.1:6379", "head.example:6379", "ray://head:10001",
                                     "ray://10.0.0.5:10001", "[::1]:6379"])
def test_ray_addresses_ray_takes_are_accepted(address: str) -> None:
    assert check_address(address) == address


@pytest.mark.parametrize(
    "address", ["", "head", "ray://head", "http://head:8265", "head:port", "ray://:10001", "h:1234567"]
)
def test_other_ray_addresses_are_one_line_errors(address: str) -> None:
    with pytest.raises(ClusterError) as error:
        check_address(address)
    assert "auto, HOST:PORT or ray://HOST:PORT" in str(error.value) and "\n" not in str(error.value)


def test_a_task_asks_for_one_cpu_with_espeak_and_its_threads_with_a_neural_voice() -> None:
    assert task_cpus(Voice("en-us+f3"), EngineOptions(piper_threads=3)) == 1
    assert task_cpus(Voice("piper:en_US-joe-medium"), EngineOptions(piper_threads=3)) == 3


def test_build_table_in_voices_toml(tmp_path: Path) -> None:
    voices = tmp_path / "voices.toml"
    voices.write_text('[build]\nray = "ray://head:10001"\nray_runtime_env = { env_vars = { A = "1" } }\n')
    config = load_config(voices)
    assert config.ray == "ray://head:10001" and config.ray_runtime_env == {"env_vars": {"A": "1"}}
    voices.write_text('[book]\ntitle = "T"\n\n[build]\nray = "head"\n')
    with pytest.raises(ConfigError, match=r"voices.toml:5: Ray address 'head' is not one of"):
        load_config(voices)
    voices.write_text('[build]\nray_runtime_env = "pip"\n')
    with pytest.raises(ConfigError, match=r"voices.toml:2: 'ray_runtime_env' must be a table"):
        load_config(voices)
    voices.write_text('[build]\nworkers = 3\n')
    with pytest.raises(ConfigError, match=r"voices.toml:2: unknown key 'workers' in \[build\]"):
        load_config(voices)


def test_several_folders_or_epubs_are_several_books_and_story_files_one(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    story, other, epub = tmp_path / "one.txt", tmp_path / "two.txt", tmp_path / "novel.epub"
    assert books_of([a]) == [(a,)]
    assert books_of([a, b, epub]) == [(a,), (b,), (epub,)]
    assert books_of([story, other]) == [(story, other)]
    assert books_of([a, story]) == [(a, story)]  # one folder and its extra chapter: one book, as before
    with pytest.raises(InputError, match="one.txt: a story file among several books"):
        books_of([a, b, story])


def test_title_for_several_books_is_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "01.txt").write_text("Hello.\n")
    result = CliRunner().invoke(app, ["build", str(tmp_path / "a"), str(tmp_path / "b"), "--title", "T"])
    assert result.exit_code == 1
    assert result.output.startswith("error: --title names one book, but 2 books are given")


def test_ray_address_is_checked_before_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", str(tmp_path), "--ray", "head"])
    assert result.exit_code == 1
    assert result.output == (
        "error: Ray address 'head' is not one of auto, HOST:PORT or ray://HOST:PORT (or none, to build here)\n"
    )


def test_without_ray_installed_ray_is_one_line_saying_what_to_install(tmp_path: Path) -> None:
    """A real `audiobook build --ray` in a Python where `import ray` fails (a stand-in package that refuses)."""
    blocker = tmp_path / "blocker" / "ray"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ImportError("No module named \'ray\'")\n')
    stories = write_book(tmp_path, STORIES)
    env = {"PYTHONPATH": f"{blocker.parent}:{ROOT}", "PATH": "/usr/bin:/bin", "CI": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "audiobook.cli", "build", str(stories), "-o", str(tmp_path / "out"), "--ray", "auto"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: --ray needs Ray, which is not installed here: pip install 'audiobook[ray]' "
        "(and on every machine of the cluster: see the README, Ray clusters)\n"
    )
    assert not (tmp_path / "out").exists()  # nothing planned, nothing written


@dataclass
class Recording:
    """A runner that makes clips with the local pool and notes when each book's clips start and finish."""

    events: list[str]
    pool: LocalPool = field(default_factory=lambda: LocalPool(2))
    books: int = 0

    def threads_per_task(self, tasks: int) -> int:
        return 1

    def start(self, tasks: Mapping[str, ClipTask]) -> Batch:
        self.books += 1
        self.events.append(f"start {self.books}")
        return self.pool.start(tasks)


@pytest.mark.needs_espeak
def test_the_next_books_clips_start_before_the_last_book_is_joined(tmp_path: Path) -> None:
    events: list[str] = []
    runner = Recording(events)
    books = []
    for name in ("one", "two"):
        stories = write_book(tmp_path / name, {"01.txt": STORIES["01.txt"]})
        (stories / "voices.toml").write_text(f'[book]\ntitle = "Book {name}"\n')
        books.append(BuildOptions((stories,), tmp_path / "out", jobs=2))

    def on_progress(event: Progress) -> None:
        if event.stage == "write" and event.done == event.total:
            events.append(f"written {event.book}")

    results = list(build_books(books, on_progress, runner=runner))
    assert [r.plan.title for r in results] == ["Book one", "Book two"]
    assert events == ["start 1", "start 2", "written Book one", "written Book two"]


@pytest.mark.needs_espeak
def test_a_worker_with_another_engine_version_refuses_and_one_with_the_same_makes_the_local_frames() -> None:
    """The task itself, run here as a worker would run it: the engine version it is sent is the build
    machine's (part of the clip's cache key); a worker whose eSpeak NG differs would put other audio
    under that key, so it refuses, naming itself and both versions."""
    pytest.importorskip("ray", reason="needs Ray: pip install -e '.[ray]' (bash setup.sh installs it)")
    from audiobook.cluster import speak_clip
    from audiobook.engines import DEFAULT_OPTIONS, engine_id
    from audiobook.produce import speech_frames

    voice = Voice("en-us+f3")
    text = "The lamps came on along the harbour wall."
    here = engine_id(voice)
    other = speak_clip(text, voice, None, 64, -19.0, DEFAULT_OPTIONS, "espeak-ng 0.1 / pyttsx3 0.1")
    assert other.speech == b""
    assert other.error.startswith("clip 'The lamps came on along the harbour w...' (en-us+f3): worker ")
    assert f"has {here}, but this build's cache is of espeak-ng 0.1 / pyttsx3 0.1" in other.error
    assert "install the same version on every worker" in other.error and "\n" not in other.error
    same = speak_clip(text, voice, None, 64, -19.0, DEFAULT_OPTIONS, here)
    assert same.error == ""
    assert same.speech == speech_frames(text, voice, None, 64, -19.0, DEFAULT_OPTIONS) != b""


def clip_tasks(costs: list[float], voice: str = "en-us+f3") -> dict[str, ClipTask]:
    options = EngineOptions(piper_threads=2)  # a Piper clip's task asks for 2 CPUs, an eSpeak NG one for 1
    return {
        f"{voice}-{i}": ClipTask(f"line {i}", Voice(voice), Path(f"{i}.wav"), True, (), 64, -19.0, options, cost)
        for i, cost in enumerate(costs)
    }


def test_clips_are_grouped_into_tasks_of_about_a_second_shrinking_towards_the_end() -> None:
    """A book's clips, costliest first as produce hands them over: every clip in exactly one task, in order;
    no task much over a second of work; tasks get smaller towards the end, so two CPUs finish together."""
    from audiobook.cluster import BATCH_COST_S, MAX_BATCH_CLIPS, batches

    costs = [2.5, 1.2] + [0.06] * 300 + [0.004] * 100  # two long clips, many ordinary ones, short "yes"es
    tasks = clip_tasks(costs)
    grouped = batches(tasks, cpus=2)
    assert [key for batch in grouped for key in batch] == list(tasks)
    cost = [sum(tasks[key].cost_s for key in batch) for batch in grouped]
    assert grouped[:2] == [("en-us+f3-0",), ("en-us+f3-1",)]  # a clip over a second is a task of its own
    assert all(c < BATCH_COST_S + 0.06 for c in cost[2:])
    assert all(len(batch) <= MAX_BATCH_CLIPS for batch in grouped)
    assert len(grouped) < len(tasks) / 5  # far fewer tasks than clips
    ordinary = cost[2:-1]
    assert ordinary == sorted(ordinary, reverse=True) and ordinary[-1] < ordinary[0] / 3  # shrinking to the end
    assert len(grouped[2]) >= 15
    assert max(len(batch) for batch in batches(tasks, cpus=64)[2:100]) == 2  # many CPUs: the smallest tasks


class _RayTasks:
    """Stands in for `ray` and the remote task function: each task sent is done at once, and taken in the
    order sent; counts the tasks sent and not taken yet, at most."""

    class exceptions:  # noqa: N801 - as `ray.exceptions`
        RayError = RuntimeError

    def __init__(self) -> None:
        self.results: dict[object, list[object]] = {}
        self.most_out = 0

    def options(self, **_: object) -> _RayTasks:
        return self

    def remote(self, clips: list[object], *_: object) -> object:
        from audiobook.cluster import SpeechFrames

        ref = object()
        self.results[ref] = [SpeechFrames(b"frames") for _ in clips]
        self.most_out = max(self.most_out, len(self.results))
        return ref

    def wait(self, refs: list[object], num_returns: int = 1, timeout: float | None = None) -> tuple[list, list]:
        ready = [ref for ref in self.results if ref in refs][:num_returns]
        return ready, [ref for ref in refs if ref not in ready]

    def get(self, ref: object) -> list[object]:
        return self.results.pop(ref)

    def cancel(self, ref: object) -> None:
        self.results.pop(ref, None)


def test_clips_spoken_before_are_read_from_the_cache_as_their_tasks_are_sent_not_all_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rebuild that only encodes again (another bitrate) sends each clip's speech to the cluster: the WAV
    files are read a few tasks ahead of the results, never the whole book's at once; each once, in order."""
    from collections import deque

    from audiobook import cluster, produce
    from audiobook.engines import Speech

    reads: list[Path] = []

    def cached_speech(wav: Path) -> Speech:
        reads.append(wav)
        return Speech(b"\0\0" * 100, 22050)

    monkeypatch.setattr(produce, "cached_speech", cached_speech)
    tasks = {key: replace(task, speak=False) for key, task in clip_tasks([0.3] * 60).items()}  # 3 clips a task
    ray = _RayTasks()
    batch = cluster.RayBatch(ray, tasks, {}, ray, deque(cluster.batches(tasks, cpus=2)), ahead=4)
    batch.send()
    assert len(batch.pending) == 4 and len(reads) == sum(len(keys) for keys in batch.pending.values()) < 60
    done = [key for key, (spoken, parts) in batch.results()]
    assert done == list(tasks) and ray.most_out == 4
    assert reads == [task.wav for task in tasks.values()]


def test_clips_asking_for_other_cpus_or_settings_never_share_a_task() -> None:
    from audiobook.cluster import batches

    espeak = clip_tasks([0.01] * 10)
    piper = clip_tasks([0.01] * 10, "piper:en_US-joe-medium")
    louder = {f"loud-{key}": replace(task, loudness_lufs=-16.0) for key, task in clip_tasks([0.01] * 10).items()}
    mixed = {key: tasks[key] for trio in zip(espeak, piper, louder, strict=True)
             for tasks, key in zip((espeak, piper, louder), trio, strict=True)}
    grouped = batches(mixed, cpus=2)
    assert sorted(key for batch in grouped for key in batch) == sorted(mixed)
    for batch in grouped:
        kinds = {(mixed[key].voice.engine, mixed[key].loudness_lufs) for key in batch}
        assert len(kinds) == 1, batch
    assert len(grouped) == 3


class _RayClientServer:
    """Stands in for `ray` (the module) as a head's client server answers `ray.init("ray://…")`: the first
    `failures` calls fail the way Ray reports a client's own server that did not start in time."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def init(self, **_: object) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionAbortedError(
                "Initialization failure from server:\nTraceback (most recent call last):\n"
                '  File "proxier.py", line 780, in Datapath\n'
                "RuntimeError: Proxy failed to Connect to backend! Check `ray_client_server.err`"
            )

    def remote(self, **_: object) -> object:
        return lambda function: function


@pytest.mark.parametrize("failures", [1, 2])
def test_a_client_server_slow_to_start_this_clients_server_is_asked_again(
    failures: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiobook import cluster

    ray = _RayClientServer(failures)
    monkeypatch.setattr(cluster, "_ray", lambda: ray)
    monkeypatch.setattr(cluster, "_reach", lambda address: None)
    monkeypatch.setattr(cluster.time, "sleep", lambda seconds: None)
    cluster.RayCluster("ray://127.0.0.1:10001")
    assert ray.calls == failures + 1


def test_a_client_server_that_never_starts_this_clients_server_is_one_line_naming_the_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from audiobook import cluster

    ray = _RayClientServer(failures=99)
    monkeypatch.setattr(cluster, "_ray", lambda: ray)
    monkeypatch.setattr(cluster, "_reach", lambda address: None)
    monkeypatch.setattr(cluster.time, "sleep", lambda seconds: None)
    with pytest.raises(ClusterError) as error:
        cluster.RayCluster("ray://127.0.0.1:10001")
    assert ray.calls == cluster.CLIENT_ATTEMPTS
    assert str(error.value) == (
        "cannot connect to the Ray cluster at ray://127.0.0.1:10001: Initialization failure from server: "
        "RuntimeError: Proxy failed to Connect to backend! Check `ray_client_server.err`: "
        "start one with `ray start --head` (see the README, Ray clusters), or leave out --ray"
    )
