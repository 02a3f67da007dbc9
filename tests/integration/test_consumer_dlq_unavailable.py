"""A dead letter that cannot be written now is tried again, with a backoff, until it is: never raised
out of the consumer, never lost. Meanwhile the record's offset is not committed and other partitions
go on."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import pytest
from confluent_kafka import KafkaError
from confluent_kafka import Producer as RawProducer
from confluent_kafka.admin import AdminClient  # type: ignore[attr-defined]  # public, re-exported without __all__
from consumer_support import Background, create_topics, producer, read_all, wait_for
from consumer_support import signal as make_signal
from integration_support import free_port_pair
from test_consumer_oversized import Handled, committed, set_max_message_bytes, settings, topic_max_message_bytes

from tradewire.consumer import Consumer
from tradewire.contracts import SignalGenerated
from tradewire.dlq import SIZE_ALLOWANCE_BYTES, dlq_topic
from tradewire.metadata import cloudevent_headers
from tradewire.producer import Producer
from tradewire.settings import ProducerSettings

POISON = b"\x07not a framed event"


class Proxy:
    """A TCP forwarder from 127.0.0.1:`port` to `target`, off until `start`: a broker that cannot be
    reached, then can (clients bootstrap through it, then talk to the broker it advertises)."""

    def __init__(self, port: int, target: str) -> None:
        host, _, target_port = target.rpartition(":")
        self.port = port
        self.target = (host, int(target_port))
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=10)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.close()


def produce_to(bootstrap: str, topic: str, records: list[tuple[int, bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    """Produce (partition, key, value, headers) records as they are."""
    failures: list[KafkaError] = []
    raw = RawProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    for partition, key, value, headers in records:
        raw.produce(
            topic,
            partition=partition,
            key=key,
            value=value,
            headers=headers,
            on_delivery=lambda error, _: failures.append(error) if error else None,
        )
    assert (0, []) == (raw.flush(30), failures)


def dead_letter_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The consumer's log lines about dead letters that were not written."""
    return [record.getMessage() for record in caplog.records if "was not written to" in record.getMessage()]


def test_a_dlq_that_cannot_be_reached_holds_back_only_the_poisons_offset_until_it_can(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The DLQ producer cannot reach a broker: the poison record's dead letter fails, is logged with its
    reason each attempt and tried again after a growing wait; the other partition and the poison's own
    partition handle their events; no offset passes the poison. Once a broker answers, the dead letter is
    written byte for byte and the offset moves past it."""
    caplog.set_level(logging.WARNING, logger="tradewire.consumer")
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 2, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    proxy = Proxy(free_port_pair(), kafka_bootstrap)
    unreachable = Producer(
        ProducerSettings(bootstrap_servers=f"127.0.0.1:{proxy.port}", agent="tester", delivery_timeout_ms=1500)
    )
    events = {name: make_signal(name, index) for index, name in enumerate(["P0-BEFORE", "P0-AFTER", "P1-AFTER"])}
    framed = {
        name: (sender.serializer(event, topic), cloudevent_headers(event, "ma")) for name, event in events.items()
    }
    seen = Handled()
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=unreachable)
    consumer.add_handler(SignalGenerated, seen.on_signal)
    running = Background(consumer)
    try:
        produce_to(
            kafka_bootstrap,
            topic,
            [
                (0, b"K0", *framed["P0-BEFORE"]),
                (0, b"POISON", POISON, []),
                (0, b"K1", *framed["P0-AFTER"]),
                (1, b"K2", *framed["P1-AFTER"]),
            ],
        )
        wait_for(lambda: len(dead_letter_failures(caplog)) >= 3, 60, "three failed attempts to write the dead letter")
        wait_for(
            lambda: [committed(kafka_bootstrap, group, topic, partition) for partition in (0, 1)] == [1, 1],
            30,
            "commits up to the poison on partition 0 and past the event on partition 1",
        )
        assert (["P0-AFTER", "P0-BEFORE", "P1-AFTER"], {}) == (sorted(seen.symbols), consumer.stats.dead_lettered)
        proxy.start()  # a broker can be reached again
        wait_for(lambda: consumer.stats.dead_lettered == {"poison": 1}, 60, "the dead letter, once a broker answers")
        wait_for(lambda: committed(kafka_bootstrap, group, topic, 0) == 3, 30, "the commit past the poison")
    finally:
        stats = running.stop()
        proxy.stop()
        unreachable.close(5)
        sender.close()
    [(key, value, headers)] = read_all(kafka_bootstrap, dlq_topic(topic, group), 1)
    failures = dead_letter_failures(caplog)
    assert (b"POISON", POISON, b"poison", 3, {"poison": 1}) == (
        key,
        value,
        dict(headers)["tw.dlq.reason"],
        stats.handled,
        stats.dead_lettered,
    )
    assert failures[0].startswith(f"the dead letter of {topic}[0]@1 was not written to {dlq_topic(topic, group)}")
    assert "(attempt 1, poison): DeliveryError:" in failures[0]
    assert "(attempt 2, poison)" in failures[1]


def test_a_dlq_topic_deleted_or_shrunk_by_an_operator_is_repaired_at_the_next_attempt(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The DLQ topic is deleted while the consumer runs: the dead letter fails, and the next attempt creates
    the topic again and writes it. Then the DLQ topic is shrunk below what even a reference needs: the
    dead letter and both references are refused, and the next attempt raises the topic's limit back and
    writes the dead letter as it is. Nothing is raised out of the consumer, every offset is committed."""
    caplog.set_level(logging.WARNING, logger="tradewire.consumer")
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    dlq = dlq_topic(topic, group)
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    quick = Producer(ProducerSettings(bootstrap_servers=kafka_bootstrap, agent="tester", delivery_timeout_ms=3000))
    seen = Handled()
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=quick)
    consumer.add_handler(SignalGenerated, seen.on_signal)
    running = Background(consumer)
    try:
        sender.send(make_signal("FIRST", 1)).result(timeout=30)
        wait_for(lambda: seen.symbols == ["FIRST"], 60, "the consumer to run (and its DLQ topic to exist)")
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        admin.delete_topics([dlq])[dlq].result(timeout=30)
        produce_to(kafka_bootstrap, topic, [(0, b"ONE", POISON + b"1", [])])
        wait_for(lambda: consumer.stats.dead_lettered == {"poison": 1}, 90, "the dead letter in a re-created DLQ topic")
        deleted_failures = len(dead_letter_failures(caplog))
        set_max_message_bytes(kafka_bootstrap, dlq, 100)
        produce_to(kafka_bootstrap, topic, [(0, b"TWO", POISON + b"2", [])])
        wait_for(lambda: consumer.stats.dead_lettered == {"poison": 2}, 90, "the dead letter in a repaired DLQ topic")
        wait_for(lambda: committed(kafka_bootstrap, group, topic) == 3, 30, "the commit past both")
    finally:
        stats = running.stop()
        quick.close(5)
        sender.close()
    letters = read_all(kafka_bootstrap, dlq, 2)
    too_large = [message for message in caplog.messages if "writing a too-large reference instead" in message]
    assert ([(b"ONE", POISON + b"1"), (b"TWO", POISON + b"2")], {"poison": 2}) == (
        [(key, value) for key, value, _ in letters],
        stats.dead_lettered,
    )
    assert (True, 2) == (deleted_failures >= 1, len(too_large))
    assert (
        topic_max_message_bytes(kafka_bootstrap, dlq)
        == topic_max_message_bytes(kafka_bootstrap, topic) + SIZE_ALLOWANCE_BYTES
    )
