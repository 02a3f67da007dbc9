"""TRADEWIRE_TOPIC_PREFIX end to end: topics, subjects, a producer without auto-registration, a consumer."""

from __future__ import annotations

from pathlib import Path

import pytest
from consumer_support import Background, signal, wait_for
from integration_support import REPO_ROOT

from tradewire.cli import main
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.producer import Producer
from tradewire.registry.client import RegistryClient


def test_a_prefixed_environment_creates_pushes_sends_and_receives(
    kafka_bootstrap: str,
    registry_url: str,
    unique: str,
    tmp_path: Path,
    *,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With only TRADEWIRE_TOPIC_PREFIX set: `topics apply` creates the prefixed topics, `registry push` registers
    `<prefix><topic>-value` (shared types unprefixed), a producer without auto-registration sends, a consumer
    receives, and both drifts are clean."""
    prefix = f"env{unique}."
    for name, value in {
        "TRADEWIRE_TOPIC_PREFIX": prefix,
        "TRADEWIRE_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TRADEWIRE_REGISTRY_URL": registry_url,
        "TRADEWIRE_STATE_DIR": str(tmp_path),
        "TRADEWIRE_AUTO_REGISTER": "0",
    }.items():
        monkeypatch.setenv(name, value)
    config = ["--config", str(REPO_ROOT / "tradewire.yaml")]
    assert (0, 0) == (main([*config, "topics", "apply"]), main([*config, "registry", "push"]))
    registered = RegistryClient(registry_url).latest(f"{prefix}{SignalGenerated.TOPIC}-value")
    assert registered is not None
    assert ["tradewire.common.EventMetadata"] == [reference.subject for reference in registered.references]

    consumer = Consumer.from_env("prefixed-risk", f"risk-{unique}")
    handled: list[SignalGenerated] = []

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        handled.append(event)

    running = Background(consumer)
    sender = Producer.from_env("prefixed-market")
    try:
        delivered = sender.send(signal("ENV", 1)).result(timeout=30)
        wait_for(lambda: len(handled) == 1, 60, "the prefixed signal to be handled")
    finally:
        sender.close()
        running.stop()
    assert (f"{prefix}{SignalGenerated.TOPIC}", "ENV") == (delivered.topic, handled[0].symbol)
    assert (0, 0) == (main([*config, "topics", "drift"]), main([*config, "registry", "drift"]))
