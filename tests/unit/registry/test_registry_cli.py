"""Specification of `tradewire registry`: the group, `serve`'s options, and serving until SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tradewire.cli import main


def test_group_lists_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`tradewire registry --help` describes the group as it is (no "later") and lists serve, push and drift."""
    assert 0 == main(["registry", "--help"])
    out = capsys.readouterr().out
    assert "Confluent-compatible registry: serve one, push the schemas, check drift." in out
    assert "later" not in out
    commands = out.split("Commands:")[1].split()
    assert {"serve", "push", "drift"} <= set(commands)


def test_basic_auth_needs_user_and_password(capsys: pytest.CaptureFixture[str]) -> None:
    """--basic-auth without a colon is a usage error (exit 2)."""
    assert 2 == main(["registry", "serve", "--basic-auth", "nocolon"])
    assert "expected USER:PASS" in capsys.readouterr().err


def test_busy_port_is_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    """A port already in use makes serve fail (exit 1) naming the address."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert 1 == main(["registry", "serve", "--port", str(port)])
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_answers_until_sigterm() -> None:
    """`python -m tradewire registry serve --port 0` prints its URL, answers, and exits 0 on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tradewire", "registry", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split(" listening on ")[1].split(" ")[0]
        with urllib.request.urlopen(url + "/subjects", timeout=10) as response:
            answer = json.loads(response.read())
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert line.startswith("tradewire registry listening on http://127.0.0.1:")
    assert line.endswith("(state: in memory (lost on exit))\n")
    assert ([], 0) == (answer, process.returncode)
    assert "the state is kept in memory and lost on exit" in err
    assert "registry stopped" in err
