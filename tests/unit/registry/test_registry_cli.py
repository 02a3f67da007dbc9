"""Specification of `tradewire registry`: the group, `serve`'s options, and serving until SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

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


def test_busy_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A port already in use is refused as `dev up` refuses one (exit 2), naming the address and the option."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert 2 == main(["registry", "serve", "--port", str(port)])
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "--port" in err


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


def _serve(*options: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tradewire", "registry", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line.split(" listening on ")[1].split(" ")[0]


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=30)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _status(url: str, credentials: bytes | None = None) -> int:
    request = urllib.request.Request(url + "/subjects")
    if credentials is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_basic_auth_file_keeps_the_password_out_of_ps(tmp_path: Path) -> None:
    """--basic-auth-file requires the file's USER:PASS, and neither the command line nor stderr shows the password."""
    secret = tmp_path / "registry-auth"
    secret.write_text("dev:s3cret-in-file\n")
    secret.chmod(0o600)
    process, url = _serve("--basic-auth-file", str(secret), env={"TRADEWIRE_REGISTRY_BASIC_AUTH": ""})
    try:
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        statuses = [_status(url), _status(url, b"dev:wrong"), _status(url, b"dev:s3cret-in-file")]
    finally:
        err = _stop(process)
    assert [401, 401, 200] == statuses
    assert b"s3cret" not in command_line
    assert "s3cret" not in err
    assert ["warning: no --bootstrap-servers: the state is kept in memory and lost on exit"] == [
        line for line in err.splitlines() if line.startswith("warning")
    ]


def test_basic_auth_on_the_command_line_warns(tmp_path: Path) -> None:
    """--basic-auth USER:PASS still works, with a warning on stderr that the password shows in ps."""
    process, url = _serve("--basic-auth", "dev:s3cret")
    try:
        statuses = [_status(url), _status(url, b"dev:s3cret")]
    finally:
        err = _stop(process)
    assert [401, 200] == statuses
    assert (
        "warning: --basic-auth puts the password in the process list (ps) for every user of this machine to see; "
        "use $TRADEWIRE_REGISTRY_BASIC_AUTH or --basic-auth-file instead"
    ) in " ".join(err.split())


def test_basic_auth_from_the_environment_does_not_warn() -> None:
    """$TRADEWIRE_REGISTRY_BASIC_AUTH is required like --basic-auth, without the ps warning."""
    process, url = _serve(env={"TRADEWIRE_REGISTRY_BASIC_AUTH": "dev:from-env"})
    try:
        statuses = [_status(url), _status(url, b"dev:from-env")]
    finally:
        err = _stop(process)
    assert [401, 200] == statuses
    assert "warning: --basic-auth" not in err


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        ("nocolon\n", (), "Invalid value for --basic-auth-file: expected USER:PASS"),
        ("", (), "Invalid value for --basic-auth-file: expected USER:PASS"),
        ("dev:s3cret\n", ("--basic-auth", "dev:other"), "give --basic-auth or --basic-auth-file, not both"),
    ],
    ids=["no-colon", "empty", "both"],
)
def test_basic_auth_file_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, options: tuple[str, ...], message: str
) -> None:
    """A credentials file without USER:PASS, or given with --basic-auth, is a usage error (exit 2)."""
    secret = tmp_path / "registry-auth"
    secret.write_text(content)
    secret.chmod(0o600)
    assert 2 == main(["registry", "serve", "--basic-auth-file", str(secret), *options])
    assert message in capsys.readouterr().err


def test_basic_auth_file_readable_by_others_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A credentials file other users can read is used, with a warning naming it (checked before serving)."""
    secret = tmp_path / "registry-auth"
    secret.write_text("nocolon")
    secret.chmod(0o644)
    assert 2 == main(["registry", "serve", "--basic-auth-file", str(secret)])
    assert f"warning: {secret} is readable by other users; chmod 600 it" in " ".join(capsys.readouterr().err.split())


def test_serve_limits_are_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --help` offers the request timeout, the connection limit and the worker count with their defaults."""
    assert 0 == main(["registry", "serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for expected in ("--request-timeout SECONDS", "[default: 10.0; x>0]", "--max-connections", "[default: 256; x>=1]"):
        assert expected in out
    assert "--workers" in out
    assert "prefer the environment variable or --basic-auth-file" in out
