"""The cluster side of topics: reading what a cluster has and changing it through Kafka's Admin API.

`TopicAdmin` reads the brokers, the topic names and, for the contract topics, their
partitions, replication factor and managed configs; `apply` carries out a `Plan` with
`create_topics`, `create_partitions` and `incremental_alter_configs` (refused changes are
never attempted) and then waits until the brokers show every contract topic with its
partitions, a leader for each, and the changed configs.
Every wait is bounded by the admin's timeout; a cluster that does not answer in time is a
`TopicAdminError` naming it. `ensure_contract_topics` does all of it in one call, for the dev
stack, the harness and the tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # public names, re-exported without __all__
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from tradewire.config import TopicsConfig
from tradewire.errors import TopicAdminError
from tradewire.topics.contract import MANAGED_CONFIGS, Cap, contract_topics
from tradewire.topics.plan import Change, ObservedTopic, Plan, TopicPlan, plan, same_config

__all__ = [
    "CLIENT_CONFIG_PREFIXES",
    "KAFKA_LOG",
    "Applied",
    "ClusterState",
    "Synced",
    "TopicAdmin",
    "ensure_contract_topics",
]

KAFKA_LOG = logging.getLogger("tradewire.topics.kafka")
"""Where librdkafka's own log lines go (instead of straight to stderr)."""

CLIENT_CONFIG_PREFIXES = ("security.", "sasl.", "ssl.", "socket.", "client.")
"""librdkafka settings a caller may pass to the admin client (SASL, TLS, timeouts)."""


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What a cluster has: live brokers, every topic's name, and the observed contract topics."""

    brokers: int
    names: frozenset[str]
    topics: Mapping[str, ObservedTopic]


@dataclass(frozen=True, slots=True)
class Applied:
    """What apply did to one topic: its plan, and the error when Kafka refused or failed it."""

    topic: TopicPlan
    error: str = ""


@dataclass(frozen=True, slots=True)
class Synced:
    """The result of `ensure_contract_topics`."""

    plan: Plan
    caps: list[Cap] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)


