"""Specification of what a replay writes: the replayed record's headers and target, and the audit record."""

from __future__ import annotations

import datetime
import importlib
import json

import pytest
from dlq_samples import NEW_YEAR_UTC, ORIGINAL, dead_letter

from tradewire.dlq import (
    AUDIT_TOPIC,
    DeadLetterFilter,
    ReplayHistory,
    ReplayReport,
    audit_value,
    replay,
    replay_headers,
    replay_target,
)
from tradewire.errors import DeliveryError, ProduceError
from tradewire.producer import Delivered, Delivery

replay_module = importlib.import_module("tradewire.dlq.replay")  # the package re-exports the function as `replay`


def test_replay_goes_to_the_replay_topic_of_the_group_that_failed() -> None:
    """A dead letter of group `risk desk` is replayed to its source topic's replay topic for that group only."""
    assert "trading.signals.generated.replay.risk_desk" == replay_target(dead_letter(group="risk desk"))


def test_record_that_failed_after_a_replay_goes_back_to_the_same_replay_topic() -> None:
    """A dead letter whose record came from a replay topic is replayed to that replay topic, not to a nested one."""
    letter = dead_letter(topic="trading.signals.generated.replay.risk")
    assert "trading.signals.generated.replay.risk" == replay_target(letter)


def test_replay_headers_keep_the_original_ones_and_say_where_from_when_and_who() -> None:
    """The original headers come first, unchanged; tw.replay.* headers follow."""
    at = NEW_YEAR_UTC + datetime.timedelta(days=1)
    expected = [
        *ORIGINAL.headers,
        ("tw.replay.at", b"2026-01-02T00:00:00.000000+00:00"),
        ("tw.replay.from.topic", b"trading.signals.generated.dlq.risk"),
        ("tw.replay.from.partition", b"0"),
        ("tw.replay.from.offset", b"7"),
        ("tw.replay.by", b"oncall"),
    ]
    assert expected == replay_headers(dead_letter(), at=at, by="oncall")


def test_audit_record_lists_what_was_replayed_by_whom_and_when() -> None:
    """The audit JSON names the DLQ, the filters, the count, each dead letter's origin and event id, who, when,
    and the replays that failed."""
    replayed = dead_letter(dlq_offset=3)
    failed = dead_letter(dlq_offset=4, offset=42, group="risk")
    report = ReplayReport(
        dlq_topic="trading.signals.generated.dlq.risk",
        filters=DeadLetterFilter(reason="exhausted"),
        dry_run=False,
        selected=(replayed, failed),
        by="oncall",
        at=NEW_YEAR_UTC,
    )
    common = {
        "topic": "trading.signals.generated",
        "partition": 2,
        "event_id": "second",
        "group": "risk",
        "reason": "exhausted",
        "replayed_to": "trading.signals.generated.replay.risk",
        "dlq_partition": 0,
    }
    expected = {
        "action": "replay",
        "dlq_topic": "trading.signals.generated.dlq.risk",
        "filters": {"reason": "exhausted"},
        "count": 1,
        "dry_run": False,
        "by": "oncall",
        "at": "2026-01-01T00:00:00.000000+00:00",
        "targets": {"trading.signals.generated.replay.risk": 1},
        "replayed": [{**common, "dlq_offset": 3, "offset": 41}],
        "failed": [{**common, "dlq_offset": 4, "offset": 42, "error": "timed out"}],
    }
    assert expected == audit_value(report, [replayed], [(failed, "timed out")])


class _FakeProducer:
    """Records what is sent; acknowledges, refuses or fails each send as scripted by the record's dlq offset."""

    def __init__(self, outcomes: dict[int, str]) -> None:
        self.outcomes = outcomes
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    def send_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Delivery:
        offset = int(dict(headers).get("tw.replay.from.offset", b"-1"))
        outcome = self.outcomes.get(offset, "ack")
        if outcome == "queue-full":
            raise ProduceError(f"the producer queue stayed full for {topic}; is the broker reachable?")
        self.sent.append((topic, key, value, headers))
        delivery = Delivery(topic)
        if outcome == "nack":
            delivery.set_exception(
                DeliveryError(f"record for {topic} not acknowledged: Broker: timed out", topic=topic)
            )
        else:
            delivery.set_result(Delivered(topic, 0, len(self.sent) - 1, 0.001))
        return delivery


@pytest.fixture
def three_letters(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three dead letters (dlq offsets 0, 1, 2) served without a broker; returns the topics 'created'."""
    created: list[str] = []
    letters = [dead_letter(dlq_offset=offset, offset=40 + offset) for offset in range(3)]
    monkeypatch.setattr(replay_module, "read_dead_letters", lambda *_, **__: letters)
    monkeypatch.setattr(replay_module, "read_replay_history", lambda *_, **__: ReplayHistory())
    monkeypatch.setattr(replay_module, "ensure_dlq_topics", lambda _bootstrap, topics, **_: created.extend(topics))
    monkeypatch.setattr(replay_module, "ensure_audit_topic", lambda *_, **__: created.append(AUDIT_TOPIC))
    return created


def test_unacknowledged_replays_are_reported_and_the_audit_lists_only_acknowledged_ones(
    three_letters: list[str],
) -> None:
    """A replay the broker refuses and one that cannot even be queued are reported as failed, never lost; the
    audit record counts only the acknowledged one and lists the failures with their reasons."""
    producer = _FakeProducer({1: "nack", 2: "queue-full"})
    report = replay(producer, "unused:9092", "trading.signals.generated.dlq.risk")  # type: ignore[arg-type]
    target = "trading.signals.generated.replay.risk"
    assert (
        [0],
        [
            (1, f"record for {target} not acknowledged: Broker: timed out"),
            (2, f"the producer queue stayed full for {target}; is the broker reachable?"),
        ],
        [target, target, AUDIT_TOPIC],
        [target, AUDIT_TOPIC],
    ) == (
        [letter.dlq_offset for letter in report.replayed],
        [(letter.dlq_offset, problem) for letter, problem in report.failed],
        [topic for topic, *_ in producer.sent],
        three_letters,
    )
    audit = json.loads(producer.sent[-1][2] or b"")
    assert (1, [0], [1, 2]) == (
        audit["count"],
        [entry["dlq_offset"] for entry in audit["replayed"]],
        [entry["dlq_offset"] for entry in audit["failed"]],
    )


def test_refused_confirmation_produces_nothing(three_letters: list[str]) -> None:
    """When `confirm` says no after seeing the dry-run report, nothing is produced and no audit record is written."""
    producer = _FakeProducer({})
    seen: list[tuple[bool, int]] = []

    def refuse(report: ReplayReport) -> bool:
        seen.append((report.dry_run, len(report.selected)))
        return False

    report = replay(producer, "unused:9092", "trading.signals.generated.dlq.risk", confirm=refuse)  # type: ignore[arg-type]
    assert ([(True, 3)], [], (), None, []) == (seen, producer.sent, report.replayed, report.audit, three_letters)


def test_dry_run_produces_nothing_and_reports_the_targets(three_letters: list[str]) -> None:
    """A dry run reports what would be replayed and where, and produces nothing."""
    producer = _FakeProducer({})
    report = replay(producer, "unused:9092", "trading.signals.generated.dlq.risk", dry_run=True)  # type: ignore[arg-type]
    assert (3, {"trading.signals.generated.replay.risk": 3}, [], (), None, []) == (
        len(report.selected),
        report.targets,
        producer.sent,
        report.replayed,
        report.audit,
        three_letters,
    )
