"""`tradewire dlq ls | show | replay` against the real broker and registry, on dead letters written here."""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import io
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer as RawConsumer
from confluent_kafka import Message, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # public names, re-exported without __all__
    AdminClient,
    ConfigResource,
    ResourceType,
)
from consumer_support import Background, create_topics, signal, wait_for
from consumer_support import producer as signal_producer
from prometheus_client import REGISTRY

from tradewire.cli import main
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.dlq import (
    AUDIT_TOPIC,
    DeadLetterFilter,
    dead_letter_headers,
    dlq_topic,
    ensure_dlq_topics,
    reference_dead_letter,
    replay,
    replay_topic,
)
from tradewire.errors import NonRetryableError, PoisonMessageError, RawRecord
from tradewire.metadata import cloudevent_headers
from tradewire.producer import Producer
from tradewire.serde import EventSerializer, unframe
from tradewire.settings import ConsumerSettings, ProducerSettings

NEW_YEAR = 1767225600.0
"""2026-01-01T00:00:00Z: the first failure of every dead letter written here."""


def read_topic(bootstrap: str, topic: str) -> list[Message]:
    """Every record of `topic` up to its current end (none when the topic does not exist)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.list_topics(timeout=30).topics.get(topic)
    if described is None:
        return []
    consumer = RawConsumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex}"})
    try:
        ends = {}
        for partition in described.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, partition, 0) for partition in ends])
        found: list[Message] = []
        seen = dict.fromkeys(ends, -1)
        for _ in range(300):  # bounded: 300 polls of at most 0.2 s
            if all(seen[partition] >= end - 1 for partition, end in ends.items()):
                break
            for message in consumer.consume(num_messages=500, timeout=0.2):
                if message.error() is None:
                    found.append(message)
                    seen[message.partition() or 0] = message.offset() or 0
        return found
    finally:
        consumer.close()


def audit_records(bootstrap: str, dlq: str) -> list[dict[str, object]]:
    """The audit records of replays from `dlq` (the audit topic is shared by every test)."""
    return [json.loads(m.value() or b"") for m in read_topic(bootstrap, AUDIT_TOPIC) if m.key() == dlq.encode()]


@dataclass(frozen=True)
class Written:
    """A dead letter written for a test: its original record and its value decoded, when it is an event."""

    record: RawRecord
    event: SignalGenerated | None


@dataclass(frozen=True)
class DlqScene:
    """A source topic, two groups' DLQs, and the dead letters written to them."""

    bootstrap: str
    registry: str
    source: str
    group: str
    other_group: str
    dlq: str
    other_dlq: str
    letters: dict[str, Written]


