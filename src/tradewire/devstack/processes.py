"""Start, recognise and stop the stack's background processes.

Processes are started in their own session so that a terminal's Ctrl-C does not reach
them, with output going to a log file. Stopping checks a process's command line before
signalling it, so a stale pid that the OS has reused for something else is left alone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from tradewire.errors import DevStackError

__all__ = ["command_line", "free_port_block", "is_running", "log_tail", "spawn", "stop"]


def free_port_block(size: int) -> int:
    """A port p such that p .. p+size-1 are all free on 127.0.0.1 (a broker and its controller: 2).

    Picked below the kernel's ephemeral range when it can be: a port of the ephemeral range that
    is free now may become the source port of any outgoing connection on the machine, so a server
    stopped and restarted on it (the harness restarts brokers, tests kill the registry) could
    find it taken.
    """
    low, high = 10000, _ephemeral_start() - size
    for _ in range(200):
        base = low + secrets.randbelow(high - low) if high > low else _kernel_port()
        if base + size < 65000 and all(_port_free(base + offset) for offset in range(size)):
            return base
    raise DevStackError(f"no block of {size} free ports on 127.0.0.1")


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _kernel_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spawn(command: list[str], log_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Start `command` in the background, output appended to `log_path`; return its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
        )
    # Popen can return before the kernel shows the new program's command line (it reads as
    # empty for a moment), and `is_running` recognises our processes by it: wait until it shows.
    deadline = time.monotonic() + 5
    while not command_line(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    return process.pid


def command_line(pid: int) -> str:
    """The command line of a running process ('' when there is none)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_running(pid: int, marker: str) -> bool:
    """Whether `pid` is alive and its command line contains `marker` (so it is ours)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    state = _state(pid)
    return state not in ("Z", "X") and marker in command_line(pid)


def _state(pid: int) -> str:
    fields = _stat_fields(pid)
    return fields[0] if fields else "X"


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state first), [] when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat.rsplit(")", 1)[-1].split()


def _started_at(pid: int) -> str:
    """When `pid` started (clock ticks since boot; '' when there is no such process): tells a reused pid apart."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else ""


def _exited(pid: int, started_at: str) -> bool:
    """Whether the process `pid` that started at `started_at` has exited completely: gone, reaped (its pid
    perhaps reused), or a zombie whose threads are all gone. Until then its files, and so its listening
    sockets, may still be open."""
    fields = _stat_fields(pid)
    if not fields or fields[19:20] != [started_at]:
        return True
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    return fields[0] in ("Z", "X") and tasks == [str(pid)]


def stop(processes: Iterable[tuple[int, str]], timeout: float = 20.0, *, hard: bool = False) -> None:
    """SIGTERM (or SIGKILL when `hard`) every (pid, marker) that is ours; SIGKILL what outlives `timeout`.

    Returns once every one of them has exited completely, so the ports they listened on are free again.
    """
    ours = [(pid, marker) for pid, marker in processes if is_running(pid, marker)]
    started_at = {pid: _started_at(pid) for pid, _ in ours}
    for pid, _ in ours:
        os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    remaining = ours
    while remaining and time.monotonic() < deadline:
        for pid, _ in remaining:
            _reap(pid)
        remaining = [(pid, marker) for pid, marker in remaining if is_running(pid, marker)]
        if remaining:
            time.sleep(0.1)
    for pid, _ in remaining:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    exiting = ours
    while exiting and time.monotonic() < deadline:
        for pid, _ in exiting:
            _reap(pid)
        exiting = [(pid, marker) for pid, marker in exiting if not _exited(pid, started_at[pid])]
        if exiting:
            time.sleep(0.005)


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
