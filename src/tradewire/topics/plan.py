"""Planning, without a cluster: what makes the cluster's topics match the contracts, and what cannot.

`plan` compares each `TopicSpec` with what the cluster has (`ObservedTopic`):
- a missing topic is created;
- more partitions are added (with a warning: keys then hash to other partitions, so per-key
  order does not hold across the switch); fewer are refused (Kafka cannot remove partitions);
- a different replication factor is refused (it needs a partition reassignment);
- a managed config (`MANAGED_CONFIGS`) that differs is changed, shown old -> new; every other
  config of the topic is left alone.
Where a replication factor or `min.insync.replicas` was capped for a small cluster, both the
declared and the capped value are accepted on an existing topic, so a broker that is down for
a while never makes the plan shrink a production topic.

`drift` turns a plan into the cluster's differences from the contracts, and adds the topics no
contract declares (internal topics, starting with `_`, are not the contracts' business;
dead-letter and replay topics and the DLQ audit topic are tradewire's own, and drift only when
their source topic has no contract). Under a prefix only the prefix's topics are looked at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from tradewire.dlq.topics import AUDIT_TOPIC, is_dlq_topic, is_replay_topic, source_of
from tradewire.topics.contract import MANAGED_CONFIGS, TopicSpec

__all__ = [
    "KEYS_MOVE_WARNING",
    "Change",
    "ObservedTopic",
    "Plan",
    "TopicDrift",
    "TopicPlan",
    "drift",
    "plan",
    "same_config",
]

KEYS_MOVE_WARNING = (
    "keys move to other partitions: records of one key written before and after the change may be read out of order"
)
FEWER_PARTITIONS = (
    "Kafka cannot remove partitions; to have fewer, create a new topic and move producers and consumers to it"
)
REPLICATION_CHANGE = (
    "changing the replication factor of an existing topic needs a partition reassignment "
    "(kafka-reassign-partitions.sh), which tradewire does not do"
)

Action = Literal["create", "update", "refused", "unchanged"]


@dataclass(frozen=True, slots=True)
class ObservedTopic:
    """A topic as the cluster has it."""

    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]
    """The managed configs' current values (whatever their source: topic, broker or default)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference of a topic: `what` (partitions, replication.factor or a config key), from `old`
    (None for a topic to create) to `new`; `refused` says why it cannot be done, `warning` what it does."""

    what: str
    old: str | None
    new: str
    refused: str = ""
    warning: str = ""


@dataclass(frozen=True, slots=True)
class TopicPlan:
    """What happens to one contract topic."""

    spec: TopicSpec
    changes: tuple[Change, ...] = ()
    exists: bool = True

    @property
    def action(self) -> Action:
        """create (missing), update (something to change), refused (only refused changes), unchanged."""
        if not self.exists:
            return "create"
        if self.applicable:
            return "update"
        return "refused" if self.refused else "unchanged"

    @property
    def applicable(self) -> tuple[Change, ...]:
        """The changes apply will make."""
        return tuple(change for change in self.changes if not change.refused)

    @property
    def refused(self) -> tuple[Change, ...]:
        """The changes apply will not make, each with its reason."""
        return tuple(change for change in self.changes if change.refused)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every contract topic's plan, sorted by name."""

    topics: tuple[TopicPlan, ...]

    def count(self, action: Action) -> int:
        """How many topics have `action`."""
        return sum(1 for topic in self.topics if topic.action == action)

    @property
    def refused(self) -> tuple[tuple[TopicPlan, Change], ...]:
        """Every refused change, with its topic."""
        return tuple((topic, change) for topic in self.topics for change in topic.refused)

    @property
    def empty(self) -> bool:
        """Whether apply would change nothing."""
        return all(topic.action in ("unchanged", "refused") for topic in self.topics)


def same_config(key: str, left: str | None, right: str | None) -> bool:
    """Whether two values of topic config `key` mean the same (cleanup.policy words in any order)."""
    if left is None or right is None:
        return left == right
    if key == "cleanup.policy":
        return sorted(w.strip() for w in left.split(",")) == sorted(w.strip() for w in right.split(","))
    return left.strip() == right.strip()


