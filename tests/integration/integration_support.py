"""Helpers shared by the integration tests (importable as `integration_support`)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tradewire.devstack.processes import free_port_block, log_tail

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port_pair() -> int:
    """A port p such that p and p + 1 are both free on 127.0.0.1 (broker and controller)."""
    return free_port_block(2)


def start_registry(bootstrap: str, topic: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """A dev registry process on 127.0.0.1:`port` keeping its state in `topic`, once it answers (60 s at most)."""
    command = [sys.executable, "-m", "tradewire", "registry", "serve", "--port", str(port)]
    command += ["--bootstrap-servers", bootstrap, "--topic", topic]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dev registry exited:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the dev registry did not answer within 60 s:\n{log_tail(log)}")
