"""The agents' journals: what each simulated agent sent and handled, one JSON object per line.

Every line is written with a single `write(2)` on a file opened for appending, before the
handler returns (so before its offset can be committed): a SIGKILL loses no line the
at-least-once accounting needs. The harness reads the journals of every agent instance
(including killed ones) to build the ledger; it never asks a process that may be dead.

Line kinds (`k`):

* `sent`: an event the broker acknowledged (`topic` without the run's prefix, `id`, `t`);
* `handled`: an event a handler finished (`topic`, `group`, `id`, `t`, `hop` seconds from its
  produced_at to the handler's start, `replayed`);
* `chain`: an order placed (`id`, `t`, `chain` seconds from the root signal's produced_at);
* `mark`: something the agent did or obeyed (`what`: ready, done, halt, resume, trip, reset,
  degraded, healthy).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Journal", "JournalReader", "read_journals"]


class Journal:
    """An append-only JSON-lines file shared by the threads of one agent process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, kind: str, **fields: Any) -> None:
        """Append one line (atomically with respect to the other threads and to a kill)."""
        line = (json.dumps({"k": kind, **fields}, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            os.write(self._fd, line)

    def close(self) -> None:
        """Close the file (later writes fail)."""
        with self._lock:
            os.close(self._fd)


class JournalReader:
    """Reads the journals of a directory incrementally: each `poll` returns the complete lines
    written since the last one, with the file's stem (role-instance). A torn last line (a process
    killed mid-write; in practice never, a line is one write) waits until it is complete."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._offsets: dict[Path, int] = {}

    def poll(self) -> list[tuple[str, dict[str, Any]]]:
        """The lines written since the last poll, file by file."""
        lines: list[tuple[str, dict[str, Any]]] = []
        for path in sorted(self.directory.glob("*.jsonl")):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            end = chunk.rfind(b"\n") + 1
            self._offsets[path] = offset + end
            for raw in chunk[:end].splitlines():
                try:
                    lines.append((path.stem, json.loads(raw)))
                except ValueError:
                    continue
        return lines


def read_journals(directory: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every complete line of every journal in `directory`, with the file's stem (role-instance)."""
    yield from JournalReader(directory).poll()