@pytest.fixture
def scene(kafka_bootstrap: str, registry_url: str, unique: str) -> DlqScene:
    """Four dead letters of group `risk desk <unique>` (a framed signal, garbage, a non-retryable signal with a
    password in its error, another exhausted one) and one poison letter of a second group."""
    source = f"t{unique}.{SignalGenerated.TOPIC}"
    group, other_group = f"risk desk {unique}", f"other-{unique}"
    create_topics(kafka_bootstrap, 3, source)
    dlq, other_dlq = dlq_topic(source, group), dlq_topic(source, other_group)
    ensure_dlq_topics(kafka_bootstrap, [dlq, other_dlq, replay_topic(source, group), replay_topic(source, other_group)])
    producer = Producer(
        ProducerSettings(bootstrap_servers=kafka_bootstrap, registry_url=registry_url, agent="test", auto_register=True)
    )
    serializer = EventSerializer(producer.registry, auto_register=True)
    first, third = signal("AAPL", 1), signal("AAPL", 3)
    letters = {
        "exhausted-signal": Written(
            RawRecord(
                source,
                0,
                10,
                b"AAPL",
                serializer(first, source),
                tuple(cloudevent_headers(first, "ma")),
                1_767_225_000_000,
            ),
            first,
        ),
        "garbage": Written(
            RawRecord(source, 1, 11, b"MSFT", b"\x07garbage\xff", (("trace", b"\x00\x01"),), 1_767_225_000_001), None
        ),
        "non-retryable-signal": Written(
            RawRecord(
                source,
                0,
                12,
                b"AAPL",
                serializer(third, source),
                tuple(cloudevent_headers(third, "ma")),
                1_767_225_000_002,
            ),
            third,
        ),
        "exhausted-other-key": Written(RawRecord(source, 2, 13, b"TSLA", b"not avro", (), 1_767_225_000_003), None),
    }
    errors: dict[str, tuple[str, BaseException]] = {
        "exhausted-signal": ("exhausted", RuntimeError("venue down")),
        "garbage": (
            "poison",
            PoisonMessageError("magic byte is 7", record=letters["garbage"].record, reason="bad-magic-byte"),
        ),
        "non-retryable-signal": ("non-retryable", NonRetryableError("rejected by venue; sasl.password=hunter2")),
        "exhausted-other-key": ("exhausted", TimeoutError("handler took 31 s")),
    }
    deliveries = []
    for index, (name, written) in enumerate(letters.items()):
        reason, error = errors[name]
        headers = dead_letter_headers(
            written.record,
            group=group,
            reason=reason,  # type: ignore[arg-type]
            error=error,
            attempts=1 if reason != "exhausted" else 5,
            first_failure=NEW_YEAR,
            last_failure=NEW_YEAR + 60 * index,
        )
        deliveries.append(producer.send_raw(dlq, written.record.key, written.record.value, headers))
    other = RawRecord(source, 0, 10, b"AAPL", b"\x00\x00", (), 1_767_225_000_000)
    other_headers = dead_letter_headers(
        other,
        group=other_group,
        reason="poison",
        error=ValueError("short"),
        attempts=1,
        first_failure=NEW_YEAR,
        last_failure=NEW_YEAR,
    )
    deliveries.append(producer.send_raw(other_dlq, other.key, other.value, other_headers))
    for delivery in deliveries:
        delivery.result(timeout=30)
    producer.close()
    return DlqScene(kafka_bootstrap, registry_url, source, group, other_group, dlq, other_dlq, letters)


