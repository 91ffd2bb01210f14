"""Running processes as the benchmarks see them, from /proc (Linux): each process's status fields, and the
processes below one of them (a build's workers and helpers, a cluster's nodes)."""

from __future__ import annotations

import os

PARENT, USER_TICKS, SYSTEM_TICKS, CHILDREN_USER_TICKS, CHILDREN_SYSTEM_TICKS = 1, 11, 12, 13, 14  # in stat_fields()


def stat_fields() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after its command name (the state first, then the parent's pid...);
    a process that ends while it is read is left out."""
    found: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                found[int(entry)] = f.read().rsplit(")", 1)[1].split()  # the name, in brackets, may hold anything
        except OSError:
            continue
    return found


def below(root: int, fields: dict[int, list[str]]) -> list[int]:
    """The processes under `root` (its children, theirs, and so on; not `root` itself) in `fields`."""
    children: dict[int, list[int]] = {}
    for pid, stat in fields.items():
        children.setdefault(int(stat[PARENT]), []).append(pid)
    found: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found
