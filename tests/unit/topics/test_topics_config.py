"""Specification of the `topics` section of tradewire.yaml and of the checks against the schemas' catalog."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tradewire.config import (
    DEFAULT_TOPIC_SETTINGS,
    CompatibilityConfig,
    Config,
    TopicsConfig,
    TopicSettings,
    check_against_catalog,
    parse_config,
)
from tradewire.errors import ConfigError

ROOT = Path("/repo")
EVENTS = {"trading.signals.generated": "trading", "execution.order.placed": "execution"}
SUBJECTS = ["trading.signals.generated-value", "execution.order.placed-value", "tradewire.common.EventMetadata"]


def _topics(raw: Any) -> TopicsConfig:
    return parse_config({"version": "v1", "topics": raw}, ROOT, "tradewire.yaml").topics


def _refused(raw: Any) -> str:
    with pytest.raises(ConfigError) as refused:
        _topics(raw)
    return str(refused.value)


def test_without_a_topics_section_every_topic_gets_the_production_defaults() -> None:
    """No `topics`: 6 partitions, 3 replicas, 2 in sync, 7 days, delete, 1048588 bytes, for every event."""
    expected = TopicSettings(6, 3, 2, 604_800_000, "delete", 1_048_588)
    assert (expected, expected) == (
        DEFAULT_TOPIC_SETTINGS,
        _topics({}).settings("trading.signals.generated", "trading"),
    )


def test_events_override_domains_which_override_the_defaults_key_by_key() -> None:
    """An event's own keys win over its domain's, which win over `defaults`, which win over the built-in ones."""
    topics = _topics(
        {
            "defaults": {"partitions": 3, "retention.ms": 86_400_000},
            "domains": {"execution": {"partitions": 12, "cleanup.policy": "compact"}},
            "events": {"execution.order.placed": {"partitions": 24, "max.message.bytes": 2_000_000}},
        }
    )
    assert [
        TopicSettings(24, 3, 2, 86_400_000, "compact", 2_000_000),
        TopicSettings(3, 3, 2, 86_400_000, "delete", 1_048_588),
    ] == [
        topics.settings("execution.order.placed", "execution"),
        topics.settings("trading.signals.generated", "trading"),
    ]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("delete", "delete"),
        ("compact", "compact"),
        ("delete,compact", "compact,delete"),
        (["compact", "delete"], "compact,delete"),
    ],
    ids=["delete", "compact", "both-as-text", "both-as-list"],
)
def test_cleanup_policy_is_delete_compact_or_both_in_any_order(policy: Any, expected: str) -> None:
    """Both policies may be written as Kafka's comma-separated text or as a list; they are kept in one order."""
    assert expected == _topics({"defaults": {"cleanup.policy": policy}}).defaults.cleanup_policy


