"""Static group membership: a consumer killed and restarted with the same instance id takes its
partitions back at once, a restart with other handlers gets the partitions of its new topics, and
two live consumers with one instance id end with a clear error in the older one instead of
splitting the partitions or fighting over them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient
from consumer_support import create_topics, order_for, producer, wait_for
from consumer_support import signal as make_signal

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import OrderPlaced, SignalGenerated
from tradewire.dlq import replay_topic
from tradewire.errors import FatalConsumerError
from tradewire.settings import ConsumerSettings

AGENTS = Path(__file__).resolve().parent / "agents"
SESSION_TIMEOUT_MS = 45_000
"""Long, so that a restarted member handling a record within a third of it cannot be the group
giving up on the killed member."""


def member_settings(bootstrap: str, registry: str, prefix: str, group: str, state: Path) -> dict[str, object]:
    return {
        "bootstrap_servers": bootstrap,
        "registry_url": registry,
        "agent": "recorder",
        "group": group,
        "instance_id": "recorder-1",
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "topic_prefix": prefix,
        "state_dir": str(state),
    }


def handled_by(out: Path) -> list[tuple[str, int]]:
    """(event id, pid) per handled signal, in the order they were handled."""
    if not out.exists():
        return []
    return [(line.split()[0], int(line.split()[1])) for line in out.read_text().splitlines() if line.strip()]


def group_members(bootstrap: str, group: str, topic: str) -> list[tuple[str | None, list[int]]]:
    """(instance id, its assigned partitions of `topic`) of each member of `group`."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    description = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
    return sorted(
        (
            member.group_instance_id,
            sorted(tp.partition for tp in member.assignment.topic_partitions if tp.topic == topic),
        )
        for member in description.members
    )


def test_a_killed_consumer_restarted_with_its_instance_id_takes_its_partition_back_at_once(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """SIGKILL, restart with the same instance id: the new process is the group's only member, owns the
    partition, and handles the next record well before the killed member's session could expire."""
    prefix = f"t{unique}."
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    out = tmp_path / "handled.txt"
    settings = member_settings(kafka_bootstrap, registry_url, prefix, group, tmp_path / "state")
    command = [sys.executable, str(AGENTS / "static_member.py"), json.dumps(settings), str(out)]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (tmp_path / "members.log").open("ab") as log:
        first = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        before = make_signal("BTC-USD", 1)
        sender.send(before).result(timeout=30)
        wait_for(lambda: len(handled_by(out)) >= 1, 60, "the first process to handle a signal")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        second = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            after = make_signal("BTC-USD", 2)
            sender.send(after).result(timeout=30)
            wait_for(
                lambda: str(after.metadata.event_id) in {event for event, _ in handled_by(out)},
                SESSION_TIMEOUT_MS / 1000 / 3,
                "the restarted process to handle the next signal",
            )
            members = group_members(kafka_bootstrap, group, prefix + SignalGenerated.TOPIC)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(60)
    sender.close()
    topic = prefix + SignalGenerated.TOPIC
    joined_as = ConsumerSettings(**settings).group_instance_id([topic, replay_topic(topic, group)])  # type: ignore[arg-type]
    handled = handled_by(out)
    assert (first.pid, before.metadata.event_id) == (handled[0][1], uuid.UUID(handled[0][0]))
    assert (str(after.metadata.event_id), second.pid) == handled[-1]
    assert {str(before.metadata.event_id), str(after.metadata.event_id)} == {event for event, _ in handled}
    assert [(joined_as, [0])] == members


class Running:
    """A consumer running in a thread; keeps what `run()` raised."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.consumer.run(install_signal_handlers=False)
        except BaseException as error:
            self.error = error


def test_a_second_live_consumer_with_the_same_instance_id_stops_the_older_one_with_a_clear_error(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """Two live consumers with one instance id: the older is fenced and its run() ends with a
    FatalConsumerError naming the instance id and the way out; the newer one owns the partition."""
    prefix = f"t{unique}."
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    handled: list[tuple[str, str]] = []

    def member(name: str) -> Consumer:
        settings = member_settings(kafka_bootstrap, registry_url, prefix, group, tmp_path / name)
        consumer = Consumer(ConsumerSettings(**settings))  # type: ignore[arg-type]

        @consumer.handler(SignalGenerated)
        def record(event: SignalGenerated, ctx: MessageContext) -> None:
            handled.append((name, str(event.metadata.event_id)))

        return consumer

    older = Running(member("older"))
    first = make_signal("ETH-USD", 1)
    sender.send(first).result(timeout=30)
    wait_for(lambda: ("older", str(first.metadata.event_id)) in handled, 60, "the older consumer to handle a signal")
    newer = Running(member("newer"))
    try:
        wait_for(lambda: not older.thread.is_alive(), 60, "the older consumer to stop")
        second = make_signal("ETH-USD", 2)
        sender.send(second).result(timeout=30)
        wait_for(lambda: ("newer", str(second.metadata.event_id)) in handled, 60, "the newer consumer to handle")
        members = group_members(kafka_bootstrap, group, prefix + SignalGenerated.TOPIC)
    finally:
        newer.consumer.stop()
        newer.thread.join(60)
    sender.close()
    assert isinstance(older.error, FatalConsumerError), older.error
    joined_as = older.consumer.settings.group_instance_id(older.consumer.topics)
    assert joined_as is not None and joined_as.startswith("recorder-1.")
    assert ("fenced", group, joined_as) == (older.error.reason, older.error.group, older.error.instance_id)
    message = str(older.error)
    assert f"another consumer joined group {group!r} with the same group.instance.id {joined_as!r}" in message
    assert "TRADEWIRE_INSTANCE_ID" in message
    assert newer.error is None
    assert not newer.thread.is_alive()
    assert "newer" == handled[-1][0]
    assert [(joined_as, [0])] == members


def test_a_consumer_restarted_with_another_handler_gets_the_partitions_of_its_new_topic(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """A static member that left without a word and comes back with one more handler (same instance id)
    handles events of the new topic: it joins as a new member instead of getting its old assignment back."""
    prefix = f"t{unique}."
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC, prefix + OrderPlaced.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    settings = {**member_settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), "session_timeout_ms": 6_000}
    handled: list[tuple[str, str]] = []

    def member(name: str, *event_types: type[SignalGenerated] | type[OrderPlaced]) -> Consumer:
        consumer = Consumer(ConsumerSettings(**settings))  # type: ignore[arg-type]
        for event_type in event_types:
            consumer.add_handler(event_type, lambda event, ctx: handled.append((name, type(event).__name__)))
        return consumer

    before = Running(member("before", SignalGenerated))
    sender.send(make_signal("SOL-USD", 1)).result(timeout=30)
    wait_for(lambda: ("before", "SignalGenerated") in handled, 60, "the first process to handle a signal")
    before.consumer.stop()  # a static member leaves no word: the group keeps it until its session ends
    before.thread.join(60)
    after = Running(member("after", SignalGenerated, OrderPlaced))
    try:
        sender.send(order_for(make_signal("SOL-USD", 2))).result(timeout=30)
        wait_for(lambda: ("after", "OrderPlaced") in handled, 60, "the restarted process to handle an order")
    finally:
        after.consumer.stop()
        after.thread.join(60)
    sender.close()
    assert (None, None) == (before.error, after.error)
    assert ("after", "OrderPlaced") == handled[-1]
