"""No single record crash-loops a consumer: headers tradewire cannot read, a header name that is not
UTF-8, a key that is not UTF-8, a tombstone, a handler that kills its thread or breaks its context.
Each is handled, retried or dead-lettered; nothing is raised out of `run()`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from confluent_kafka import KafkaError
from confluent_kafka import Producer as RawProducer
from consumer_support import Background, create_topics, order_for, producer, read_all, wait_for
from consumer_support import signal as make_signal
from raw_headers import produce_with_raw_header_names
from test_consumer_oversized import committed, settings

from tradewire.cli import main
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import OrderPlaced, SignalGenerated
from tradewire.dlq import dlq_topic, replay_topic
from tradewire.errors import NonRetryableError
from tradewire.metadata import cloudevent_headers
from tradewire.settings import RetryPolicy

Headers = list[tuple[str, bytes | None]]


def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None, Headers]]) -> None:
    """Produce (key, value, headers) records as they are, to partition 0."""
    failures: list[KafkaError] = []
    raw = RawProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    for key, value, headers in records:
        raw.produce(
            topic,
            partition=0,
            key=key,
            value=value,
            headers=headers,  # type: ignore[arg-type]
            on_delivery=lambda error, _: failures.append(error) if error else None,
        )
    assert (0, []) == (raw.flush(30), failures)


def test_headers_tradewire_reads_that_are_unusable_never_fail_their_record(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """Signals whose ce_roottime is not UTF-8, naive, at datetime's limit or null, whose ce_id is not UTF-8,
    that carry stray tw.dlq.* / tw.replay.* headers, and replayed ones whose tw.replay.at is unusable: every
    one is handled and what its handler sends is acknowledged (chain latency falls back to produced_at)."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic, prefix + OrderPlaced.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    odd: dict[str, Headers] = {
        "ROOT-NOT-UTF8": [("ce_roottime", b"\xff\xfe2026")],
        "ROOT-NAIVE": [("ce_roottime", b"2026-01-01T00:00:00")],
        "ROOT-AT-LIMIT": [("ce_roottime", b"0001-01-01T00:00:00+14:00")],
        "ROOT-NULL": [("ce_roottime", None), ("ce_id", b"\xff\xfe")],
        "STRAY-TW": [("tw.dlq.reason", b"\xff"), ("tw.replay.at", b"\xff"), ("tw.dlq.offset", None)],
    }
    replayed: dict[str, Headers] = {
        "REPLAY-AT-NOT-UTF8": [("tw.replay.at", b"\xff\xfe")],
        "REPLAY-AT-NAIVE": [("tw.replay.at", b"2026-01-01T00:00:00")],
        "REPLAY-AT-NULL": [("tw.replay.at", None)],
    }

    def records(cases: dict[str, Headers]) -> list[tuple[bytes | None, bytes | None, Headers]]:
        made = []
        for index, (name, extra) in enumerate(cases.items()):
            event = make_signal(name, index)
            made.append((name.encode(), sender.serializer(event, topic), [*cloudevent_headers(event, "ma"), *extra]))
        return made

    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=sender)
    handled: list[str] = []

    @consumer.handler(SignalGenerated)
    def place(event: SignalGenerated, ctx: MessageContext) -> None:
        ctx.send(order_for(event))
        handled.append(event.symbol)

    produce(kafka_bootstrap, topic, records(odd))
    running = Background(consumer)
    try:
        wait_for(lambda: len(handled) == len(odd), 60, "the signals with odd headers")
        produce(kafka_bootstrap, replay_topic(topic, group), records(replayed))
        wait_for(lambda: len(handled) == len(odd) + len(replayed), 60, "the replayed signals with odd headers")
    finally:
        stats = running.stop()
        sender.close()
    assert (sorted([*odd, *replayed]), {}, 0) == (sorted(handled), stats.dead_lettered, stats.retried)


