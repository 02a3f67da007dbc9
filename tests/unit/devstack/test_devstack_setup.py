"""The dev stack's configuration and its refusals, without starting anything."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradewire.cli import main
from tradewire.devstack.kafka import cluster_specs, new_cluster_id
from tradewire.devstack.ports import port_free
from tradewire.devstack.processes import command_line, free_port_block, is_running, spawn, stop
from tradewire.devstack.toolchain import find_java, resolve_kafka
from tradewire.errors import DevStackError


def properties(text: str) -> dict[str, str]:
    """A server.properties text as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_single_node_listens_on_loopback_with_single_replica_internal_topics(tmp_path: Path) -> None:
    """One combined broker/controller on 127.0.0.1 with replication factor 1 everywhere."""
    (spec,) = cluster_specs(29092, 1, tmp_path)
    config = properties(spec.properties())
    assert {
        "listeners": "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093",
        "advertised.listeners": "PLAINTEXT://127.0.0.1:29092",
        "controller.quorum.voters": "1@127.0.0.1:29093",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "auto.create.topics.enable": "false",
        "log.dirs": str((tmp_path / "node-1").resolve()),
    } == {
        key: config[key]
        for key in (
            "listeners",
            "advertised.listeners",
            "controller.quorum.voters",
            "default.replication.factor",
            "min.insync.replicas",
            "offsets.topic.replication.factor",
            "transaction.state.log.min.isr",
            "auto.create.topics.enable",
            "log.dirs",
        )
    }


def test_three_nodes_replicate_three_times_with_two_in_sync(tmp_path: Path) -> None:
    """Three voters on consecutive port pairs; replication factor 3 and min.insync.replicas 2."""
    specs = cluster_specs(29092, 3, tmp_path)
    assert [(1, 29092, 29093), (2, 29094, 29095), (3, 29096, 29097)] == [
        (s.node_id, s.port, s.controller_port) for s in specs
    ]
    config = properties(specs[1].properties())
    assert ("1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097", "3", "2", "false") == (
        config["controller.quorum.voters"],
        config["default.replication.factor"],
        config["min.insync.replicas"],
        config["controlled.shutdown.enable"],
    )


def test_cluster_ids_are_kafka_uuids() -> None:
    """A cluster id is 22 characters of URL-safe base64 that never starts with '-'."""
    ids = {new_cluster_id() for _ in range(200)}
    assert 200 == len(ids)
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_missing_java_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without java on PATH or JAVA_HOME, the error says what to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DevStackError, match=r"Java is not installed .* needs Java 17 or newer"):
        find_java()


def test_old_java_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A Java older than 17 is named and refused."""
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DevStackError, match="is Java 11; Kafka 4 needs Java 17 or newer"):
        find_java()


def test_missing_maven_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo_root: Path) -> None:
    """Without mvn, resolving Kafka says Maven is needed (when nothing is cached yet)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TRADEWIRE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DevStackError, match=r"Maven is not installed .* resolves the Kafka broker from Maven Central"):
        resolve_kafka(repo_root / "dev/kafka/pom.xml")


def test_stop_leaves_a_process_that_is_not_ours_alone() -> None:
    """A pid whose command line lacks our marker is never signalled (pids get reused)."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    deadline = time.monotonic() + 5  # until the kernel shows the new program's command line
    while "time.sleep" not in command_line(sleeper.pid) and time.monotonic() < deadline:
        time.sleep(0.001)
    try:
        stop([(sleeper.pid, "kafka.Kafka /some/config.properties")], 1.0)
        assert (True, None) == (is_running(sleeper.pid, "time.sleep"), sleeper.poll())
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_process_is_recognised_as_ours_as_soon_as_spawn_returns(tmp_path: Path) -> None:
    """spawn returns only once the kernel shows the new command line, so the readiness checks never
    mistake a process that is still starting for one that exited."""
    command = [sys.executable, "-c", "import time; time.sleep(30)", "tradewire-spawn-probe"]
    pids = []
    recognised = []
    try:
        for _ in range(40):
            pids.append(spawn(command, tmp_path / "probe.log"))
            recognised.append(is_running(pids[-1], "tradewire-spawn-probe"))
    finally:
        stop([(pid, "tradewire-spawn-probe") for pid in pids], 5.0, hard=True)
    assert [True] * 40 == recognised


def test_stop_returns_only_once_the_process_let_go_of_its_port(tmp_path: Path) -> None:
    """stop() waits until a killed process has exited completely (every thread gone, its sockets closed), so
    a server restarted on the same port right after never finds it taken; a thousand threads make the exit
    slow enough to show the difference."""
    server = (
        "import socket, sys, threading, time\n"
        "listener = socket.socket()\n"
        "listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "listener.bind(('127.0.0.1', int(sys.argv[1])))\n"
        "listener.listen()\n"
        "for _ in range(1000):\n"
        "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "print('listening', flush=True)\n"
        "time.sleep(60)\n"
    )
    free_after_stop = []
    for attempt in range(10):
        port = free_port_block(1)
        log = tmp_path / f"server-{attempt}.log"
        pid = spawn([sys.executable, "-c", server, str(port), "tradewire-stop-probe"], log)
        deadline = time.monotonic() + 30
        while "listening" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        stop([(pid, "tradewire-stop-probe")], 5.0, hard=True)
        free_after_stop.append(port_free(port))
    assert [True] * 10 == free_after_stop


def test_dev_up_outside_the_tradewire_repository_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without dev/kafka/pom.xml (which pins the broker) `dev up` exits 2 saying where to run it, not a traceback,
    and starts nothing."""
    (tmp_path / "tradewire.yaml").write_text("version: v1\n")
    code = main(["--config", str(tmp_path / "tradewire.yaml"), "dev", "up", "--kafka-port", "29092"])
    err = " ".join(capsys.readouterr().err.split())
    assert (2, False) == (code, (tmp_path / ".tradewire").exists())
    assert (
        f"configuration error: {tmp_path / 'dev/kafka/pom.xml'} does not exist: `tradewire dev` starts the Kafka "
        "that dev/kafka/pom.xml of the tradewire repository pins; run it in that repository, or pass --config "
        "<repository>/tradewire.yaml"
    ) == err
