"""Specification of the poll loop's fatal errors: a fatal error of the Kafka client (a fenced static
member) stops `run()` with a FatalConsumerError that says why, and nothing is committed after it."""

from __future__ import annotations

import re
from typing import Any

import confluent_kafka
import pytest

import tradewire.consumer as consumer_module
from tradewire.consumer import Consumer, MessageContext
from tradewire.consumer.partitions import Job, PartitionState
from tradewire.contracts import SignalGenerated
from tradewire.errors import FatalConsumerError, RawRecord, TradingSystemError
from tradewire.registry.client import RegistryClient
from tradewire.settings import ConsumerSettings

FENCED = (
    "Fatal error: Broker: Static consumer fenced by other consumer with same group.instance.id: "
    "Fatal consumer error: Broker: Static consumer fenced by other consumer with same group.instance.id"
)


class KafkaStub:
    """What the poll loop calls on librdkafka's consumer: hands out the given messages once, one per poll,
    and records the other calls."""

    def __init__(self, messages: list[confluent_kafka.Message]) -> None:
        self.messages = messages
        self.calls: list[str] = []

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[confluent_kafka.Message]:
        """One message per poll (the loop's second, non-blocking call gets nothing), so each error is
        seen by the client that is current when it comes."""
        if num_messages > 1:
            return []
        batch, self.messages = self.messages[:1], self.messages[1:]
        return batch

    def commit(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("commit")

    def close(self) -> None:
        self.calls.append("close")


def consumer(kafka: KafkaStub, **changes: Any) -> Consumer:
    settings = ConsumerSettings(agent="risk", group="risk", instance_id="risk-1", dedup_store="none", **changes)
    made = Consumer(settings, registry=RegistryClient("http://127.0.0.1:9"), producer=object())  # type: ignore[arg-type]

    @made.handler(SignalGenerated)
    def on_signal(signal: SignalGenerated, ctx: MessageContext) -> None:
        """Never called here."""

    def start() -> None:
        made._kafka = kafka  # type: ignore[assignment]

    def connect() -> None:  # a new client: here the same stub, which goes on handing out its messages
        kafka.calls.append("connect")
        made._kafka = kafka  # type: ignore[assignment]

    made._start = start  # type: ignore[method-assign]
    made._connect = connect  # type: ignore[method-assign]
    return made


def fatal(text: str) -> confluent_kafka.Message:
    return confluent_kafka.Message(
        error=confluent_kafka.KafkaError(confluent_kafka.KafkaError._FATAL, text, fatal=True)
    )


def test_a_member_fenced_once_rejoins_with_a_new_client_and_goes_on() -> None:
    """A first FENCED_INSTANCE_ID (a static member whose session timed out fences itself when it rejoins)
    closes the fenced client, forgets the partitions without committing, and joins with a new client."""
    kafka = KafkaStub([fatal(FENCED)])
    fenced = consumer(kafka)
    state = PartitionState("trading.signals.generated", 0)
    done = Job(RawRecord("trading.signals.generated", 0, 5, None, b"", (), 0))
    state.add(done)
    state.complete(done)
    fenced._partitions[("trading.signals.generated", 0)] = state

    stats = fenced.run(install_signal_handlers=False, max_seconds=0.3)

    assert (1, {}, ["close", "connect", "close"]) == (stats.rebalances, fenced._partitions, kafka.calls)


def test_a_member_fenced_again_after_the_window_rejoins_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a second fencing within FENCE_WINDOW_SECONDS stops the consumer: one a window later rejoins."""
    monkeypatch.setattr(consumer_module, "FENCE_WINDOW_SECONDS", 0.0)
    kafka = KafkaStub([fatal(FENCED), fatal(FENCED)])

    stats = consumer(kafka).run(install_signal_handlers=False, max_seconds=0.3)

    assert (2, ["close", "connect", "close", "connect", "close"]) == (stats.rebalances, kafka.calls)


def test_a_member_fenced_twice_stops_run_with_an_error_naming_the_instance_id_and_the_way_out() -> None:
    """FENCED_INSTANCE_ID again within FENCE_WINDOW_SECONDS of the first (another live consumer has the same
    instance id: the rejoin fenced it back, and it fenced this one again) ends run() with FatalConsumerError,
    reason "fenced"."""
    kafka = KafkaStub([fatal(FENCED), fatal(FENCED)])
    fenced = consumer(kafka)
    joined_as = fenced.settings.group_instance_id(fenced.topics)

    with pytest.raises(FatalConsumerError) as raised:
        fenced.run(install_signal_handlers=False, max_seconds=30)

    error = raised.value
    assert isinstance(error, TradingSystemError)
    assert joined_as is not None and joined_as.startswith("risk-1.")
    assert ("fenced", "risk", joined_as) == (error.reason, error.group, error.instance_id)
    assert str(error).startswith(
        f"consumer 'risk' stopped: another consumer joined group 'risk' with the same group.instance.id "
        f"{joined_as!r} and the broker fenced this one out (Fatal error: Broker: Static consumer fenced"
    )
    assert str(error).endswith(
        "Each running instance needs its own instance id: give every instance its own agent name, or set "
        "instance_id (TRADEWIRE_INSTANCE_ID)"
    )


def test_after_a_fatal_error_nothing_is_committed_and_the_client_is_closed() -> None:
    """A client with a fatal error cannot commit: shutdown skips the commit (even with a record done) and
    closes the client."""
    kafka = KafkaStub([fatal("Fatal error: Local: Inconsistent state")])
    fenced = consumer(kafka)
    state = PartitionState("trading.signals.generated", 0)
    done = Job(RawRecord("trading.signals.generated", 0, 5, None, b"", (), 0))
    state.add(done)
    state.complete(done)
    fenced._partitions[("trading.signals.generated", 0)] = state

    with pytest.raises(FatalConsumerError):
        fenced.run(install_signal_handlers=False, max_seconds=30)

    assert ["close"] == kafka.calls


def test_an_instance_id_still_held_by_another_member_says_so() -> None:
    """UNRELEASED_INSTANCE_ID (the new consumer protocol refusing a second member) has its own reason."""
    text = "Fatal error: Broker: The instance ID is still used by another member in the consumer group"
    kafka = KafkaStub([fatal(text)])

    with pytest.raises(FatalConsumerError, match=re.escape("group.instance.id 'risk-1.")) as raised:
        consumer(kafka).run(install_signal_handlers=False, max_seconds=30)

    assert "instance-id-in-use" == raised.value.reason
    assert "is still held by another member" in str(raised.value)


def test_any_other_fatal_error_stops_run_with_librdkafkas_text() -> None:
    """A fatal error of another kind stops run() too, quoting librdkafka."""
    kafka = KafkaStub([fatal("Fatal error: Local: Inconsistent state")])

    with pytest.raises(
        FatalConsumerError,
        match=re.escape("consumer 'risk' of group 'risk' stopped on a fatal Kafka error: Fatal error: Local: Incons"),
    ) as raised:
        consumer(kafka).run(install_signal_handlers=False, max_seconds=30)

    assert "fatal" == raised.value.reason


def test_a_non_fatal_error_is_logged_and_the_loop_goes_on() -> None:
    """A transient client error (a broker going away) does not stop the consumer."""
    transient = confluent_kafka.Message(
        error=confluent_kafka.KafkaError(confluent_kafka.KafkaError._TRANSPORT, "broker down")
    )
    kafka = KafkaStub([transient])

    stats = consumer(kafka).run(install_signal_handlers=False, max_seconds=0.3)

    assert (0, ["close"]) == (stats.received, kafka.calls)
