"""Replaying dead letters to the group that failed them, and auditing every replay.

A dead letter of group G on topic T is produced, key, value and original headers
unchanged plus `tw.replay.*` headers, to `T.replay.G`: only G's consumer reads that
topic, and since the value is the original bytes the event id is the same, so G's
idempotency store suppresses an event it already handled. After every replay is
acknowledged (acks=all), one JSON audit record says what was replayed, from where, by
whom and when. A dry run produces nothing and writes no audit record.

A `too-large` dead letter is a reference: its record is read from its source topic
(`tradewire.dlq.originals`) and replayed as it is there; when retention or compaction has
removed it, that is reported per dead letter (`unresolved`). The audit topic tells which
picked dead letters were replayed before (`already_replayed`), so a caller can ask first.
`tw.replay.at` says when the replay happened: a consumer measures a replayed event's hop
latency from it, not from the event's original `produced_at`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import getpass
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tradewire.dlq.audit import ReplayHistory, read_replay_history
from tradewire.dlq.errors import DeadLetterError, MalformedDeadLetterError
from tradewire.dlq.headers import DeadLetter
from tradewire.dlq.originals import Unresolved, resolve_references
from tradewire.dlq.reading import DeadLetterFilter, read_dead_letters
from tradewire.dlq.topics import AUDIT_TOPIC, ensure_audit_topic, ensure_dlq_topics, replay_topic
from tradewire.errors import DeliveryError, ProduceError
from tradewire.producer import Delivered, Delivery, Producer

__all__ = [
    "HEADER_REPLAYED_AT",
    "HEADER_REPLAYED_BY",
    "HEADER_REPLAYED_FROM_OFFSET",
    "HEADER_REPLAYED_FROM_PARTITION",
    "HEADER_REPLAYED_FROM_TOPIC",
    "ReplayReport",
    "audit_value",
    "replay",
    "replay_headers",
    "replay_target",
]

HEADER_REPLAYED_AT = "tw.replay.at"
"""When the replay was made (ISO-8601, UTC): a replayed event's hop latency is measured from it."""
HEADER_REPLAYED_FROM_TOPIC = "tw.replay.from.topic"
HEADER_REPLAYED_FROM_PARTITION = "tw.replay.from.partition"
HEADER_REPLAYED_FROM_OFFSET = "tw.replay.from.offset"
HEADER_REPLAYED_BY = "tw.replay.by"

Progress = Callable[[int, int], None]
"""Called with (acknowledged so far, total) after each replayed record is acknowledged."""


def replay_target(letter: DeadLetter) -> str:
    """The replay topic of the group that failed `letter` (for its source topic, even after an earlier replay)."""
    return replay_topic(letter.source_topic, letter.group)