def test_a_header_name_that_is_not_utf8_is_dead_lettered_with_what_can_be_kept(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid signal with a header named b'\\xff\\xfe' (confluent-kafka cannot read its headers: `headers()`
    raises SystemError and asking again would crash the interpreter) is dead-lettered as poison with its key
    and value byte for byte and `tw.dlq.original.headers.kept: false`; the next record is handled and the
    offset committed past both; `dlq show` shows it."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    odd = make_signal("ODD", 1)
    framed = sender.serializer(odd, topic)
    produce_with_raw_header_names(
        kafka_bootstrap, topic, partition=0, key=b"ODD", value=framed, headers=[(b"ok", b"1"), (b"\xff\xfe", b"2")]
    )
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=sender)
    handled: list[str] = []
    consumer.add_handler(SignalGenerated, lambda event, ctx: handled.append(event.symbol))
    running = Background(consumer)
    try:
        sender.send(make_signal("NEXT", 2)).result(timeout=30)
        wait_for(lambda: handled == ["NEXT"] and consumer.stats.dead_lettered == {"poison": 1}, 60, "both records")
        wait_for(lambda: committed(kafka_bootstrap, group, topic) == 2, 30, "the commit past both")
    finally:
        running.stop()
        sender.close()
    dlq = dlq_topic(topic, group)
    [(key, value, headers)] = read_all(kafka_bootstrap, dlq, 1)
    found = dict(headers)
    assert (b"ODD", framed, b"poison", b"false") == (
        key,
        value,
        found["tw.dlq.reason"],
        found["tw.dlq.original.headers.kept"],
    )
    assert found["tw.dlq.error.message"].startswith(b"a header name is not UTF-8")
    capsys.readouterr()
    assert 0 == main(["dlq", "show", dlq, "--bootstrap-servers", kafka_bootstrap, "--format", "json"])
    [shown] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (False, [], "poison") == (shown["headers_kept"], shown["headers"], shown["reason"])


def test_a_key_that_is_not_utf8_goes_through_the_dlq_and_its_replay_byte_for_byte(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A signal keyed b'\\xff\\x00\\xfe' that its handler refuses: its dead letter keeps the key, `dlq show`
    prints it escaped, and `dlq replay` brings it back to the handler with the same key bytes."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    event = make_signal("KEYED", 1)
    key = b"\xff\x00\xfe"
    produce(kafka_bootstrap, topic, [(key, sender.serializer(event, topic), [*cloudevent_headers(event, "ma")])])
    refuse = [True]
    keys: list[tuple[bytes | None, bool]] = []
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=sender)

    @consumer.handler(SignalGenerated)
    def on_signal(signal: SignalGenerated, ctx: MessageContext) -> None:
        if refuse[0]:
            raise NonRetryableError("not now")
        keys.append((ctx.key, ctx.replayed))

    running = Background(consumer)
    dlq = dlq_topic(topic, group)
    try:
        wait_for(lambda: consumer.stats.dead_lettered == {"non-retryable": 1}, 60, "the dead letter")
        capsys.readouterr()
        assert 0 == main(["dlq", "show", dlq, "--bootstrap-servers", kafka_bootstrap, "--format", "json"])
        [shown] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        refuse[0] = False
        assert 0 == main(["dlq", "replay", dlq, "--bootstrap-servers", kafka_bootstrap, "--yes"])
        wait_for(lambda: len(keys) == 1, 60, "the replayed signal")
    finally:
        running.stop()
        sender.close()
    [(dead_key, _, _)] = read_all(kafka_bootstrap, dlq, 1)
    assert (key, "\\xff\x00\\xfe", [(key, True)]) == (dead_key, shown["key"], keys)


