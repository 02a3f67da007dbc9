"""A consumer's missing topics: said out loud, watched until they appear, and then consumed.

A consumer subscribed to a topic that does not exist receives nothing from it and, left
alone, says nothing either. `TopicWatch` checks the subscribed topics in a background
thread (every `interval` seconds, each check bounded), logs an error naming each missing
topic, the bootstrap servers and `tradewire topics apply` (again every `repeat` seconds
while it is missing), and logs when it appears.

Receiving from the topic once it exists is librdkafka's part, and it needs help: with the
classic group protocol, librdkafka 2.16 re-checks a subscription's missing topics only at
its periodic metadata refresh when some subscribed topics already exist (the replay topics
always do), every `topic.metadata.refresh.interval.ms`, 5 minutes by default. Measured with
Kafka 4.4: a topic created 5 s after subscribe was still not assigned 55 s later; with the
interval at `METADATA_REFRESH_MS` (10 s) it was assigned at the next refresh, 4.9 s after
creation (1.0 s with 3 s). The consumer therefore uses 10 s unless told otherwise, which
also lets it read partitions added by `tradewire topics apply` within 10 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tradewire.topics.admin import CLIENT_CONFIG_PREFIXES, KAFKA_LOG

__all__ = ["CHECK_SECONDS", "METADATA_REFRESH_MS", "TopicWatch"]

METADATA_REFRESH_MS = 10_000
"""The consumer's `topic.metadata.refresh.interval.ms`: how soon it finds a topic created after it subscribed."""

CHECK_SECONDS = 10.0
"""How often a missing topic is looked for (read when a watch is made)."""


class TopicWatch:
    """Watches `topics` at `bootstrap` while `alive()` is true (its own admin client, with the librdkafka
    security settings of `client_config`); see the module docstring."""

    def __init__(
        self,
        bootstrap: str,
        topics: Iterable[str],
        *,
        alive: Callable[[], bool],
        log: logging.Logger,
        client_config: Mapping[str, Any] | None = None,
        interval: float | None = None,
        repeat: float = 60.0,
        timeout: float = 5.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = sorted(set(topics))
        self.missing: set[str] = set()
        self._alive = alive
        self._log = log
        self._interval = CHECK_SECONDS if interval is None else interval
        self._repeat, self._timeout = repeat, timeout
        passed = {k: v for k, v in (client_config or {}).items() if k.startswith(CLIENT_CONFIG_PREFIXES)}
        self._config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": KAFKA_LOG, **passed}
        self._thread = threading.Thread(target=self._run, name="tradewire-topic-watch", daemon=True)

    def start(self) -> None:
        """Start watching in a daemon thread (it ends once every topic exists or `alive()` is false)."""
        self._thread.start()

    def _run(self) -> None:
        admin = AdminClient(self._config)  # listing every topic: a named one might be auto-created by the broker
        said: dict[str, float] = {}
        started = time.monotonic()
        while self._alive():
            try:
                existing = admin.list_topics(timeout=self._timeout).topics
            except KafkaException:  # the cluster is unreachable: the consumer's own errors say so
                existing = None
            if existing is not None:
                missing = {topic for topic in self.topics if topic not in existing}
                for topic in sorted(self.missing - missing):
                    self._log.info("topic %s now exists at %s; consuming it", topic, self.bootstrap)
                for topic in sorted(missing):
                    now = time.monotonic()
                    if topic not in said or now - said[topic] >= self._repeat:
                        said[topic] = now
                        self._log.error(
                            "topic %s does not exist at %s (missing for %.0f s): nothing is received from it until "
                            "it is created; create the contract topics with `tradewire topics apply`",
                            topic,
                            self.bootstrap,
                            now - started,
                        )
                self.missing = missing
                if not missing:
                    return
            deadline = time.monotonic() + self._interval
            while self._alive() and time.monotonic() < deadline:
                time.sleep(min(0.2, self._interval))  # bounded: wakes to notice the consumer stopping
