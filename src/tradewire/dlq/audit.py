"""What the audit topic says: which dead letters were already replayed, and when.

Every replay writes one JSON record to `tradewire.dlq.audit`, keyed by its DLQ topic, listing
the dead letters the brokers acknowledged (`dlq_partition`, `dlq_offset`) and when (`at`).
`read_replay_history` reads them back (bounded), so that `dlq ls` can tell open dead letters
from replayed ones and `dlq replay` can ask before replaying one again. A record that is not
such JSON is skipped: the audit topic is read, never trusted to be well formed.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Message

from tradewire.dlq.headers import DeadLetter
from tradewire.dlq.reading import read_topic
from tradewire.dlq.topics import AUDIT_TOPIC

__all__ = ["ReplayHistory", "read_replay_history"]


@dataclass(frozen=True, slots=True)
class ReplayHistory:
    """When each dead letter was replayed: DLQ topic -> (DLQ partition, DLQ offset) -> times, oldest first."""

    replays: Mapping[str, Mapping[tuple[int, int], tuple[datetime.datetime, ...]]] = field(default_factory=dict)

    def times(self, letter: DeadLetter) -> tuple[datetime.datetime, ...]:
        """When `letter` was replayed (empty: never)."""
        return self.replays.get(letter.dlq_topic, {}).get((letter.dlq_partition, letter.dlq_offset), ())

    def replayed(self, letters: Collection[DeadLetter]) -> int:
        """How many of `letters` were replayed at least once."""
        return sum(1 for letter in letters if self.times(letter))


def read_replay_history(
    bootstrap: str,
    *,
    dlq_topics: Collection[str] | None = None,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> ReplayHistory:
    """The replays the audit topic records (of `dlq_topics` only, when given); empty when there is no audit topic."""
    wanted = {name.encode() for name in dlq_topics} if dlq_topics is not None else None
    found: dict[str, dict[tuple[int, int], list[datetime.datetime]]] = {}

    def take(message: Message) -> None:
        key = message.key()
        if wanted is not None and key not in wanted:
            return
        audit = _audit(message.value())
        if audit is None:
            return
        topic, at, positions = audit
        per_letter = found.setdefault(topic, {})
        for position in positions:
            per_letter.setdefault(position, []).append(at)

    read_topic(bootstrap, AUDIT_TOPIC, take, timeout=timeout, client_config=client_config)
    return ReplayHistory(
        {
            topic: {position: tuple(sorted(times)) for position, times in letters.items()}
            for topic, letters in found.items()
        }
    )


def _audit(value: bytes | None) -> tuple[str, datetime.datetime, list[tuple[int, int]]] | None:
    """The DLQ topic, time and replayed positions of an audit record; None when it is not one."""
    try:
        audit = json.loads(value or b"")
        topic, at = audit["dlq_topic"], datetime.datetime.fromisoformat(audit["at"])
        positions = [(int(item["dlq_partition"]), int(item["dlq_offset"])) for item in audit["replayed"]]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(topic, str) or at.tzinfo is None or audit.get("action") != "replay":
        return None
    return topic, at.astimezone(datetime.UTC), positions
