"""A consumer whose topic does not exist yet: it says so, and receives once the topic is created, without a restart."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from consumer_support import Background, create_topics, producer, signal, wait_for

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.settings import ConsumerSettings
from tradewire.topics import watch


def test_a_missing_topic_is_logged_and_consumed_once_created(
    kafka_bootstrap: str,
    registry_url: str,
    unique: str,
    tmp_path: Path,
    *,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Subscribed to a topic that does not exist, the consumer logs an error naming the topic, the bootstrap
    servers and `tradewire topics apply`; once the topic is created it logs so and handles what is sent there."""
    monkeypatch.setattr(watch, "CHECK_SECONDS", 0.5)
    caplog.set_level(logging.INFO, logger="tradewire.consumer")
    prefix = f"late{unique}."
    topic = prefix + SignalGenerated.TOPIC
    consumer = Consumer(
        ConsumerSettings(
            bootstrap_servers=kafka_bootstrap,
            registry_url=registry_url,
            agent="late",
            group=f"late-{unique}",
            topic_prefix=prefix,
            state_dir=str(tmp_path),
        )
    )
    handled: list[SignalGenerated] = []

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        handled.append(event)

    def said(level: int, text: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]

    running = Background(consumer)
    wait_for(lambda: bool(said(logging.ERROR, topic)), 30, "the missing topic to be logged")
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    try:
        sent = sender.send(signal("LATE", 1)).event
        wait_for(lambda: len(handled) == 1, 60, "the signal sent to the new topic to be handled")
    finally:
        sender.close()
        stats = running.stop()
    assert (1, [sent]) == (stats.handled, handled)
    (missing, *_) = said(logging.ERROR, topic)
    assert missing.startswith(f"topic {topic} does not exist at {kafka_bootstrap} (missing for ")
    assert missing.endswith("create the contract topics with `tradewire topics apply`")
    assert [f"topic {topic} now exists at {kafka_bootstrap}; consuming it"] == said(logging.INFO, topic)
