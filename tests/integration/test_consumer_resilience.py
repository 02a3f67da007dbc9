"""The consumer when things around it fail: the registry goes away, a process of the group dies,
one key keeps failing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from consumer_support import Background, create_topics, producer, wait_for
from consumer_support import signal as make_signal
from integration_support import free_port_pair, start_registry
from redis_support import redis_url

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.settings import ConsumerSettings, RetryPolicy

AGENTS = Path(__file__).resolve().parent / "agents"


def consumer_for(
    kafka_bootstrap: str, registry: str, prefix: str, group: str, *, state: Path, seen: list[str]
) -> Consumer:
    """A consumer recording the symbols it handles in `seen`."""
    consumer = Consumer(
        ConsumerSettings(
            bootstrap_servers=kafka_bootstrap,
            registry_url=registry,
            agent="t",
            group=group,
            topic_prefix=prefix,
            state_dir=str(state),
        )
    )

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        seen.append(event.symbol)

    return consumer


def test_decoding_goes_on_while_the_registry_is_down_and_unknown_ids_wait_without_loss(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    """With the writer schema cached, events keep being handled after the registry stops; a consumer that
    has not cached it waits (no crash, no dead letter) and handles everything once the registry is back."""
    port = free_port_pair()
    url = f"http://127.0.0.1:{port}"
    store_topic = f"_schemas_outage_{unique}"
    log = tmp_path / "registry.log"
    registry = start_registry(kafka_bootstrap, store_topic, port, log)
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC)
    sender = producer(kafka_bootstrap, url, prefix)
    warm: list[str] = []
    cold: list[str] = []
    first = Background(consumer_for(kafka_bootstrap, url, prefix, f"warm{unique}", state=tmp_path / "warm", seen=warm))
    try:
        sender.send(make_signal("BEFORE", 1))
        wait_for(lambda: warm == ["BEFORE"], 60, "the first event (its schema fetched and cached)")
        registry.terminate()
        registry.wait(timeout=30)
        sender.send(make_signal("DURING", 2))
        wait_for(lambda: warm == ["BEFORE", "DURING"], 60, "an event with a cached schema, registry down")
        warm_stats = first.stop()
        second = Background(
            consumer_for(kafka_bootstrap, url, prefix, f"cold{unique}", state=tmp_path / "cold", seen=cold)
        )
        time.sleep(3)  # the cold consumer has the records but cannot resolve their schema id yet
        assert ([], {}) == (cold, second.consumer.stats.dead_lettered)
        registry = start_registry(kafka_bootstrap, store_topic, port, log)
        wait_for(lambda: cold == ["BEFORE", "DURING"], 60, "the waiting events once the registry is back")
        cold_stats = second.stop()
    finally:
        registry.terminate()
        registry.wait(timeout=30)
        sender.close(timeout=5)
    assert ({}, {}, 2) == (warm_stats.dead_lettered, cold_stats.dead_lettered, cold_stats.handled)


def test_a_group_sharing_redis_suppresses_what_a_killed_process_already_handled(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """Two processes of one group share the Redis idempotency store: after the first is killed, the
    second, getting its partitions and uncommitted records, skips those the first had handled."""
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 2, prefix + SignalGenerated.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    events = [make_signal(f"S{index % 10}", index) for index in range(1_000)]
    for event in events:
        sender.send(event)
    assert 0 == sender.flush(60)
    sender.close()
    out = tmp_path / "handled.txt"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with redis_url(tmp_path) as redis, (tmp_path / "consumers.log").open("ab") as log:

        def command(name: str) -> list[str]:
            return [
                sys.executable,
                str(AGENTS / "recording_consumer.py"),
                kafka_bootstrap,
                registry_url,
                f"g{unique}",
                prefix,
                str(tmp_path / name),
                str(out),
                "2",
                redis,
            ]

        first = subprocess.Popen(command("a"), env=environment, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 300, 120, "300 events handled")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        second = subprocess.Popen(command("b"), env=environment, stdout=subprocess.PIPE, stderr=log, text=True)
        expected = {str(event.metadata.event_id) for event in events}
        wait_for(lambda: expected <= set(out.read_text().splitlines()), 180, "every event")
        second.send_signal(signal.SIGTERM)
        stdout, _ = second.communicate(timeout=60)
    stats = json.loads(stdout.strip().splitlines()[-1])
    assert stats["duplicates"] > 0, stats
    assert expected == set(out.read_text().splitlines())


def test_a_key_that_keeps_failing_pauses_its_partition_without_stalling_the_others(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """When more records than the limit wait behind one failing key, the partition is paused; the other
    partition keeps flowing, the consumer never leaves the group, and the failing records end in the DLQ."""
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 2, prefix + SignalGenerated.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    failing = [make_signal("BAD", index) for index in range(6)]
    healthy = [make_signal(f"OK{index % 7}", 100 + index) for index in range(200)]
    for event in [*failing, *healthy]:
        sender.send(event)
    assert 0 == sender.flush(30)
    sender.close()
    handled: list[str] = []
    consumer = Consumer(
        ConsumerSettings(
            bootstrap_servers=kafka_bootstrap,
            registry_url=registry_url,
            agent="t",
            group=f"g{unique}",
            topic_prefix=prefix,
            state_dir=str(tmp_path),
            max_parked_per_partition=3,
            retry=RetryPolicy(base_seconds=0.2, retries=1),
            extra={"max.poll.interval.ms": 10_000, "session.timeout.ms": 6_000},
        )
    )

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        if event.symbol == "BAD":
            raise RuntimeError("this instrument always fails")
        handled.append(event.symbol)

    running = Background(consumer)
    wait_for(lambda: consumer.stats.dead_lettered.get("exhausted", 0) == 6, 120, "the failing key to be dead-lettered")
    wait_for(lambda: len(handled) == 200, 60, "every healthy event")
    rebalances_while_running = consumer.stats.rebalances  # closing revokes once more, on purpose
    stats = running.stop()
    assert (6, 200, 0) == (stats.dead_lettered["exhausted"], stats.handled, rebalances_while_running)
    assert stats.pauses >= 1
