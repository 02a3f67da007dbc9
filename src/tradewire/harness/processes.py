"""The processes of a harness run: the stacks it starts and kills, the agent fleet, and its journals.

The harness starts its own Kafka (one or three brokers) and dev registry on free loopback
ports, with state under the report directory, so it can kill and restart them; each agent is
a `python -m tradewire.harness.agent` process whose journal the harness follows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import confluent_kafka
from confluent_kafka import ConsumerGroupState, TopicPartition

from tradewire.devstack.processes import free_port_block, stop
from tradewire.devstack.stack import REGISTRY_MARKER, DevStack, StackOptions
from tradewire.dlq.topics import admin_client
from tradewire.harness.config import HarnessError, HarnessOptions
from tradewire.harness.journal import JournalReader
from tradewire.harness.ledger import Observations

__all__ = ["Fleet", "JournalTail", "OwnStacks", "Stack", "dlq_count", "wait_for_groups"]


# -- the stack ---------------------------------------------------------------------------------------
@dataclass
class Stack:
    """The Kafka and registry a scenario runs on; `own` when the harness started (and may kill) them."""

    bootstrap: str
    registry: str
    dev: DevStack | None = None

    @property
    def own(self) -> bool:
        return self.dev is not None

    def kill_broker(self, node_id: int | None = None) -> str:
        assert self.dev is not None
        nodes = self.dev.nodes()
        victims = [node for node in nodes if node_id is None or node.spec.node_id == node_id]
        for node in victims:
            node.kill()
        return ", ".join(f"node {node.spec.node_id} (pid {node.pid})" for node in victims)

    def stop_registry(self) -> str:
        assert self.dev is not None
        pid = int(str(self.dev.load_state().get("registry_pid", 0)))
        stop([(pid, REGISTRY_MARKER)], hard=True)  # only if that pid is still our registry
        return f"registry (pid {pid})"

    def restore(self) -> None:
        """Start whatever was killed (idempotent: `dev up`)."""
        assert self.dev is not None
        self.dev.up()


@dataclass
class OwnStacks:
    options: HarnessOptions
    stacks: dict[int, Stack] = field(default_factory=dict)

    def get(self, brokers: int, say: Callable[[str], None]) -> Stack:
        if self.options.bootstrap:
            return Stack(self.options.bootstrap, self.options.registry or "http://127.0.0.1:8081")
        if brokers not in self.stacks:
            base = free_port_block(2 * brokers + 1)
            dev = DevStack(
                StackOptions(
                    self.options.project,
                    kafka_port=base,
                    registry_port=base + 2 * brokers,
                    brokers=brokers,
                    state_root=self.options.report_dir / f"stack-{brokers}",
                )
            )
            say(f"starting Kafka ({brokers} broker{'s' if brokers > 1 else ''}) and the dev registry ...")
            try:
                status = dev.up(say)
            except BaseException:
                dev.down(wipe=not self.options.keep_stack)  # what did start must not outlive the run
                raise
            assert status.registry_url is not None
            say(f"stack up in {status.timings.get('total', 0):.1f} s: Kafka {status.bootstrap}, "
                f"registry {status.registry_url}")  # fmt: skip
            self.stacks[brokers] = Stack(status.bootstrap, status.registry_url, dev)
        return self.stacks[brokers]

    def close(self) -> None:
        for stack in self.stacks.values():
            if stack.dev is not None:
                stack.dev.down(wipe=not self.options.keep_stack)


# -- the agents -----------------------------------------------------------------------------------
@dataclass
class Fleet:
    """The agent processes of a run."""

    config_path: Path
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    instances: dict[str, int] = field(default_factory=dict)

    def start(self, role: str, instance: int | None = None) -> str:
        if instance is None:
            instance = self.instances.get(role, 0) + 1
        self.instances[role] = max(self.instances.get(role, 0), instance)
        name = f"{role}-{instance}"
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        command = [sys.executable, "-m", "tradewire.harness.agent", role, "--config", str(self.config_path)]
        command += ["--instance", str(instance), "--metrics-port", "0"]  # the agent journals the port it got
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ}
        )
        log.close()
        return name

    def kill(self, name: str) -> int:
        process = self.processes[name]
        process.kill()
        process.wait(10)
        return process.pid

    def signal(self, name: str, signum: int) -> int:
        process = self.processes[name]
        process.send_signal(signum)
        return process.pid

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def stop(self, names: Sequence[str], timeout: float = 30.0) -> None:
        for name in names:
            if self.processes[name].poll() is None:
                self.processes[name].terminate()
        deadline = time.monotonic() + timeout
        for name in names:
            try:
                self.processes[name].wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.processes[name].kill()
                self.processes[name].wait(10)

    def members(self) -> dict[str, int]:
        alive = self.alive()
        counts: dict[str, int] = {}
        for name, running in alive.items():
            if running:
                role = name.rsplit("-", 1)[0]
                counts[role] = counts.get(role, 0) + 1
        return counts


# -- following a run ---------------------------------------------------------------------------------
class JournalTail:
    """Follows the journals into Observations."""

    def __init__(self, directory: Path) -> None:
        self._reader = JournalReader(directory)
        self.observations = Observations()

    def poll(self) -> None:
        for source, line in self._reader.poll():
            self.observations.add(source, line)


def wait_for_groups(stack: Stack, fleet: Fleet, timeout: float) -> None:
    """Until every group is stable with all its live members (bounded)."""
    admin = admin_client(stack.bootstrap)
    deadline = time.monotonic() + timeout
    waiting: dict[str, str] = {}
    while time.monotonic() < deadline:
        expected = fleet.members()
        dead = [name for name, running in fleet.alive().items() if not running]
        if dead:
            raise HarnessError(f"agent {dead[0]} exited during start-up; see {fleet.logs / (dead[0] + '.log')}")
        waiting = {}
        for group, future in admin.describe_consumer_groups(list(expected), request_timeout=5).items():
            try:
                description = future.result()
            except confluent_kafka.KafkaException as error:
                waiting[group] = str(error)
                continue
            members = [member for member in description.members if member.assignment.topic_partitions]
            if description.state != ConsumerGroupState.STABLE or len(members) < expected[group]:
                waiting[group] = f"{description.state.name.lower()}, {len(members)}/{expected[group]} assigned"
        if not waiting:
            return
        time.sleep(0.2)
    raise HarnessError(f"consumer groups not ready after {timeout:g} s: {waiting}")


def dlq_count(consumer: confluent_kafka.Consumer, topic: str) -> int:
    """Records in a DLQ topic (-1 when it cannot be told yet)."""
    try:
        described = consumer.list_topics(topic, timeout=5).topics.get(topic)
        if described is None or described.error is not None:
            return -1
        total = 0
        for partition in described.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=2)
            total += max(0, high - low)
    except confluent_kafka.KafkaException:
        return -1
    return total