def test_retention_minus_one_keeps_records_forever() -> None:
    """retention.ms -1 is Kafka's 'forever' and is accepted."""
    assert -1 == _topics({"events": {"a.b.c": {"retention.ms": -1}}}).events["a.b.c"].retention_ms


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"default": {}},
            "tradewire.yaml: topics: unknown key(s) default; allowed: defaults, domains, events",
        ),
        (
            {"defaults": {"replication_factor": 3}},
            "tradewire.yaml: topics.defaults: unknown key(s) replication_factor; allowed: cleanup.policy, "
            "max.message.bytes, min.insync.replicas, partitions, replication.factor, retention.ms",
        ),
        (
            {"events": {"trading.signals.generated": {"retention": 5}}},
            "tradewire.yaml: topics.events.trading.signals.generated: unknown key(s) retention; allowed: "
            "cleanup.policy, max.message.bytes, min.insync.replicas, partitions, replication.factor, retention.ms",
        ),
        (
            {"defaults": {"partitions": 0}},
            "tradewire.yaml: topics.defaults.partitions: expected an integer >= 1, found 0",
        ),
        (
            {"defaults": {"partitions": "6"}},
            "tradewire.yaml: topics.defaults.partitions: expected an integer >= 1, found '6'",
        ),
        (
            {"defaults": {"replication.factor": True}},
            "tradewire.yaml: topics.defaults.replication.factor: expected an integer >= 1, found True",
        ),
        (
            {"domains": {"risk": {"retention.ms": "7d"}}},
            "tradewire.yaml: topics.domains.risk.retention.ms: expected an integer >= 1 or -1 (forever), found '7d'",
        ),
        (
            {"defaults": {"retention.ms": 0}},
            "tradewire.yaml: topics.defaults.retention.ms: expected an integer >= 1 or -1 (forever), found 0",
        ),
        (
            {"defaults": {"cleanup.policy": "keep"}},
            "tradewire.yaml: topics.defaults.cleanup.policy: unknown cleanup policy 'keep'; allowed: delete, "
            "compact, compact,delete",
        ),
        (
            {"defaults": {"replication.factor": 1}},
            "tradewire.yaml: topics.defaults: min.insync.replicas 2 is more than replication.factor 1: "
            "no write with acks=all could succeed",
        ),
        (
            {"events": {"a.b.c": {"min.insync.replicas": 4}}},
            "tradewire.yaml: topics.events.a.b.c: min.insync.replicas 4 is more than replication.factor 3: "
            "no write with acks=all could succeed",
        ),
        ({"domains": []}, "tradewire.yaml: topics.domains: expected a mapping, found list"),
    ],
    ids=[
        "unknown-section",
        "unknown-default-key",
        "unknown-event-key",
        "zero-partitions",
        "partitions-as-text",
        "boolean-replicas",
        "retention-as-duration-text",
        "zero-retention",
        "unknown-cleanup-policy",
        "fewer-replicas-than-in-sync",
        "event-in-sync-above-default-replicas",
        "domains-as-list",
    ],
)
def test_bad_topic_settings_are_refused_naming_the_key_and_what_is_allowed(raw: Any, message: str) -> None:
    """Unknown keys, wrong types, out-of-range values and impossible replication are refused like any config error."""
    assert message == _refused(raw)


def _config(**topics: Any) -> Config:
    return parse_config({"version": "v1", "topics": topics}, ROOT)


def test_the_catalog_check_passes_when_everything_named_exists() -> None:
    """Known subjects, event topics and domains pass the check against the catalog."""
    config = parse_config(
        {
            "version": "v1",
            "compatibility": {"subjects": {"trading.signals.generated-value": "BACKWARD"}},
            "topics": {"domains": {"execution": {"partitions": 3}}, "events": {"trading.signals.generated": {}}},
        },
        ROOT,
    )
    check_against_catalog(config, SUBJECTS, EVENTS)  # no exception is the specification


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            Config(ROOT, compatibility=CompatibilityConfig(subjects={"nope-value": "BACKWARD"})),
            "tradewire.yaml: compatibility.subjects: unknown subject(s) nope-value; known: "
            "execution.order.placed-value, tradewire.common.EventMetadata, trading.signals.generated-value",
        ),
        (
            _config(domains={"trade": {"partitions": 3}}),
            "tradewire.yaml: topics.domains: unknown domain(s) trade; known: execution, trading",
        ),
        (
            _config(events={"trading.signal.generated": {"partitions": 3}}),
            "tradewire.yaml: topics.events: unknown event topic(s) trading.signal.generated; known: "
            "execution.order.placed, trading.signals.generated",
        ),
        (
            _config(
                domains={"trading": {"replication.factor": 2}},
                events={"trading.signals.generated": {"min.insync.replicas": 3}},
            ),
            "tradewire.yaml: topics (event trading.signals.generated of domain trading): min.insync.replicas 3 is "
            "more than replication.factor 2: no write with acks=all could succeed",
        ),
    ],
    ids=["subject-typo", "domain-typo", "event-typo", "domain-replicas-below-event-in-sync"],
)
def test_the_catalog_check_refuses_what_no_schema_defines(config: Config, message: str) -> None:
    """A subject, domain or event topic no schema defines is refused, naming it and every known one."""
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        check_against_catalog(config, SUBJECTS, EVENTS)
