"""A real Ray cluster of two nodes on this machine, bound to 127.0.0.1, for the `--ray` tests.

Each node is a raylet with one CPU and a small object store, started by ``ray.cluster_utils.Cluster``
in this process (so its processes are this test run's children and go with it). Nothing is sent to
any address but 127.0.0.1: usage statistics are off, no dashboard is started, and Ray's lookup of
"this machine's address" answers the loopback address (otherwise it turns 127.0.0.1 into the
machine's network address). :func:`foreign_connections` checks that on the sockets themselves.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_TITLE = "ray::speak_clips"  # what Ray names a worker process while it runs a task of clips
# Read by Ray in this process, in the nodes it starts, and in the builds the tests run.
ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",
    # Ray's "is this a multi-machine cluster" switch: off, its guess at this machine's address is
    # 127.0.0.1 rather than the network interface's (several nodes on one machine still work)
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_DEDUP_LOGS": "0",
}
# Ray reads some of these once, as it is imported: set them before anything imports it (test_ray imports
# this module first); a build run against the cluster gets them in its environment.
os.environ.update(ENVIRONMENT)
NODE = {
    "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False,
    "object_store_memory": 80 * 1024 * 1024,
}


@dataclass
class LocalCluster:
    address: str  # 127.0.0.1:PORT of the head's GCS
    environment: dict[str, str]  # for a build run against it
    cluster: object = field(repr=False)
    pids: set[int] = field(default_factory=set)  # this test process and its children (the nodes)
    client_address: str | None = None  # ray://127.0.0.1:PORT of the head's Ray client server, if it has one

    def build_env(self) -> dict[str, str]:
        return {**os.environ, **self.environment, "CI": "1", "PYTHONPATH": str(ROOT)}


@contextmanager
def local_cluster(nodes: int = 2, client_server: bool = False) -> Iterator[LocalCluster]:
    """A cluster of `nodes` one-CPU nodes (the head with a Ray client server on 127.0.0.1 if asked); shut down
    (every process of it) when the block ends, however."""
    temp = tempfile.mkdtemp(prefix="abray-")  # short: Ray's socket paths must fit in 107 bytes
    environment = {**ENVIRONMENT, "RAY_TMPDIR": temp}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    cluster = None
    try:
        from ray.cluster_utils import Cluster

        client_port = free_port() if client_server else None
        head = {**NODE, "ray_client_server_port": client_port} if client_port else NODE
        try:
            cluster = Cluster(initialize_head=True, head_node_args=head, shutdown_at_exit=True)
            for _ in range(nodes - 1):
                cluster.add_node(**NODE)
            cluster.wait_for_nodes(timeout=120)
        except Exception as error:  # noqa: BLE001 - any failure to start means these tests cannot run here
            import pytest

            pytest.skip(f"Ray cannot start a local cluster here: {type(error).__name__}: {error}")
        client = f"ray://127.0.0.1:{client_port}" if client_port else None
        yield LocalCluster(cluster.address, environment, cluster, client_address=client)
    finally:
        if cluster is not None:
            cluster.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(temp, ignore_errors=True)


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_node(cluster: LocalCluster) -> object:
    """Another one-CPU node (a raylet and its helpers) joined to the cluster: its Ray Node."""
    return cluster.cluster.add_node(**NODE)  # type: ignore[attr-defined]


def node_processes(node: object) -> list[int]:
    """Every process of a node: its raylet and helpers, and below the raylet its worker processes."""
    pids = {info.process.pid for infos in node.all_processes.values() for info in infos}  # type: ignore[attr-defined]
    return sorted({pid for root in pids for pid in descendants(root)})


def run_audiobook(
    cluster: LocalCluster, *args: str, cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audiobook.cli", *args], cwd=cwd, env=cluster.build_env(), text=True,
        capture_output=True, timeout=timeout,
    )


def start_audiobook(cluster: LocalCluster, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "audiobook.cli", *args], cwd=cwd, env=cluster.build_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def task_processes() -> list[int]:
    """Ray worker processes (ours: children of this test process) running a clip task right now."""
    mine = descendants(os.getpid())
    found = []
    for pid in mine:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(TASK_TITLE.encode()):
            found.append(pid)
    return found


def wait_for_task(process: subprocess.Popen[str], timeout_s: float = 120) -> int:
    """The pid of a worker running a clip task of this build, once there is one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = task_processes()
        if running:
            return running[0]
        assert process.poll() is None, f"the build ended before any clip task ran: {process.communicate()}"
        time.sleep(0.02)
    raise AssertionError("no clip task started on the cluster")


def kill(pid: int, how: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, how)
    except ProcessLookupError:
        pass


def descendants(root: int) -> set[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def foreign_connections(pids: set[int]) -> list[str]:
    """Sockets of these processes connected to (or sending to) an address other than the loopback one."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    foreign = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote, inode = fields[2], fields[9]
            if inode not in inodes:
                continue
            address = _address(remote.split(":")[0])
            if not (address.is_loopback or address.is_unspecified):
                foreign.append(f"{table} {address} (socket {inode})")
    return foreign


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net writes it (each 32-bit word in host byte order, little-endian here)."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address
