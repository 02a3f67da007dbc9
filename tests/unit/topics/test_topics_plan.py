"""Specification of the topic planning logic: specs from the contracts, the plan against a cluster, and drift."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from tradewire.config import TopicsConfig, TopicSettings, parse_config
from tradewire.contracts import EVENTS, OrderPlaced, SignalGenerated
from tradewire.errors import ConfigError
from tradewire.topics import (
    Cap,
    Change,
    ObservedTopic,
    TopicDrift,
    TopicSpec,
    contract_topics,
    domain_of,
    drift,
    events_of_contracts,
    plan,
)
from tradewire.topics.plan import FEWER_PARTITIONS, KEYS_MOVE_WARNING, REPLICATION_CHANGE

SIGNALS = "trading.signals.generated"
ORDERS = "execution.order.placed"
EVENTS_TWO = {SIGNALS: "trading", ORDERS: "execution"}
DEFAULT_CONFIGS = {
    "cleanup.policy": "delete",
    "max.message.bytes": "1048588",
    "min.insync.replicas": "2",
    "retention.ms": "604800000",
}


def _specs(brokers: int = 3, config: TopicsConfig | None = None, prefix: str = "") -> list[TopicSpec]:
    return contract_topics(EVENTS_TWO, config or TopicsConfig(), prefix=prefix, brokers=brokers)[0]


def _observed(name: str, partitions: int = 6, replicas: int = 3, **configs: str) -> ObservedTopic:
    merged = {**DEFAULT_CONFIGS, **{key.replace("_", "."): value for key, value in configs.items()}}
    return ObservedTopic(name, partitions, replicas, merged)


def _cluster(*topics: ObservedTopic) -> Mapping[str, ObservedTopic]:
    return {topic.name: topic for topic in topics}


def test_every_generated_event_has_its_domain_from_its_namespace() -> None:
    """The domain is the namespace below the root: SignalGenerated is trading's, OrderPlaced execution's."""
    events = events_of_contracts(EVENTS)
    assert (len(EVENTS), "trading", "execution") == (
        len(events),
        events[SignalGenerated.TOPIC],
        events[OrderPlaced.TOPIC],
    )


def test_a_namespace_outside_the_root_gives_its_last_part_as_the_domain() -> None:
    """A type outside the root namespace still has a domain: its namespace's last part."""
    assert ("risk", "risk") == (domain_of("tradewire.risk.X", "tradewire"), domain_of("acme.risk.X", "tradewire"))


def test_specs_carry_the_prefix_and_the_merged_settings() -> None:
    """A spec is named with the prefix, looked up without it, and holds the managed configs as Kafka spells them."""
    config = parse_config(
        {"version": "v1", "topics": {"events": {SIGNALS: {"partitions": 12, "retention.ms": -1}}}}, Path("/")
    ).topics
    spec = next(s for s in _specs(config=config, prefix="staging.") if s.event_topic == SIGNALS)
    assert (
        "staging.trading.signals.generated",
        "trading",
        12,
        3,
        {**DEFAULT_CONFIGS, "retention.ms": "-1"},
    ) == (spec.name, spec.domain, spec.partitions, spec.replication_factor, dict(spec.configs))


def test_a_small_cluster_caps_replicas_and_in_sync_replicas_and_says_so() -> None:
    """On one broker the factor 3 becomes 1 and min.insync.replicas 2 becomes 1, reported as one Cap."""
    specs, caps = contract_topics(EVENTS_TWO, TopicsConfig(), brokers=1)
    assert [(1, "1"), (1, "1")] == [(s.replication_factor, s.configs["min.insync.replicas"]) for s in specs]
    assert [Cap(1, 3, 1, 2, 1, (ORDERS, SIGNALS))] == caps
    assert (
        "the cluster has 1 broker: replication.factor 3 capped at 1 and min.insync.replicas 2 capped at 1 "
        "for 2 topic(s)"
    ) == caps[0].describe()