def plan(specs: Iterable[TopicSpec], observed: Mapping[str, ObservedTopic]) -> Plan:
    """The plan that makes the `observed` topics match `specs` (see the module docstring)."""
    return Plan(tuple(_plan_topic(spec, observed.get(spec.name)) for spec in sorted(specs, key=lambda s: s.name)))


def _plan_topic(spec: TopicSpec, current: ObservedTopic | None) -> TopicPlan:
    if current is None:
        changes = [
            Change("partitions", None, str(spec.partitions)),
            Change("replication.factor", None, str(spec.replication_factor)),
            *(Change(key, None, spec.configs[key]) for key in MANAGED_CONFIGS),
        ]
        return TopicPlan(spec, tuple(changes), exists=False)
    changes = []
    if spec.partitions > current.partitions:
        changes.append(Change("partitions", str(current.partitions), str(spec.partitions), warning=KEYS_MOVE_WARNING))
    elif spec.partitions < current.partitions:
        changes.append(Change("partitions", str(current.partitions), str(spec.partitions), refused=FEWER_PARTITIONS))
    if current.replication_factor not in (spec.replication_factor, spec.declared_replication_factor):
        changes.append(
            Change(
                "replication.factor",
                str(current.replication_factor),
                str(spec.replication_factor),
                refused=REPLICATION_CHANGE,
            )
        )
    for key in MANAGED_CONFIGS:
        wanted, found = spec.configs[key], current.configs.get(key)
        if same_config(key, found, wanted) or _declared_in_sync(key, found, spec, current):
            continue
        changes.append(Change(key, found, wanted))
    return TopicPlan(spec, tuple(changes))


def _declared_in_sync(key: str, found: str | None, spec: TopicSpec, current: ObservedTopic) -> bool:
    """A capped min.insync.replicas also accepts its declared value where the topic has the replicas for it."""
    if key != "min.insync.replicas" or found is None or not found.strip().isdigit():
        return False
    value = int(found)
    return value == spec.declared_min_insync_replicas and value <= current.replication_factor


@dataclass(frozen=True, slots=True)
class TopicDrift:
    """A difference between the cluster and the contracts: `kind` is missing, partitions,
    replication.factor, config or no-contract."""

    topic: str
    kind: str
    detail: str


def drift(planned: Plan, cluster_topics: Iterable[str], prefix: str = "") -> list[TopicDrift]:
    """The cluster's differences from the contracts, sorted by topic (see the module docstring)."""
    found: list[TopicDrift] = []
    for topic in planned.topics:
        name = topic.spec.name
        if not topic.exists:
            found.append(TopicDrift(name, "missing", f"the contract of {topic.spec.event_topic} declares it"))
            continue
        for change in topic.changes:
            found.append(_drift_of(name, change))
    contracted = {topic.spec.name for topic in planned.topics}
    for name in sorted(set(cluster_topics) - contracted):
        reason = _uncontracted(name, contracted, prefix)
        if reason is not None:
            found.append(TopicDrift(name, "no-contract", reason))
    return sorted(found, key=lambda item: (item.topic, item.kind))


def _drift_of(name: str, change: Change) -> TopicDrift:
    kind = change.what if change.what in ("partitions", "replication.factor") else "config"
    label = "" if kind != "config" else f"{change.what} "
    return TopicDrift(name, kind, f"{label}{change.old} on the cluster, {change.new} in the contract")


def _uncontracted(name: str, contracted: set[str], prefix: str) -> str | None:
    """Why a topic without a contract is drift, or None when it is not the contracts' business."""
    if name.startswith("_") or not name.startswith(prefix):
        return None
    if name in (AUDIT_TOPIC, prefix + AUDIT_TOPIC):
        return None
    if is_dlq_topic(name) or is_replay_topic(name):
        try:
            source, _ = source_of(name)
        except ValueError:  # a marker but no group: not one of tradewire's names
            return "no schema declares this topic"
        if source in contracted:
            return None
        kind = "dead-letter" if is_dlq_topic(name) else "replay"
        return f"a {kind} topic of {source}, which no schema declares"
    return "no schema declares this topic"
