"""Helpers shared by the integration tests (importable as `integration_support`)."""

from __future__ import annotations

import socket
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port_pair() -> int:
    """A port p such that p and p + 1 are both free on 127.0.0.1 (broker and controller)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65000 and _free(port) and _free(port + 1):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
