"""A real Redis for the idempotency-store tests (importable as `redis_support`).

`redis_url()` yields TRADEWIRE_REDIS_URL when the environment names one, else the URL of a
throwaway `redis-server` on a free loopback port (no persistence), stopped on exit.
`local_redis_server()` always starts its own and yields a handle that can stop it early, for tests
that take Redis away on purpose.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from integration_support import free_port_pair

START_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RedisServer:
    """A redis-server started by `local_redis_server`: where it listens, and its process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after a bounded wait); stopping twice is harmless."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def redis_url(workdir: Path) -> Iterator[str]:
    """TRADEWIRE_REDIS_URL when set, else a local throwaway redis-server's URL (state in `workdir`)."""
    configured = os.environ.get("TRADEWIRE_REDIS_URL")
    if configured:
        yield configured
        return
    with local_redis_server(workdir) as server:
        yield server.url


@contextmanager
def local_redis_server(workdir: Path) -> Iterator[RedisServer]:
    """Start `redis-server` on 127.0.0.1, wait (bounded) until it answers PING, yield it, stop it."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed; scripts/ensure-tools.sh installs it")
    port = free_port_pair()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"redis-{port}.log"
    command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with log.open("ab") as handle:
        process = subprocess.Popen([*command, "--dir", str(workdir)], stdout=handle, stderr=subprocess.STDOUT)
    server = RedisServer(f"redis://127.0.0.1:{port}/0", port, process)
    try:
        _wait_for_ping(port, process, log)
        yield server
    finally:
        server.stop()


def answers_ping(port: int) -> bool:
    """Whether a Redis on 127.0.0.1:`port` answers PING with PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait_for_ping(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        if answers_ping(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer PING within {START_TIMEOUT_SECONDS} s")
