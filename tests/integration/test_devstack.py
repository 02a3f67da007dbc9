"""`dev up` is idempotent, `status` tells what runs, `down` stops only what `up` started."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka.admin import AdminClient
from integration_support import REPO_ROOT, free_port_pair

from tradewire.devstack.processes import is_running
from tradewire.devstack.stack import DevStack, StackOptions


def test_up_twice_status_and_down(tmp_path: Path) -> None:
    """A second up finds the broker running; status lists it; down stops it and only it."""
    stack = DevStack(StackOptions(REPO_ROOT, kafka_port=free_port_pair(), registry=False, state_root=tmp_path))
    first = stack.up()
    try:
        metadata = AdminClient({"bootstrap.servers": first.bootstrap}).list_topics(timeout=10)
        second = stack.up()
        status = stack.status()
        assert (False, True, [1], first.brokers, True) == (
            first.already_running,
            second.already_running,
            list(metadata.brokers),
            status.brokers,
            status.running,
        )
        assert first.timings["kafka"] > 0
    finally:
        stopped = stack.down()
    pid = first.brokers[1]
    assert ([f"kafka node 1 (pid {pid})"], False, {}) == (
        stopped,
        is_running(pid, "kafka.Kafka"),
        stack.status().brokers,
    )
    assert [] == stack.down()