def test_a_tombstone_is_poison_that_says_it_has_no_value(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """A record with a null value (a tombstone) is dead-lettered as poison saying it has no value, the value
    null in its dead letter too; the next record is handled."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    produce(kafka_bootstrap, topic, [(b"GONE", None, [])])
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=sender)
    handled: list[str] = []
    consumer.add_handler(SignalGenerated, lambda event, ctx: handled.append(event.symbol))
    running = Background(consumer)
    try:
        sender.send(make_signal("NEXT", 2)).result(timeout=30)
        wait_for(lambda: handled == ["NEXT"] and consumer.stats.dead_lettered == {"poison": 1}, 60, "both records")
    finally:
        running.stop()
        sender.close()
    [(key, value, headers)] = read_all(kafka_bootstrap, dlq_topic(topic, group), 1)
    message = dict(headers)["tw.dlq.error.message"]
    assert (b"GONE", None, b"the record has no value (a tombstone), so it carries no event") == (key, value, message)


class BrokenError(Exception):
    """An exception that cannot even say what it is."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ is broken")


def kill_thread(event: SignalGenerated, ctx: MessageContext) -> None:
    """What the handler does for the symbol of `event` (a normal signal is handled)."""
    if event.symbol == "EXIT":
        raise SystemExit(3)
    if event.symbol == "INTERRUPT":
        raise KeyboardInterrupt
    if event.symbol == "BROKEN":
        raise BrokenError
    if event.symbol == "BREAK-CTX":
        ctx.sent.append(object())  # type: ignore[arg-type]
    if event.symbol == "REPLACE-CTX":
        object.__setattr__(ctx, "sent", None)
    if event.symbol == "CLOSE-PRODUCER":
        ctx.producer.close()


KILLERS = ["EXIT", "INTERRUPT", "BROKEN", "BREAK-CTX", "REPLACE-CTX"]


@pytest.mark.parametrize("timeout", [None, 5.0], ids=["on-the-poll-thread", "on-a-worker-with-a-timeout"])
def test_a_handler_that_kills_its_thread_or_breaks_its_context_is_retried_then_dead_lettered(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path, timeout: float | None
) -> None:
    """Handlers raising SystemExit, KeyboardInterrupt or an exception whose __str__ and __repr__ raise, or
    returning after putting a non-delivery in ctx.sent or replacing it: each such signal is retried, then
    dead-lettered as exhausted with its error class; one closing ctx.producer is handled, and the consumer
    opens a new producer for what comes next; normal signals are handled; run() raises nothing."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    names = ["FIRST", *KILLERS, "CLOSE-PRODUCER", "LAST"]
    for index, name in enumerate(names):
        sender.send(make_signal(name, index)).result(timeout=30)
    fast = dataclasses.replace(
        settings(kafka_bootstrap, registry_url, prefix, group, tmp_path),
        retry=RetryPolicy(base_seconds=0.01, retries=1),
    )
    consumer = Consumer(fast)
    handled: list[str] = []

    def handle(event: SignalGenerated, ctx: MessageContext) -> None:
        kill_thread(event, ctx)
        handled.append(event.symbol)

    consumer.add_handler(SignalGenerated, handle, timeout=timeout)
    running = Background(consumer)
    try:
        wait_for(lambda: sum(consumer.stats.dead_lettered.values()) == len(KILLERS), 90, "every killer dead-lettered")
        wait_for(lambda: committed(kafka_bootstrap, group, topic) == len(names), 30, "the commit past all")
    finally:
        stats = running.stop()
        sender.close()
    letters = read_all(kafka_bootstrap, dlq_topic(topic, group), len(KILLERS))
    classes = {key.decode() if key else "": dict(headers)["tw.dlq.error.class"] for key, _, headers in letters}
    assert {
        "EXIT": b"builtins.SystemExit",
        "INTERRUPT": b"builtins.KeyboardInterrupt",
        "BROKEN": f"{__name__}.BrokenError".encode(),
        "BREAK-CTX": b"builtins.TypeError",
        "REPLACE-CTX": b"builtins.TypeError",
    } == classes
    broken = next(dict(headers) for key, _, headers in letters if key == b"BROKEN")
    assert b"<BrokenError: its __str__ and __repr__ raised RuntimeError>" == broken["tw.dlq.error.message"]
    assert ({"FIRST", "CLOSE-PRODUCER", "LAST", "BREAK-CTX", "REPLACE-CTX"}, 3, {"exhausted": len(KILLERS)}) == (
        set(handled),
        stats.handled,
        stats.dead_lettered,
    )