def replay_headers(letter: DeadLetter, *, at: datetime.datetime, by: str) -> list[tuple[str, bytes]]:
    """The headers of `letter`'s replay: the original ones unchanged, then where it comes from, when and who."""
    added = [
        (HEADER_REPLAYED_AT, at.isoformat(timespec="microseconds")),
        (HEADER_REPLAYED_FROM_TOPIC, letter.dlq_topic),
        (HEADER_REPLAYED_FROM_PARTITION, str(letter.dlq_partition)),
        (HEADER_REPLAYED_FROM_OFFSET, str(letter.dlq_offset)),
        (HEADER_REPLAYED_BY, by),
    ]
    return [*letter.record.headers, *((name, value.encode()) for name, value in added)]


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did (or, for a dry run, would do)."""

    dlq_topic: str
    filters: DeadLetterFilter
    dry_run: bool
    selected: tuple[DeadLetter, ...]
    """The dead letters the filters picked (what a dry run would replay, but for `unresolved` ones)."""
    replayed: tuple[DeadLetter, ...] = ()
    """The dead letters whose replay the brokers acknowledged."""
    failed: tuple[tuple[DeadLetter, str], ...] = ()
    """Dead letters whose replay was not acknowledged, with the reason."""
    audit: Delivered | None = None
    """Where the audit record was written (None for a dry run, or when nothing was replayed)."""
    by: str = ""
    at: datetime.datetime | None = None
    malformed: int = 0
    """Records of the DLQ topic that are not dead letters (skipped)."""
    targets: dict[str, int] = field(default_factory=dict)
    """How many dead letters go (or would go) to each replay topic."""
    unresolved: tuple[Unresolved, ...] = ()
    """References among `selected` whose record could not be read from its source topic (not replayed)."""
    already_replayed: tuple[tuple[DeadLetter, tuple[datetime.datetime, ...]], ...] = ()
    """Dead letters among `selected` the audit topic says were replayed before, with when."""
    skipped_replayed: int = 0
    """Dead letters the filters picked but left out because they were replayed before (`skip_replayed`)."""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


def replay(
    producer: Producer,
    bootstrap: str,
    dlq_topic: str,
    *,
    filters: DeadLetterFilter | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    confirm: Callable[[ReplayReport], bool] | None = None,
    on_malformed: Callable[[MalformedDeadLetterError], None] | None = None,
    skip_replayed: bool = False,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> ReplayReport:
    """Replay the dead letters of `dlq_topic` that `filters` picks; see the module docstring.

    `confirm`, when given, sees what would be replayed (a dry-run report, with the ones
    replayed before in `already_replayed`) and may refuse (return False): then nothing is
    produced. `skip_replayed` leaves out the dead letters replayed before. Records of the
    topic that are not dead letters are skipped (and passed to `on_malformed`).
    A replay the brokers do not acknowledge is reported in `failed`, never silently lost;
    the audit record lists only what was acknowledged.
    """
    chosen = filters or DeadLetterFilter()
    malformed: list[MalformedDeadLetterError] = []

    def skip(error: MalformedDeadLetterError) -> None:
        malformed.append(error)
        if on_malformed is not None:
            on_malformed(error)

    picked = read_dead_letters(
        bootstrap, dlq_topic, filters=chosen, on_malformed=skip, timeout=timeout, client_config=client_config
    )
    history = read_replay_history(bootstrap, dlq_topics=[dlq_topic], timeout=timeout, client_config=client_config)
    selected = tuple(letter for letter in picked if not (skip_replayed and history.times(letter)))
    resolved, unresolved = resolve_references(bootstrap, selected, timeout=timeout, client_config=client_config)
    targets = dict(sorted(Counter(replay_target(letter) for letter in resolved).items()))
    by, at = _user(), datetime.datetime.now(datetime.UTC)
    report = ReplayReport(
        dlq_topic,
        chosen,
        dry_run,
        selected,
        by=by,
        at=at,
        malformed=len(malformed),
        targets=targets,
        unresolved=tuple(unresolved),
        already_replayed=_already_replayed(selected, history),
        skipped_replayed=len(picked) - len(selected),
    )
    if dry_run or not resolved:
        return report
    if confirm is not None and not confirm(dataclasses.replace(report, dry_run=True)):
        return report
    ensure_dlq_topics(bootstrap, targets, timeout=timeout, client_config=client_config)
    sent: list[tuple[DeadLetter, Delivery | str]] = []
    for letter in resolved:
        record = letter.record
        try:
            delivery = producer.send_raw(
                replay_target(letter), record.key, record.value, replay_headers(letter, at=at, by=by)
            )
        except ProduceError as error:  # the rest still go: each outcome is reported and audited
            sent.append((letter, str(error)))
        else:
            sent.append((letter, delivery))
    replayed: list[DeadLetter] = []
    failed: list[tuple[DeadLetter, str]] = []
    for done, (letter, outcome) in enumerate(sent, start=1):
        problem = outcome if isinstance(outcome, str) else _acknowledgement(outcome, timeout)
        if problem is None:
            replayed.append(letter)
        else:
            failed.append((letter, problem))
        if progress is not None:
            progress(done, len(sent))
    audit = None
    if replayed:
        audit = _write_audit(
            producer,
            bootstrap,
            report=report,
            replayed=replayed,
            failed=failed,
            timeout=timeout,
            client_config=client_config,
        )
    return dataclasses.replace(report, replayed=tuple(replayed), failed=tuple(failed), audit=audit)


def _already_replayed(
    letters: tuple[DeadLetter, ...], history: ReplayHistory
) -> tuple[tuple[DeadLetter, tuple[datetime.datetime, ...]], ...]:
    return tuple((letter, history.times(letter)) for letter in letters if history.times(letter))


def _acknowledgement(delivery: Delivery, timeout: float) -> str | None:
    """None when the brokers acknowledged the record, else why not."""
    producer_budget = 5.0  # the producer's own delivery timeout ends the wait first
    try:
        failure = delivery.exception(timeout=timeout + producer_budget)
    except concurrent.futures.TimeoutError:
        return f"no delivery report within {timeout + producer_budget:g} s"
    if failure is None:
        return None
    return str(failure) if isinstance(failure, DeliveryError) else f"{type(failure).__name__}: {failure}"


def audit_value(
    report: ReplayReport, replayed: list[DeadLetter], failed: list[tuple[DeadLetter, str]]
) -> dict[str, Any]:
    """The JSON of a replay's audit record."""
    value: dict[str, Any] = {
        "action": "replay",
        "dlq_topic": report.dlq_topic,
        "filters": report.filters.to_json(),
        "count": len(replayed),
        "dry_run": False,
        "by": report.by,
        "at": report.at.isoformat(timespec="microseconds") if report.at else None,
        "targets": dict(sorted(Counter(replay_target(letter) for letter in replayed).items())),
        "replayed": [_describe(letter) for letter in replayed],
        "failed": [{**_describe(letter), "error": problem} for letter, problem in failed],
    }
    if report.unresolved:  # references whose record could not be read from its source topic
        value["unresolved"] = [
            {**_describe(item.letter), "error": item.reason, "gone": item.gone} for item in report.unresolved
        ]
    return value


def _describe(letter: DeadLetter) -> dict[str, Any]:
    record = letter.record
    return {
        "dlq_partition": letter.dlq_partition,
        "dlq_offset": letter.dlq_offset,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "event_id": letter.event_id,
        "group": letter.group,
        "reason": letter.reason,
        "replayed_to": replay_target(letter),
    }


def _write_audit(
    producer: Producer,
    bootstrap: str,
    *,
    report: ReplayReport,
    replayed: list[DeadLetter],
    failed: list[tuple[DeadLetter, str]],
    timeout: float,
    client_config: Mapping[str, Any] | None,
) -> Delivered:
    ensure_audit_topic(bootstrap, timeout=timeout, client_config=client_config)
    value = json.dumps(audit_value(report, replayed, failed), sort_keys=True).encode()
    delivery = producer.send_raw(AUDIT_TOPIC, report.dlq_topic.encode(), value, [("content-type", b"application/json")])
    problem = _acknowledgement(delivery, timeout)
    if problem is not None:
        raise DeadLetterError(
            f"{len(replayed)} dead letter(s) of {report.dlq_topic} were replayed, but the audit record "
            f"was not written to {AUDIT_TOPIC}: {problem}"
        )
    return delivery.result()