def test_ls_counts_dead_letters_by_reason_group_and_source_topic(
    scene: DlqScene, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dlq ls --format json` lists both DLQ topics of the source with group, counts by reason, open and replayed
    counts, and failure times."""
    assert 0 == main(["dlq", "ls", "--bootstrap-servers", scene.bootstrap, "--format", "json"])
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ours = [entry for entry in listed if entry["source_topic"] == scene.source]
    expected = [
        {
            "topic": scene.dlq,
            "source_topic": scene.source,
            "group": scene.group,
            "total": 4,
            "open": 4,
            "replayed": 0,
            "by_reason": {"poison": 1, "exhausted": 2, "non-retryable": 1, "too-large": 0},
            "oldest": "2026-01-01T00:00:00+00:00",
            "newest": "2026-01-01T00:03:00+00:00",
            "malformed": 0,
        },
        {
            "topic": scene.other_dlq,
            "source_topic": scene.source,
            "group": scene.other_group,
            "total": 1,
            "open": 1,
            "replayed": 0,
            "by_reason": {"poison": 1, "exhausted": 0, "non-retryable": 0, "too-large": 0},
            "oldest": "2026-01-01T00:00:00+00:00",
            "newest": "2026-01-01T00:00:00+00:00",
            "malformed": 0,
        },
    ]
    assert sorted(expected, key=lambda entry: entry["topic"]) == ours
    assert all(entry["topic"] != AUDIT_TOPIC for entry in listed)


def test_ls_table_shows_each_dlq_topic_with_its_counts(
    scene: DlqScene, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dlq ls` prints a table row per DLQ topic: topic, source, group, total and the three reason counts."""
    monkeypatch.setenv("COLUMNS", "400")
    assert 0 == main(["dlq", "ls", "--bootstrap-servers", scene.bootstrap])
    captured = capsys.readouterr()
    row = next(line for line in captured.out.splitlines() if f" {scene.dlq} " in line)
    assert [scene.dlq, scene.source, scene.group, "4", "1", "2", "1"] == [
        cell.strip() for cell in row.strip("│┃ ").split("│")
    ][:7]
    assert "dead letter(s) in" in captured.err


def test_show_decodes_events_through_the_registry_and_shows_the_rest_raw(
    scene: DlqScene, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dlq show --format json` gives each dead letter's origin, reason, error, attempts and headers, with a
    framed event decoded through the registry and garbage as raw bytes with the decode error."""
    arguments = ["dlq", "show", scene.dlq, "--bootstrap-servers", scene.bootstrap, "--registry", scene.registry]
    assert 0 == main([*arguments, "--format", "json"])
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    signal_written = scene.letters["exhausted-signal"]
    assert signal_written.event is not None
    _, body = unframe(signal_written.record.value or b"")
    assert signal_written.event == SignalGenerated.decode(body)  # the same event; decimals at their schema scale
    first = shown[0]
    assert {
        "dlq": {"topic": scene.dlq, "partition": 0, "offset": 0},
        "source": {"topic": scene.source, "partition": 0, "offset": 10, "timestamp_ms": 1_767_225_000_000},
        "group": scene.group,
        "reason": "exhausted",
        "error": {"class": "builtins.RuntimeError", "message": "venue down"},
        "attempts": 5,
        "first_failure": "2026-01-01T00:00:00+00:00",
        "last_failure": "2026-01-01T00:00:00+00:00",
        "event_id": str(signal_written.event.metadata.event_id),
        "key": "AAPL",
        "headers": [[name, value.decode()] for name, value in signal_written.record.headers],
        "value": {
            "type": "tradewire.trading.SignalGenerated",
            "decoded": json.loads(json.dumps(SignalGenerated.decode(body).to_avro(), default=str)),
        },
        "replay_to": replay_topic(scene.source, scene.group),
    } == first
    garbage = shown[1]
    assert (
        "poison",
        "tradewire.errors.PoisonMessageError",
        [["trace", "\x00\x01"]],
        {
            "raw_hex": b"\x07garbage\xff".hex(),
            "raw_text": "\x07garbage\\xff",
            "decode_error": "bad-magic-byte: magic byte is 7, not 0: "
            "not produced with a Confluent schema registry serializer",
        },
    ) == (garbage["reason"], garbage["error"]["class"], garbage["headers"], garbage["value"])
    assert "rejected by venue; sasl.password=***" == shown[2]["error"]["message"]
    assert 4 == len(shown)


def test_show_text_names_origin_and_decoded_type(scene: DlqScene, capsys: pytest.CaptureFixture[str]) -> None:
    """`dlq show` in text prints where each dead letter came from, its error, and the decoded or raw value."""
    arguments = ["dlq", "show", scene.dlq, "--bootstrap-servers", scene.bootstrap, "--registry", scene.registry]
    assert 0 == main([*arguments, "--reason", "poison"])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [
        f"{scene.dlq}[0]@1  <-  {scene.source}[1]@11  (group {scene.group})",
        "  reason:    poison, after 1 attempt(s)",
        "  error:     tradewire.errors.PoisonMessageError: magic byte is 7",
        "  failed:    first 2026-01-01T00:00:00+00:00, last 2026-01-01T00:01:00+00:00",
        "  produced:  2025-12-31T23:50:00.001+00:00",
        "  key:       'MSFT'",
        f"  replay to: {replay_topic(scene.source, scene.group)}",
        "  headers:",
        "    trace: '\\x00\\x01'",
        "  value (raw, 9 bytes; not decoded: bad-magic-byte: magic byte is 7, not 0: not produced with a "
        "Confluent schema registry serializer):",
        "    hex:  07676172 62616765 ff",
        "    text: '\\x07garbage\\\\xff'",
    ] == lines
    assert f"1 dead letter(s) of {scene.dlq} match" in captured.err


def test_show_without_a_registry_shows_raw_bytes_and_says_why(
    scene: DlqScene, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --registry or $TRADEWIRE_REGISTRY_URL even a valid event is shown raw, with the reason."""
    monkeypatch.delenv("TRADEWIRE_REGISTRY_URL", raising=False)
    assert 0 == main(
        ["dlq", "show", scene.dlq, "--bootstrap-servers", scene.bootstrap, "--format", "json", "--limit", "1"]
    )
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    record = scene.letters["exhausted-signal"].record
    assert [
        {
            "raw_hex": (record.value or b"").hex(),
            "raw_text": (record.value or b"").decode("utf-8", "backslashreplace"),
            "decode_error": "no registry URL: pass --registry URL or set TRADEWIRE_REGISTRY_URL",
        }
    ] == [entry["value"] for entry in shown]


def test_dry_run_lists_what_would_be_replayed_and_produces_nothing(
    scene: DlqScene, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dlq replay --dry-run` names each matching dead letter and its target; it produces and audits nothing."""
    arguments = ["dlq", "replay", scene.dlq, "--bootstrap-servers", scene.bootstrap, "--dry-run", "--key", "AAPL"]
    assert 0 == main(arguments)
    captured = capsys.readouterr()
    target = replay_topic(scene.source, scene.group)
    assert [
        f"{scene.dlq}[0]@0  {scene.source}[0]@10  exhausted  key='AAPL'  -> {target}",
        f"{scene.dlq}[0]@2  {scene.source}[0]@12  non-retryable  key='AAPL'  -> {target}",
    ] == captured.out.splitlines()
    assert f"dry run: 2 dead letter(s) of {scene.dlq} would be replayed to {target} (2)" in captured.err
    assert ([], []) == (read_topic(scene.bootstrap, target), audit_records(scene.bootstrap, scene.dlq))


def test_replay_with_filters_reaches_only_the_failing_group_byte_for_byte_and_is_audited(
    scene: DlqScene, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dlq replay --key AAPL --offsets 10-12 --yes` produces exactly those dead letters to the failing group's
    replay topic (key, value and original headers unchanged, plus tw.replay.*), nothing to the other group,
    and one audit record listing them."""
    arguments = [
        "dlq",
        "replay",
        scene.dlq,
        "--bootstrap-servers",
        scene.bootstrap,
        "--key",
        "AAPL",
        "--offsets",
        "10-12",
    ]
    assert 0 == main([*arguments, "--yes"])
    out = capsys.readouterr().out.splitlines()
    target = replay_topic(scene.source, scene.group)
    replayed = read_topic(scene.bootstrap, target)
    picked = [scene.letters["exhausted-signal"], scene.letters["non-retryable-signal"]]
    assert [(w.record.key, w.record.value, list(w.record.headers)) for w in picked] == [
        (m.key(), m.value(), [h for h in m.headers() or [] if not h[0].startswith("tw.replay.")]) for m in replayed
    ]
    replay_headers = [{k: v for k, v in m.headers() or [] if k.startswith("tw.replay.")} for m in replayed]
    assert [
        {
            "tw.replay.from.topic": scene.dlq.encode(),
            "tw.replay.from.partition": b"0",
            "tw.replay.from.offset": offset,
            "tw.replay.by": getpass.getuser().encode(),
        }
        for offset in (b"0", b"2")
    ] == [{k: v for k, v in headers.items() if k != "tw.replay.at"} for headers in replay_headers]
    assert [] == read_topic(scene.bootstrap, replay_topic(scene.source, scene.other_group))
    [audit] = audit_records(scene.bootstrap, scene.dlq)
    common = {"topic": scene.source, "partition": 0, "group": scene.group, "replayed_to": target, "dlq_partition": 0}
    assert {
        "action": "replay",
        "dlq_topic": scene.dlq,
        "filters": {"key": "AAPL", "offsets": [10, 12]},
        "count": 2,
        "dry_run": False,
        "by": getpass.getuser(),
        "targets": {target: 2},
        "replayed": [
            {
                **common,
                "dlq_offset": 0,
                "offset": 10,
                "reason": "exhausted",
                "event_id": str(picked[0].event.metadata.event_id),
            },  # type: ignore[union-attr]
            {
                **common,
                "dlq_offset": 2,
                "offset": 12,
                "reason": "non-retryable",
                "event_id": str(picked[1].event.metadata.event_id),
            },  # type: ignore[union-attr]
        ],
        "failed": [],
    } == {key: value for key, value in audit.items() if key != "at"}
    at = datetime.datetime.fromisoformat(str(audit["at"]))
    assert [at.isoformat(timespec="microseconds").encode()] * 2 == [
        headers["tw.replay.at"] for headers in replay_headers
    ]
    audit_message = next(m for m in read_topic(scene.bootstrap, AUDIT_TOPIC) if m.key() == scene.dlq.encode())
    assert [
        f"replayed 2 dead letter(s) of {scene.dlq} to {target} (2)",
        f"audit record: {AUDIT_TOPIC}[{audit_message.partition()}]@{audit_message.offset()}",
    ] == out


def test_replay_api_reports_progress_and_each_acknowledged_replay(scene: DlqScene) -> None:
    """`replay()` calls the progress callback after each acknowledgement and reports what it replayed and where
    the audit record is; the reason filter picks only matching dead letters."""
    calls: list[tuple[int, int]] = []
    producer = Producer(ProducerSettings(bootstrap_servers=scene.bootstrap, agent="test"))
    try:
        report = replay(
            producer,
            scene.bootstrap,
            scene.dlq,
            filters=DeadLetterFilter(reason="exhausted"),
            progress=lambda *a: calls.append(a),
        )
    finally:
        producer.close()
    assert report.audit is not None
    assert (
        [(1, 2), (2, 2)],
        [(0, 10), (2, 13)],
        [],
        {replay_topic(scene.source, scene.group): 2},
        AUDIT_TOPIC,
    ) == (
        calls,
        [(letter.record.partition, letter.record.offset) for letter in report.replayed],
        list(report.failed),
        report.targets,
        report.audit.topic,
    )


def test_record_without_dlq_headers_is_skipped_with_a_warning(
    kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record in a DLQ topic that is not a dead letter is skipped by `show`, with a warning; `ls` counts it."""
    dlq = dlq_topic(f"t{unique}.plain", "g")
    ensure_dlq_topics(kafka_bootstrap, [dlq])
    producer = Producer(ProducerSettings(bootstrap_servers=kafka_bootstrap, agent="test"))
    producer.send_raw(dlq, b"k", b"v", [("x", b"y")]).result(timeout=30)
    producer.close()
    assert 0 == main(["dlq", "show", dlq, "--bootstrap-servers", kafka_bootstrap])
    err = " ".join(capsys.readouterr().err.split())
    assert f"skipped: {dlq}[0]@0 is not a dead letter: header(s) tw.dlq.topic," in err
    assert f"0 dead letter(s) of {dlq} match" in err
    assert 0 == main(["dlq", "ls", "--bootstrap-servers", kafka_bootstrap, "--format", "json"])
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(0, 1)] == [(entry["total"], entry["malformed"]) for entry in listed if entry["topic"] == dlq]


def test_missing_topic_is_a_failure(kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Showing or replaying a DLQ topic that does not exist exits 1 naming it."""
    dlq = f"t{unique}.absent.dlq.g"
    assert (1, 1) == (
        main(["dlq", "show", dlq, "--bootstrap-servers", kafka_bootstrap]),
        main(["dlq", "replay", dlq, "--bootstrap-servers", kafka_bootstrap, "--yes"]),
    )
    assert 2 == capsys.readouterr().err.count(f"error: there is no topic {dlq} at {kafka_bootstrap}")


def test_dlq_and_replay_topics_are_created_with_the_right_configs(kafka_bootstrap: str, unique: str) -> None:
    """`ensure_dlq_topics` creates one-partition topics with delete cleanup, 14 days' retention and
    min.insync.replicas fit for the cluster, and is idempotent."""
    names = [dlq_topic(f"t{unique}.orders", "g"), replay_topic(f"t{unique}.orders", "g")]
    ensure_dlq_topics(kafka_bootstrap, names)
    ensure_dlq_topics(kafka_bootstrap, names)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    metadata = admin.list_topics(timeout=30)
    brokers = len(metadata.brokers)
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    configs = {r.name: f.result(timeout=30) for r, f in admin.describe_configs(resources).items()}
    expected = {"cleanup.policy": "delete", "retention.ms": "1209600000", "min.insync.replicas": str(min(2, brokers))}
    for name in names:
        described = metadata.topics[name]
        assert (1, min(3, brokers), expected) == (
            len(described.partitions),
            len(described.partitions[0].replicas),
            {key: configs[name][key].value for key in expected},
        )


def test_console_script_lists_dead_letters(scene: DlqScene) -> None:
    """`python -m tradewire dlq ls --format json` in a subprocess exits 0 and lists the scene's DLQ topic."""
    completed = subprocess.run(
        [sys.executable, "-m", "tradewire", "dlq", "ls", "--bootstrap-servers", scene.bootstrap, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    topics = [json.loads(line)["topic"] for line in completed.stdout.splitlines()]
    assert (0, True) == (completed.returncode, scene.dlq in topics), completed.stderr


def test_replayed_dead_letter_is_handled_by_the_failing_group_once(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """End to end with the consumer: a non-retryable failure is dead-lettered, `dlq replay` brings it back to that
    group's handler (marked as replayed), and replaying it a second time is suppressed as a duplicate."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = signal_producer(kafka_bootstrap, registry_url, prefix)
    events = [signal("AAPL", index) for index in range(3)]
    for event in events:
        sender.send(event)
    assert 0 == sender.flush(30)
    sender.close()
    failing = {events[1].metadata.event_id}
    handled: list[tuple[str, bool]] = []
    consumer = Consumer(
        ConsumerSettings(
            bootstrap_servers=kafka_bootstrap,
            registry_url=registry_url,
            agent="tester",
            group=group,
            topic_prefix=prefix,
            state_dir=str(tmp_path),
        )
    )

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        if event.metadata.event_id in failing:
            raise NonRetryableError("venue rejected the symbol")
        handled.append((str(event.metadata.event_id), ctx.replayed))

    running = Background(consumer)
    try:
        wait_for(lambda: consumer.stats.dead_lettered == {"non-retryable": 1} and len(handled) == 2, 60, "dead letter")
        failing.clear()  # the cause is fixed
        replay_arguments = ["dlq", "replay", dlq_topic(topic, group), "--bootstrap-servers", kafka_bootstrap, "--yes"]
        assert 0 == main(replay_arguments)
        wait_for(lambda: len(handled) == 3, 60, "the replayed event to be handled")
        assert 0 == main(replay_arguments)
        wait_for(lambda: consumer.stats.duplicates == 1, 60, "the second replay to be recognised as a duplicate")
    finally:
        stats = running.stop()
    ids = [str(event.metadata.event_id) for event in events]
    assert ([(ids[0], False), (ids[2], False), (ids[1], True)], 1) == (handled, stats.duplicates)


def ls_counts(bootstrap: str, dlq: str, capsys: pytest.CaptureFixture[str]) -> tuple[object, object, object]:
    """The total, open and replayed counts of `dlq` in `dlq ls --format json`."""
    capsys.readouterr()
    assert 0 == main(["dlq", "ls", "--bootstrap-servers", bootstrap, "--format", "json"])
    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if json.loads(line)["topic"] == dlq]
    return entry["total"], entry["open"], entry["replayed"]


def test_ls_tells_open_from_replayed_and_replay_asks_before_replaying_any_again(
    scene: DlqScene, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After two of the four dead letters are replayed, `dlq ls` counts 2 open and 2 replayed; replaying all
    of them without --yes from a pipe (even one saying y) is refused with exit 2 naming --yes and how many
    were replayed when, and produces nothing; --dry-run marks the replayed ones; --skip-replayed replays
    only the open ones, after which none is open."""
    arguments = ["dlq", "replay", scene.dlq, "--bootstrap-servers", scene.bootstrap]
    target = replay_topic(scene.source, scene.group)
    assert 0 == main([*arguments, "--key", "AAPL", "--yes"])
    [audit] = audit_records(scene.bootstrap, scene.dlq)
    assert (4, 2, 2) == ls_counts(scene.bootstrap, scene.dlq, capsys)

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    capsys.readouterr()
    assert 2 == main(arguments)
    refusal = " ".join(capsys.readouterr().err.split())
    at = datetime.datetime.fromisoformat(str(audit["at"])).isoformat(timespec="seconds")
    assert f"2 of the 4 dead letter(s) picked were already replayed (2 last on {at})" in refusal
    assert "pass --yes to replay them anyway, or --skip-replayed to leave them out" in refusal
    assert 2 == len(read_topic(scene.bootstrap, target))

    assert 0 == main([*arguments, "--dry-run"])
    marked = [line.endswith(f"(replayed before, last {at})") for line in capsys.readouterr().out.splitlines()]
    assert [True, False, True, False] == marked

    assert 0 == main([*arguments, "--skip-replayed", "--yes"])
    err = " ".join(capsys.readouterr().err.split())
    assert "2 dead letter(s) replayed before were left out (--skip-replayed)" in err
    assert 4 == len(read_topic(scene.bootstrap, target))
    assert (4, 0, 4) == ls_counts(scene.bootstrap, scene.dlq, capsys)


def test_replay_from_a_pipe_takes_its_answer_and_refuses_naming_yes_when_there_is_none(
    scene: DlqScene, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first replay asks; from a pipe that gives no answer it is refused with exit 2 naming --yes and
    produces nothing (not an unexplained "aborted"); "n" aborts (exit 1); "y" replays."""
    arguments = ["dlq", "replay", scene.dlq, "--bootstrap-servers", scene.bootstrap, "--key", "AAPL"]
    target = replay_topic(scene.source, scene.group)

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert 2 == main(arguments)
    assert "pass --yes to replay without asking" in " ".join(capsys.readouterr().err.split())
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert 1 == main(arguments)
    nothing = len(read_topic(scene.bootstrap, target))
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert 0 == main(arguments)

    assert (0, 2) == (nothing, len(read_topic(scene.bootstrap, target)))


def test_show_and_replay_refuse_a_topic_that_is_not_a_dead_letter_topic(
    scene: DlqScene, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dlq show` and `dlq replay` of the source topic itself (not TOPIC.dlq.GROUP) exit 2 with one clear
    line, and read and produce nothing."""
    for command in ("show", "replay"):
        assert 2 == main(["dlq", command, scene.source, "--bootstrap-servers", scene.bootstrap])
    err = " ".join(capsys.readouterr().err.split())
    assert 2 == err.count(
        f"Error: {scene.source} is not a dead-letter topic: `dlq show` and `dlq replay` take a DLQ topic, named "
        "TOPIC.dlq.GROUP (`tradewire dlq ls` lists them)"
    )
    assert "skipped" not in err
    assert [] == read_topic(scene.bootstrap, replay_topic(scene.source, scene.group))


def test_a_replayed_event_counts_in_hop_latency_from_its_replay_and_in_age_from_its_production(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """A signal produced two hours ago, dead-lettered, then replayed: its hop latency (the metric) is measured
    from the replay (well under an hour), and tradewire_replayed_event_age_seconds holds its age (two hours
    or more) for its topic and group."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    old = signal("OLD", 1)
    two_hours_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    old = dataclasses.replace(old, metadata=dataclasses.replace(old.metadata, produced_at=two_hours_ago))
    sender = signal_producer(kafka_bootstrap, registry_url, prefix)
    record = RawRecord(topic, 0, 0, b"OLD", sender.serializer(old, topic), tuple(cloudevent_headers(old, "ma")), 0)
    handled: list[bool] = []
    consumer = Consumer(
        ConsumerSettings(
            bootstrap_servers=kafka_bootstrap,
            registry_url=registry_url,
            agent="tester",
            group=group,
            topic_prefix=prefix,
            state_dir=str(tmp_path),
        ),
        producer=sender,
    )
    consumer.add_handler(SignalGenerated, lambda event, ctx: handled.append(ctx.replayed))
    running = Background(consumer)
    dlq = dlq_topic(topic, group)
    try:
        ensure_dlq_topics(kafka_bootstrap, [dlq, replay_topic(topic, group)])
        headers = dead_letter_headers(
            record,
            group=group,
            reason="non-retryable",
            error=NonRetryableError("later"),
            attempts=1,
            first_failure=two_hours_ago.timestamp(),
            last_failure=two_hours_ago.timestamp(),
        )
        sender.send_raw(dlq, record.key, record.value, headers).result(timeout=30)
        assert 0 == main(["dlq", "replay", dlq, "--bootstrap-servers", kafka_bootstrap, "--yes"])
        wait_for(lambda: handled == [True], 60, "the replayed signal")
    finally:
        running.stop()
        sender.close()
    hop = {"topic": topic, "source_agent": "market-analysis", "group": group}
    age = {"topic": topic, "group": group}
    count, hop_sum = (REGISTRY.get_sample_value(f"tradewire_hop_latency_seconds_{s}", hop) for s in ("count", "sum"))
    age_count, age_sum = (
        REGISTRY.get_sample_value(f"tradewire_replayed_event_age_seconds_{s}", age) for s in ("count", "sum")
    )
    assert (1.0, True, 1.0, True) == (count, (hop_sum or 0) < 3600, age_count, (age_sum or 0) >= 7200)


def test_replaying_a_reference_whose_record_retention_removed_says_so_and_fails(
    kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A too-large reference to offset 0 of a topic whose log now starts at 1 (as after retention): `dlq replay`
    says per dead letter that the record is gone and why, counts it, replays the other dead letter, and exits 1;
    the audit record lists it as unresolved."""
    source = f"t{unique}.big"
    group = "g"
    create_topics(kafka_bootstrap, 1, source)
    dlq, target = dlq_topic(source, group), replay_topic(source, group)
    ensure_dlq_topics(kafka_bootstrap, [dlq, target])
    producer = Producer(ProducerSettings(bootstrap_servers=kafka_bootstrap, agent="test"))
    for key in (b"first", b"second"):
        producer.send_raw(source, key, key * 1000, []).result(timeout=30)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    [deleted] = admin.delete_records([TopicPartition(source, 0, 1)]).values()
    deleted.result(timeout=30)
    for offset, key in ((0, b"first"), (1, b"second")):
        record = RawRecord(source, 0, offset, key, key * 1000, (), 0)
        reference_key, headers = reference_dead_letter(
            record,
            group=group,
            reason="poison",
            error=ValueError("bad"),
            attempts=0,
            first_failure=NEW_YEAR,
            last_failure=NEW_YEAR,
            write_error="Broker: Message size too large",
        )
        producer.send_raw(dlq, reference_key, None, headers).result(timeout=30)
    producer.close()
    assert 1 == main(["dlq", "replay", dlq, "--bootstrap-servers", kafka_bootstrap, "--yes"])
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert f"not replayed: {dlq}[0]@0 {source}[0]@0 too-large key='first' -> {target}: {source}[0]@0 is gone: " in err
    assert "retention removed it (the partition now starts at 1)" in err
    assert "1 too-large reference(s) cannot be replayed: their records are gone from the source topic" in err
    assert f"replayed 1 dead letter(s) of {dlq} to {target} (1)" in captured.out
    assert [(b"second", b"second" * 1000)] == [(m.key(), m.value()) for m in read_topic(kafka_bootstrap, target)]
    [audit] = audit_records(kafka_bootstrap, dlq)
    assert ([1], [(0, True)]) == (
        [entry["offset"] for entry in audit["replayed"]],  # type: ignore[attr-defined]
        [(entry["offset"], entry["gone"]) for entry in audit["unresolved"]],  # type: ignore[attr-defined]
    )