def test_a_cluster_large_enough_caps_nothing() -> None:
    """With as many brokers as the declared factor, nothing is capped."""
    assert [] == contract_topics(EVENTS_TWO, TopicsConfig(), brokers=3)[1]


def test_two_brokers_cap_only_the_replication_factor() -> None:
    """On two brokers the factor 3 becomes 2 and min.insync.replicas 2 stays (it fits)."""
    caps = contract_topics(EVENTS_TWO, TopicsConfig(), brokers=2)[1]
    assert ["the cluster has 2 brokers: replication.factor 3 capped at 2 for 2 topic(s)"] == [
        c.describe() for c in caps
    ]


@pytest.mark.parametrize("prefix", ["bad prefix ", "tëst.", "a/b."], ids=["space", "accent", "slash"])
def test_a_prefix_kafka_cannot_name_topics_with_is_refused(prefix: str) -> None:
    """A prefix with characters outside [A-Za-z0-9._-] is a configuration error."""
    message = f"topic prefix {prefix!r} may only hold letters, digits, '.', '_' and '-'"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        _specs(prefix=prefix)


def test_missing_topics_are_created_with_every_setting() -> None:
    """A topic the cluster lacks is planned for creation with partitions, replicas and each managed config."""
    planned = plan(_specs(), {})
    assert ["create", "create"] == [t.action for t in planned.topics]
    assert [
        Change("partitions", None, "6"),
        Change("replication.factor", None, "3"),
        Change("cleanup.policy", None, "delete"),
        Change("max.message.bytes", None, "1048588"),
        Change("min.insync.replicas", None, "2"),
        Change("retention.ms", None, "604800000"),
    ] == list(planned.topics[0].changes)


def test_a_topic_that_matches_is_unchanged_and_the_plan_is_empty() -> None:
    """A topic exactly as its contract says needs nothing; a plan of such topics is empty (apply is idempotent)."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS), _observed(ORDERS)))
    assert (["unchanged", "unchanged"], True, ()) == (
        [t.action for t in planned.topics],
        planned.empty,
        planned.refused,
    )


def test_more_partitions_are_added_with_the_key_order_warning() -> None:
    """A contract with more partitions than the topic adds them, warning that keys move."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS, partitions=3), _observed(ORDERS)))
    signals = planned.topics[1]
    assert ("update", (Change("partitions", "3", "6", warning=KEYS_MOVE_WARNING),)) == (signals.action, signals.changes)


def test_fewer_partitions_are_refused_with_the_reason() -> None:
    """A contract with fewer partitions than the topic is refused: Kafka cannot remove partitions."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS, partitions=8), _observed(ORDERS)))
    assert ("refused", ((planned.topics[1], Change("partitions", "8", "6", refused=FEWER_PARTITIONS)),)) == (
        planned.topics[1].action,
        planned.refused,
    )


def test_a_different_replication_factor_is_refused_as_needing_a_reassignment() -> None:
    """A topic with 2 replicas where the contract says 3 (on 3 brokers) is refused with the reassignment reason."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS, replicas=2), _observed(ORDERS)))
    assert (Change("replication.factor", "2", "3", refused=REPLICATION_CHANGE),) == planned.topics[1].changes


def test_managed_configs_that_differ_are_changed_old_to_new() -> None:
    """Each managed config that differs is one change from the cluster's value to the contract's."""
    observed = _observed(SIGNALS, retention_ms="1000", cleanup_policy="compact")
    planned = plan(_specs(), _cluster(observed, _observed(ORDERS)))
    assert (
        "update",
        (Change("cleanup.policy", "compact", "delete"), Change("retention.ms", "1000", "604800000")),
    ) == (planned.topics[1].action, planned.topics[1].changes)


def test_cleanup_policy_words_in_another_order_are_the_same_policy() -> None:
    """`delete,compact` on the cluster matches `compact,delete` in the contract."""
    config = TopicsConfig(defaults=TopicSettings(cleanup_policy="compact,delete").over(TopicsConfig().defaults))
    observed = [_observed(name, cleanup_policy="delete,compact") for name in (SIGNALS, ORDERS)]
    assert plan(_specs(config=config), _cluster(*observed)).empty


