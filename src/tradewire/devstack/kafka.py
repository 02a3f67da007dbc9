"""Kafka brokers in KRaft mode: configuration, storage formatting, start, readiness, stop.

Every node is a combined broker and controller listening on 127.0.0.1 only. A single
node is the default; three nodes (replication factor 3, min.insync.replicas 2) serve
replication and failover tests. JVM flags favour start-up time (C1 only, serial GC and
an application class-data archive built on the first run); see dev/kafka/pom.xml.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tradewire.devstack.processes import is_running, log_tail, spawn, stop
from tradewire.devstack.toolchain import KafkaClasspath
from tradewire.errors import DevStackError
from tradewire.settings import KAFKA_LOG

__all__ = ["KafkaNode", "NodeSpec", "cluster_specs", "new_cluster_id", "wait_until_ready"]

MAIN_CLASS = "kafka.Kafka"


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node of the dev cluster."""

    node_id: int
    port: int
    controller_port: int
    data_dir: Path
    voters: str
    cluster_size: int

    @property
    def bootstrap(self) -> str:
        """The address clients dial."""
        return f"127.0.0.1:{self.port}"

    def properties(self) -> str:
        """The broker's server.properties."""
        replicas = self.cluster_size
        min_isr = 2 if replicas >= 3 else 1
        lines = {
            "process.roles": "broker,controller",
            "node.id": self.node_id,
            "controller.quorum.voters": self.voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": self.data_dir.resolve(),
            "num.partitions": 1,
            "auto.create.topics.enable": "false",
            "default.replication.factor": replicas,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": min_isr,
            "transaction.state.log.num.partitions": 1,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": min_isr,
            "share.coordinator.state.topic.num.partitions": 1,
            "group.initial.rebalance.delay.ms": 0,
            "broker.session.timeout.ms": 2000 if replicas == 1 else 3000,
            "broker.heartbeat.interval.ms": 500,
            # a node that lost its controller quorum would otherwise wait minutes on SIGTERM
            "controlled.shutdown.enable": "false" if replicas > 1 else "true",
        }
        return "".join(f"{key}={value}\n" for key, value in lines.items())


def cluster_specs(base_port: int, size: int, root: Path, controller_port: int | None = None) -> list[NodeSpec]:
    """Specs of a `size`-node cluster: node i listens on base_port + 2(i-1), its controller on
    controller_port + 2(i-1) (default: base_port + 1, one above its broker)."""
    controller_base = base_port + 1 if controller_port is None else controller_port
    ports = [(base_port + 2 * index, controller_base + 2 * index) for index in range(size)]
    voters = ",".join(f"{index + 1}@127.0.0.1:{controller}" for index, (_, controller) in enumerate(ports))
    return [
        NodeSpec(index + 1, port, controller, root / f"node-{index + 1}", voters, size)
        for index, (port, controller) in enumerate(ports)
    ]


def new_cluster_id() -> str:
    """A random Kafka cluster id (base64url of 16 bytes, as `StorageTool random-uuid` prints)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


class KafkaNode:
    """A broker process of the dev cluster, controlled through its pid."""

    def __init__(self, spec: NodeSpec, classpath: KafkaClasspath, java: Path, state_dir: Path, log4j: Path) -> None:
        self.spec = spec
        self.classpath = classpath
        self.java = java
        self.config = state_dir / f"node-{spec.node_id}.properties"
        self.log = state_dir / "logs" / f"kafka-{spec.node_id}.log"
        self.log4j = log4j
        self.pid = 0

    @property
    def marker(self) -> str:
        """What identifies this node's process on the command line."""
        return str(self.config.resolve())

    def formatted(self) -> bool:
        """Whether the data directory holds formatted KRaft storage."""
        return (self.spec.data_dir / "meta.properties").is_file()

    def prepare(self, cluster_id: str) -> None:
        """Write the config and format storage (in its own JVM: StorageTool exits the VM)."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(self.spec.properties())
        if self.formatted():
            return
        self.spec.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.java),
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={self.log4j.resolve()}",
            "-cp",
            self.classpath.classpath,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.config),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        if completed.returncode != 0:
            raise DevStackError(
                f"formatting Kafka storage for node {self.spec.node_id} failed:\n"
                + (completed.stdout + completed.stderr).strip()[-2000:]
            )

    def jvm_flags(self, *, dump_archive: bool) -> list[str]:
        """Start-up-friendly JVM flags; the class-data archive is used, or written on the first run."""
        archive = self.classpath.cds_archive
        if archive.is_file():
            cds = [f"-XX:SharedArchiveFile={archive}"]
        elif dump_archive:
            cds = [f"-XX:ArchiveClassesAtExit={archive}"]
        else:
            cds = []
        return [
            "-Xms128m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            *cds,
            f"-Dlog4j2.configurationFile={self.log4j.resolve()}",
        ]

    def start(self, *, dump_archive: bool = False) -> int:
        """Start the broker; returns its pid (readiness is checked by `wait_until_ready`)."""
        command = [
            str(self.java),
            *self.jvm_flags(dump_archive=dump_archive),
            "-cp",
            self.classpath.classpath,
            MAIN_CLASS,
            str(self.config.resolve()),
        ]
        self.pid = spawn(command, self.log)
        return self.pid

    def running(self) -> bool:
        """Whether this node's process is alive."""
        return is_running(self.pid, self.marker)

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL after `timeout`."""
        stop([(self.pid, self.marker)], timeout)

    def kill(self) -> None:
        """Crash the broker (SIGKILL), for failure tests."""
        stop([(self.pid, self.marker)], 10.0, hard=True)


def _port_open(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until_ready(bootstrap: str, brokers: int, nodes: list[KafkaNode], timeout: float = 90.0) -> float:
    """Wait until the first broker's port accepts connections, then until `brokers` brokers answer
    the admin API (polling the port first keeps librdkafka from logging refused connections)."""
    started = time.monotonic()
    deadline = started + timeout
    first = bootstrap.split(",", maxsplit=1)[0]

    def check_alive() -> None:
        for node in nodes:
            if node.pid and not node.running():
                raise DevStackError(
                    f"Kafka node {node.spec.node_id} exited during start-up; last lines of {node.log}:\n"
                    + log_tail(node.log)
                )

    while not _port_open(first):
        check_alive()
        if time.monotonic() > deadline:
            raise DevStackError(f"Kafka at {first} did not open its port within {timeout:.0f} s")
        time.sleep(0.05)
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "reconnect.backoff.ms": 20,
        "reconnect.backoff.max.ms": 100,
    }
    config["logger"] = KAFKA_LOG
    admin = AdminClient(config)
    while time.monotonic() < deadline:
        check_alive()
        try:
            metadata = admin.list_topics(timeout=1)
        except KafkaException:
            metadata = None
        if metadata is not None and len(metadata.brokers) >= brokers:
            return time.monotonic() - started
        time.sleep(0.1)
    tails = "\n".join(f"{node.log}:\n{log_tail(node.log, 8)}" for node in nodes)
    raise DevStackError(f"Kafka at {bootstrap} was not ready within {timeout:.0f} s\n{tails}")