class TopicAdmin:
    """One cluster's topics through the Admin API; every call waits at most `timeout` seconds."""

    def __init__(
        self, bootstrap: str, *, timeout: float = 15.0, client_config: Mapping[str, Any] | None = None
    ) -> None:
        self.bootstrap = bootstrap
        self.timeout = timeout
        unknown = sorted(key for key in client_config or {} if not key.startswith(CLIENT_CONFIG_PREFIXES))
        if unknown:
            raise TopicAdminError(
                f"unknown client setting(s) {', '.join(unknown)}; allowed: librdkafka keys starting with "
                f"{', '.join(CLIENT_CONFIG_PREFIXES)}"
            )
        settings: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": KAFKA_LOG, **(client_config or {})}
        self._admin = AdminClient(settings)

    # -- reading --------------------------------------------------------------------------------
    def _metadata(self) -> Any:
        try:
            return self._admin.list_topics(timeout=self.timeout)
        except KafkaException as error:
            raise TopicAdminError(
                f"Kafka at {self.bootstrap} did not answer within {self.timeout:g} s ({error.args[0].str()}); "
                "is it running, and are the bootstrap servers right?"
            ) from None

    def observe(self, names: Iterable[str]) -> ClusterState:
        """The cluster's brokers and topic names, and the topics among `names` that exist."""
        metadata = self._metadata()
        present = [name for name in sorted(set(names)) if name in metadata.topics]
        configs = self._configs(present)
        topics = {}
        for name in present:
            partitions = metadata.topics[name].partitions
            replicas = max((len(partition.replicas) for partition in partitions.values()), default=0)
            topics[name] = ObservedTopic(name, len(partitions), replicas, configs[name])
        return ClusterState(max(1, len(metadata.brokers)), frozenset(metadata.topics), topics)

    def _configs(self, names: list[str]) -> dict[str, dict[str, str]]:
        if not names:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
        found: dict[str, dict[str, str]] = {}
        futures = self._admin.describe_configs(resources, request_timeout=self.timeout)
        for resource, future in futures.items():
            entries = self._result(future, f"reading the configs of {resource.name}")
            found[resource.name] = {
                key: str(entries[key].value) for key in MANAGED_CONFIGS if key in entries and entries[key].value
            }
        return found

    def _result(self, future: Any, doing: str) -> Any:
        try:
            return future.result(timeout=self.timeout + 5)
        except KafkaException as error:
            raise TopicAdminError(f"{doing} at {self.bootstrap} failed: {error.args[0].str()}") from None
        except TimeoutError:
            raise TopicAdminError(f"{doing} at {self.bootstrap} took more than {self.timeout:g} s") from None

    # -- changing -------------------------------------------------------------------------------
    def apply(self, planned: Plan) -> list[Applied]:
        """Make the plan's changes (refused ones never), then wait until every topic has leaders."""
        errors: dict[str, str] = {}
        creates = [topic for topic in planned.topics if topic.action == "create"]
        if creates:
            new_topics = [
                NewTopic(
                    topic.spec.name,
                    num_partitions=topic.spec.partitions,
                    replication_factor=topic.spec.replication_factor,
                    config=dict(topic.spec.configs),
                )
                for topic in creates
            ]
            created = self._admin.create_topics(
                new_topics, operation_timeout=self.timeout, request_timeout=self.timeout
            )
            errors |= self._errors(created, ignore=KafkaError.TOPIC_ALREADY_EXISTS)
        more = [
            NewPartitions(topic.spec.name, topic.spec.partitions)
            for topic in planned.topics
            if topic.exists and any(change.what == "partitions" for change in topic.applicable)
        ]
        if more:
            added = self._admin.create_partitions(more, operation_timeout=self.timeout, request_timeout=self.timeout)
            errors |= self._errors(added)
        altered = [
            ConfigResource(
                ResourceType.TOPIC,
                topic.spec.name,
                incremental_configs=[
                    ConfigEntry(change.what, change.new, incremental_operation=AlterConfigOpType.SET)
                    for change in topic.applicable
                    if change.what in MANAGED_CONFIGS
                ],
            )
            for topic in planned.topics
            if topic.exists and any(change.what in MANAGED_CONFIGS for change in topic.applicable)
        ]
        if altered:
            changed = self._admin.incremental_alter_configs(altered, request_timeout=self.timeout)
            errors |= self._errors(changed)
        self.wait_until_applied([topic for topic in planned.topics if topic.spec.name not in errors])
        return [Applied(topic, errors.get(topic.spec.name, "")) for topic in planned.topics]

    def _errors(self, futures: Mapping[Any, Any], ignore: int | None = None) -> dict[str, str]:
        errors = {}
        for key, future in futures.items():
            name = key.name if isinstance(key, ConfigResource) else str(key)
            try:
                future.result(timeout=self.timeout + 5)
            except KafkaException as error:
                if ignore is None or error.args[0].code() != ignore:
                    errors[name] = error.args[0].str()
            except TimeoutError:
                errors[name] = f"no answer within {self.timeout:g} s"
        return errors

    def wait_until_applied(self, topics: Iterable[TopicPlan]) -> None:
        """Wait (bounded by the timeout) until the cluster shows every topic with its partitions, a leader for
        each, and the configs apply changed (a broker learns what the controller decided a moment later)."""
        wanted = {topic.spec.name: topic for topic in topics}
        deadline = time.monotonic() + self.timeout
        while wanted:
            described = self._metadata().topics
            waiting = [
                name
                for name, topic in wanted.items()
                if not _has_leaders(described.get(name)) or len(described[name].partitions) < topic.spec.partitions
            ]
            if not waiting:
                altered = [name for name, topic in wanted.items() if topic.exists and _config_changes(topic)]
                current = self._configs(altered)
                waiting = [
                    name
                    for name in altered
                    for change in _config_changes(wanted[name])
                    if not same_config(change.what, current[name].get(change.what), change.new)
                ]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TopicAdminError(
                    f"topic(s) {', '.join(sorted(waiting))} at {self.bootstrap} were not ready (partitions, leaders, "
                    f"configs) after {self.timeout:g} s"
                )
            time.sleep(0.1)  # bounded by the deadline: the brokers catch up with the controller


def _config_changes(topic: TopicPlan) -> list[Change]:
    return [change for change in topic.applicable if change.what in MANAGED_CONFIGS]


def _has_leaders(topic: Any) -> bool:
    if topic is None or topic.error is not None or not topic.partitions:
        return False
    return all(partition.leader >= 0 for partition in topic.partitions.values())


def ensure_contract_topics(
    bootstrap: str,
    events: Mapping[str, str],
    config: TopicsConfig | None = None,
    *,
    prefix: str = "",
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> Synced:
    """Plan and apply the contract topics of `events` (`{topic: domain}`) in one call; TopicAdminError
    when a change was refused or failed. Idempotent: on a second call nothing changes."""
    admin = TopicAdmin(bootstrap, timeout=timeout, client_config=client_config)
    state = admin.observe(prefix + topic for topic in events)
    specs, caps = contract_topics(events, config or TopicsConfig(), prefix=prefix, brokers=state.brokers)
    planned = plan(specs, state.topics)
    refused = [f"{topic.spec.name}: {change.what} {change.old} -> {change.new}" for topic, change in planned.refused]
    if refused:
        raise TopicAdminError(f"refused at {bootstrap}: {'; '.join(refused)} (see `tradewire topics plan`)")
    applied = admin.apply(planned)
    failed = [f"{item.topic.spec.name}: {item.error}" for item in applied if item.error]
    if failed:
        raise TopicAdminError(f"creating or changing topics at {bootstrap} failed: {'; '.join(failed)}")
    return Synced(planned, caps, applied)