def test_refused_and_allowed_changes_of_one_topic_are_both_planned() -> None:
    """A topic with fewer partitions in its contract and another retention is updated and has a refused change."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS, partitions=9, retention_ms="5"), _observed(ORDERS)))
    signals = planned.topics[1]
    assert ("update", ("retention.ms",), ("partitions",)) == (
        signals.action,
        tuple(c.what for c in signals.applicable),
        tuple(c.what for c in signals.refused),
    )


def test_a_capped_topic_accepts_its_declared_replication_while_a_broker_is_away() -> None:
    """Two live brokers cap the plan at 2, but an existing topic with its declared 3 replicas and 2 in sync is fine."""
    planned = plan(_specs(brokers=2), _cluster(_observed(SIGNALS), _observed(ORDERS)))
    assert planned.empty and not planned.refused


def test_a_capped_topic_on_one_broker_matches_with_one_replica_and_one_in_sync() -> None:
    """On the dev stack, a topic created with the capped values is unchanged."""
    observed = [_observed(name, replicas=1, min_insync_replicas="1") for name in (SIGNALS, ORDERS)]
    assert plan(_specs(brokers=1), _cluster(*observed)).empty


def test_in_sync_replicas_above_the_topics_replicas_are_brought_down_to_the_cap() -> None:
    """A one-replica topic with min.insync.replicas 2 (every acks=all write fails) is changed to the capped 1."""
    planned = plan(_specs(brokers=1), _cluster(_observed(SIGNALS, replicas=1), _observed(ORDERS, replicas=1)))
    assert (Change("min.insync.replicas", "2", "1"),) == planned.topics[1].changes


def test_drift_names_missing_and_different_topics() -> None:
    """Drift reports a missing contract topic and each difference of an existing one."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS, partitions=8, retention_ms="5")))
    assert [
        TopicDrift(ORDERS, "missing", f"the contract of {ORDERS} declares it"),
        TopicDrift(SIGNALS, "config", "retention.ms 5 on the cluster, 604800000 in the contract"),
        TopicDrift(SIGNALS, "partitions", "8 on the cluster, 6 in the contract"),
    ] == drift(planned, [SIGNALS])


def test_drift_names_topics_no_contract_declares_but_not_tradewires_own_or_internal_ones() -> None:
    """Internal topics, the audit topic and dead-letter/replay topics of contract topics are not drift; others are."""
    planned = plan(_specs(), _cluster(_observed(SIGNALS), _observed(ORDERS)))
    cluster = [
        SIGNALS,
        ORDERS,
        "__consumer_offsets",
        "_schemas",
        "tradewire.dlq.audit",
        f"{SIGNALS}.dlq.risk",
        f"{SIGNALS}.replay.risk",
        "trading.signals.old.dlq.risk",
        "trading.signals.old.replay.risk",
        "scratch",
    ]
    assert [
        TopicDrift("scratch", "no-contract", "no schema declares this topic"),
        TopicDrift(
            "trading.signals.old.dlq.risk",
            "no-contract",
            "a dead-letter topic of trading.signals.old, which no schema declares",
        ),
        TopicDrift(
            "trading.signals.old.replay.risk",
            "no-contract",
            "a replay topic of trading.signals.old, which no schema declares",
        ),
    ] == drift(planned, cluster)


def test_under_a_prefix_drift_looks_only_at_the_prefixs_topics() -> None:
    """With prefix `dev.`, unprefixed topics (other environments) are not drift; `dev.` topics without contract are."""
    planned = plan(_specs(prefix="dev."), _cluster(_observed("dev." + SIGNALS), _observed("dev." + ORDERS)))
    cluster = ["dev." + SIGNALS, "dev." + ORDERS, SIGNALS, "scratch", "dev.scratch", f"dev.{SIGNALS}.dlq.risk"]
    assert [TopicDrift("dev.scratch", "no-contract", "no schema declares this topic")] == drift(
        planned, cluster, "dev."
    )
