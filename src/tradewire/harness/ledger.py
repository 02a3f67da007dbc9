"""The ledger: from what the agents journaled and what the dead-letter topics hold, per hop and in total.

Per hop (a topic and the group that consumes it):

* sent: distinct events the broker acknowledged to the sender (journaled on acknowledgement);
* delivered: distinct events the group's handlers finished;
* duplicates suppressed: redeliveries the group's dedup skipped (from the processes' counters);
* retried: failed attempts that were retried; dead-lettered: the hop's DLQ entries, by reason;
* replayed: events handled again from the DLQ;
* lost: events sent that were neither delivered nor dead-lettered. It must be 0.

Every DLQ entry must be one the scenario injected (a poison record it wrote, or a signal it
marked to fail), and every injected one must be in the DLQ.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tradewire.harness.config import DERIVED, derived_id

__all__ = ["COUNTS", "DeadLetterEntry", "Expected", "Observations", "build_ledger", "unforwarded"]


COUNTS = (
    "sent",
    "delivered",
    "duplicates_suppressed",
    "duplicates_delivered",
    "retried",
    "dead_lettered",
    "replayed",
    "lost",
)
"""What the ledger counts per hop and in total, in the order reports show them."""


@dataclass
class Observations:
    """Everything read from the journals (fed line by line, so the harness can follow a run live)."""

    sent: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    """topic -> event id -> acknowledgement time."""
    produced: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    """topic -> event id -> when the sender produced it (its produced_at)."""
    handled: dict[tuple[str, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """(topic, group) -> event id -> how many times a handler finished it."""
    replayed: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    deliveries: dict[tuple[str, str], list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    """(topic, group) -> (time, event id) of every time a handler finished an event (the recovery figures)."""
    hop_samples: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    """(topic, group) -> (time, hop latency) of first attempts that were not replays."""
    chain_samples: list[tuple[float, float]] = field(default_factory=list)
    """(time, signal-to-execution seconds) per order placed."""
    marks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, source: str, line: Mapping[str, Any]) -> None:
        """Account one journal line of agent instance `source`."""
        kind = line.get("k")
        if kind == "sent":
            self.sent[line["topic"]].setdefault(line["id"], float(line["t"]))
            self.produced[line["topic"]].setdefault(line["id"], float(line.get("p", line["t"])))
        elif kind == "handled":
            key = (line["topic"], line["group"])
            self.handled[key][line["id"]] += 1
            self.deliveries[key].append((float(line["t"]), line["id"]))
            if line.get("replayed"):
                self.replayed[key].add(line["id"])
            elif int(line.get("attempt", 1)) <= 1:
                self.hop_samples[key].append((float(line["t"]), max(0.0, float(line["hop"]))))
        elif kind == "chain":
            self.chain_samples.append((float(line["t"]), max(0.0, float(line["chain"]))))
        elif kind == "mark":
            self.marks.append({**line, "source": source})

    def delivered(self, topic: str, group: str) -> set[str]:
        return set(self.handled.get((topic, group), ()))

    def marked(self, what: str) -> list[dict[str, Any]]:
        return [mark for mark in self.marks if mark.get("what") == what]


@dataclass(frozen=True)
class DeadLetterEntry:
    """One record of a hop's DLQ: the event id (None for undecodable poison), why, and the harness's tag."""

    event_id: str | None
    reason: str
    injected: str | None = None
    """The `harness_injected` header of a poison record the harness wrote."""


@dataclass
class Expected:
    """What the scenario injected, per hop: poison tags and marked signals with the reason they must fail."""

    poison: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    failing: dict[tuple[str, str], dict[str, str]] = field(default_factory=lambda: defaultdict(dict))

    def total(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for tags in self.poison.values():
            counts["poison"] += len(tags)
        for marked in self.failing.values():
            counts.update(marked.values())
        return dict(sorted(counts.items()))


def unforwarded(observations: Observations) -> dict[tuple[str, str], set[str]]:
    """Per pipeline hop, events a handler finished whose own event (derived id) the broker never acknowledged.

    A handler sends before it returns, and the consumer commits only after both: such an event
    is either still in flight or lost between two hops.
    """
    gaps: dict[tuple[str, str], set[str]] = {}
    for key, outputs in DERIVED.items():
        missing = set()
        for event_id in observations.handled.get(key, ()):
            cause = uuid.UUID(event_id)
            if not any(str(derived_id(cause, what)) in observations.sent.get(topic, {}) for topic, what in outputs):
                missing.add(event_id)
        if missing:
            gaps[key] = missing
    return gaps


def _hop_name(topic: str, group: str) -> str:
    return f"{topic} -> {group}"


def build_ledger(
    observations: Observations,
    hops: Iterable[tuple[str, str, str]],
    dead_letters: Mapping[tuple[str, str], list[DeadLetterEntry]],
    expected: Expected,
    outcomes: Mapping[tuple[str, str], Mapping[str, float]],
    *,
    sent_before: Mapping[str, float] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Rows per hop, the totals, and the failures (lost events, unexpected or missing dead letters).

    `hops` are (topic, sending agent, consuming group). `sent_before` limits a topic's sent
    events to those acknowledged before a time (heartbeats sent while the agents stop cannot
    be delivered and are not losses).
    """
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    gaps = unforwarded(observations)
    for topic, sender, group in hops:
        key = (topic, group)
        cutoff = (sent_before or {}).get(topic)
        sent_ids = {
            event_id for event_id, at in observations.sent.get(topic, {}).items() if cutoff is None or at < cutoff
        }
        everything_sent = observations.sent.get(topic, {})
        # an event journaled as sent after the cutoff is out of this ledger, delivered or not
        delivered_ids = {i for i in observations.delivered(topic, group) if i not in everything_sent or i in sent_ids}
        letters = dead_letters.get(key, [])
        dead_ids = {letter.event_id for letter in letters if letter.event_id is not None}
        lost_ids = sent_ids - delivered_ids - dead_ids
        by_reason = Counter(letter.reason for letter in letters)
        hop_outcomes = outcomes.get(key, {})
        name = _hop_name(topic, group)
        if lost_ids:
            sample = ", ".join(sorted(lost_ids)[:3])
            failures.append(f"hop {name}: {len(lost_ids)} event(s) lost (e.g. {sample})")
        stuck = gaps.get(key, set())
        if stuck:
            failures.append(
                f"hop {name}: {len(stuck)} event(s) handled whose result was never acknowledged "
                f"(e.g. {', '.join(sorted(stuck)[:3])})"
            )
        failures.extend(
            _check_dead_letters(name, letters, expected.poison.get(key, set()), expected.failing.get(key, {}))
        )
        rows.append(
            {
                "name": name,
                "topic": topic,
                "from": sender,
                "group": group,
                "sent": len(sent_ids),
                "delivered": len(delivered_ids),
                "duplicates_suppressed": int(hop_outcomes.get("duplicate", 0)),
                "duplicates_delivered": sum(count - 1 for count in observations.handled.get(key, Counter()).values()),
                "retried": int(hop_outcomes.get("retried", 0)),
                "dead_lettered": len(letters),
                "dead_lettered_by_reason": dict(sorted(by_reason.items())),
                "replayed": len(observations.replayed.get(key, set())),
                "lost": len(lost_ids),
            }
        )
    totals: dict[str, Any] = {name: sum(row[name] for row in rows) for name in COUNTS}
    reasons: Counter[str] = Counter()
    for row in rows:
        reasons.update(row["dead_lettered_by_reason"])
    totals["dead_lettered_by_reason"] = dict(sorted(reasons.items()))
    totals["expected_dead_letters"] = expected.total()
    return rows, totals, failures


def _check_dead_letters(
    name: str, letters: list[DeadLetterEntry], poison: set[str], failing: Mapping[str, str]
) -> list[str]:
    failures = []
    seen_poison: set[str] = set()
    seen_failing: set[str] = set()
    for letter in letters:
        if letter.reason == "poison" and letter.injected in poison:
            seen_poison.add(letter.injected)
        elif letter.event_id is not None and failing.get(letter.event_id) == letter.reason:
            seen_failing.add(letter.event_id)
        else:
            what = letter.event_id or letter.injected or "an undecodable record"
            failures.append(f"hop {name}: unexpected dead letter {what} ({letter.reason})")
    for tag in sorted(poison - seen_poison):
        failures.append(f"hop {name}: injected poison record {tag} never reached the DLQ")
    for event_id in sorted(set(failing) - seen_failing):
        failures.append(f"hop {name}: marked event {event_id} should be dead-lettered ({failing[event_id]}) but is not")
    return failures
