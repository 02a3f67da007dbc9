"""The producer agents use: typed events in, acknowledged records out.

`send` stamps the metadata (see `tradewire.metadata`), serialises with the registry's
schema id, keys the record by the event's partition key, mirrors metadata into
CloudEvents headers, and returns a `Delivery` future that resolves when the broker has
acknowledged the record with acks=all (or fails with `DeliveryError`; nothing vanishes).
A background thread serves delivery reports. Create one producer per process
(`Producer.shared`) and close it on shutdown, which flushes.

The first `send` to each topic asks the cluster (metadata, at most `TOPIC_CHECK_SECONDS`)
whether the topic exists, and raises `TopicNotFoundError` naming `tradewire topics apply`
at once when it does not; later sends only look the topic up in a set. A delivery that
fails (the topic deleted later, say) makes the next send to its topic ask again; a
delivery refused because the topic is unknown fails with `TopicNotFoundError` as well.
`send_raw` (dead letters, replays: the DLQ module creates their topics) is not checked.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import confluent_kafka

from tradewire.avro.record import Event
from tradewire.errors import DeliveryError, ProduceError, ProduceSerializationError, TopicNotFoundError
from tradewire.metadata import cloudevent_headers, stamp
from tradewire.metrics import CHAIN_LATENCY, PRODUCE_ACK, PRODUCE_ERRORS, PRODUCED, cached, serve_from_env
from tradewire.registry.client import RegistryClient
from tradewire.serde.serializer import EventSerializer
from tradewire.settings import ProducerSettings

__all__ = ["TOPIC_CHECK_SECONDS", "Delivered", "Delivery", "Producer"]

E = TypeVar("E", bound=Event)
log = logging.getLogger("tradewire.producer")
TOPIC_CHECK_SECONDS = 5.0
"""How long the first send to a topic waits for the cluster to say whether the topic exists."""
_UNKNOWN_TOPIC = (confluent_kafka.KafkaError.UNKNOWN_TOPIC_OR_PART, confluent_kafka.KafkaError._UNKNOWN_TOPIC)


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where the broker put a record, and how long the acknowledgement took."""

    topic: str
    partition: int
    offset: int
    ack_seconds: float


class Delivery:
    """A send in flight, resolved by the broker's acknowledgement: `result()` is where the record went
    (`Delivered`), or raises the `DeliveryError`; `event` is the event as sent (metadata stamped).

    The `concurrent.futures.Future` methods callers use (`done`, `result`, `exception`,
    `add_done_callback`, `set_result`, `set_exception`), without a Future's condition variable per
    send: one is made only when somebody waits on an unfinished delivery, since most never are. A
    callback's exception is logged, never raised into the report thread."""

    __slots__ = ("_callbacks", "_done", "_error", "_listeners", "_result", "_waiter", "event", "started", "topic")
    _lock = threading.Lock()  # guards every delivery's finishing, callbacks and waiter (held for a few steps)

    def __init__(
        self, topic: str, event: Event | None = None, listeners: Sequence[Callable[[Delivery], None]] = ()
    ) -> None:
        self.topic = topic
        self.event = event
        self.started = time.perf_counter()
        self._listeners = listeners
        self._result: Delivered | None = None
        self._error: BaseException | None = None
        self._done = False
        self._callbacks: list[Callable[[Delivery], object]] | None = None
        self._waiter: threading.Event | None = None

    def report(self, error: confluent_kafka.KafkaError | None, message: confluent_kafka.Message) -> None:
        """librdkafka's delivery callback."""
        if error is not None:
            if error.code() in _UNKNOWN_TOPIC:
                self.set_exception(TopicNotFoundError(self.topic, cause=error.str()))
                return
            self.set_exception(
                DeliveryError(
                    f"record for {self.topic} not acknowledged: {error.str()}",
                    topic=self.topic,
                    retriable=error.retriable(),
                    code=error.code(),
                )
            )
            return
        partition, offset = message.partition(), message.offset()
        self.set_result(Delivered(self.topic, partition or 0, offset or 0, time.perf_counter() - self.started))

    # -- the Future side -------------------------------------------------------------------
    def done(self) -> bool:
        """Whether the broker answered (acknowledged or failed)."""
        return self._done

    def result(self, timeout: float | None = None) -> Delivered:
        """Where the record went; raises its DeliveryError, or TimeoutError after `timeout` seconds."""
        self._wait(timeout)
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The delivery's error (None when acknowledged); TimeoutError after `timeout` seconds."""
        self._wait(timeout)
        return self._error

    def add_done_callback(self, callback: Callable[[Delivery], object]) -> None:
        """Call `callback(self)` once finished (at once, on this thread, when it already is)."""
        with self._lock:
            if not self._done:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        self._call(callback)

    def set_result(self, delivered: Delivered) -> None:
        """Resolve as acknowledged (the report thread does this)."""
        self._finish(delivered, None)

    def set_exception(self, error: BaseException) -> None:
        """Resolve as failed (the report thread does this)."""
        self._finish(None, error)

    def _finish(self, delivered: Delivered | None, error: BaseException | None) -> None:
        with self._lock:
            if self._done:
                raise RuntimeError(f"the delivery to {self.topic} is already finished")
            self._result, self._error, self._done = delivered, error, True
            callbacks, waiter = self._callbacks, self._waiter
        if waiter is not None:
            waiter.set()
        for listener in self._listeners:
            self._call(listener)
        for callback in callbacks or ():
            self._call(callback)

    def _call(self, callback: Callable[[Delivery], object]) -> None:
        try:
            callback(self)
        except Exception:
            log.exception("delivery callback %r failed for %s", callback, self.topic)

    def _wait(self, timeout: float | None) -> None:
        if self.done():
            return
        with self._lock:
            if self.done():  # finished meanwhile (done() reads it again: the report thread sets it)
                return
            if self._waiter is None:
                self._waiter = threading.Event()
            waiter = self._waiter
        if not waiter.wait(timeout):
            raise TimeoutError(f"no delivery report for {self.topic} within {timeout:g} s")


class Producer:
    """Sends typed events; see the module docstring."""

    _shared: ClassVar[dict[tuple[str, str], Producer]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: ProducerSettings, *, registry: RegistryClient | None = None) -> None:
        self.settings = settings
        self.agent = settings.agent
        self.registry = registry or RegistryClient.from_env(settings.registry_url)
        self.serializer = EventSerializer(self.registry, auto_register=settings.auto_register)
        self._kafka = confluent_kafka.Producer(settings.librdkafka())
        self._closed = threading.Event()
        self._listeners: list[Callable[[Delivery], None]] = [self._measure]
        self._instruments: dict[str, tuple[Any, Any]] = {}  # per topic: (produced counter, ack histogram)
        self._known_topics: set[str] = set()  # topics the cluster said exist (or could not be asked about)
        self._poller = threading.Thread(
            target=self._serve_reports, name=f"tradewire-producer-{self.agent}", daemon=True
        )
        self._poller.start()

    @classmethod
    def from_env(cls, agent: str, **overrides: Any) -> Producer:
        """A producer configured from the environment (see `tradewire.settings`); serves metrics
        when TRADEWIRE_METRICS_PORT is set."""
        serve_from_env(agent, "producer")
        return cls(ProducerSettings.from_env(agent, **overrides))

    @classmethod
    def shared(cls, agent: str, **overrides: Any) -> Producer:
        """The process's producer for `agent` (created once; the 'pool' is one producer per process)."""
        settings = ProducerSettings.from_env(agent, **overrides)
        serve_from_env(agent, "producer")
        key = (agent, settings.bootstrap_servers)
        with cls._shared_lock:
            producer = cls._shared.get(key)
            if producer is None or producer.closed:
                producer = cls._shared[key] = cls(settings)
            return producer

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed.is_set()

    def on_delivery(self, listener: Callable[[Delivery], None]) -> None:
        """Call `listener` with every finished delivery (metrics hook), in the report thread."""
        self._listeners.append(listener)

    def _measure(self, delivery: Delivery) -> None:
        """Metrics for every finished delivery (runs in the report thread, once it is finished); after a
        failure, the next send to the topic checks again that it exists."""
        if delivery.exception(timeout=0) is not None:
            cached(PRODUCE_ERRORS, delivery.topic, "delivery").inc()
            self._known_topics.discard(delivery.topic)
            return
        instruments = self._instruments.get(delivery.topic)
        if instruments is None:
            instruments = self._instruments[delivery.topic] = (
                cached(PRODUCED, delivery.topic, self.agent),
                cached(PRODUCE_ACK, delivery.topic),
            )
        instruments[0].inc()
        instruments[1].observe(delivery.result(timeout=0).ack_seconds)

    def _serve_reports(self) -> None:
        while not self._closed.is_set():
            self._kafka.poll(0.05)
        self._kafka.poll(0)

    # -- sending ------------------------------------------------------------------------
    def send(
        self,
        event: E,
        *,
        caused_by: Event | None = None,
        root_time: datetime.datetime | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        """Send an event to its topic, keyed by its partition key; see the module docstring.

        `root_time` is when the chain's root event was produced (handlers' `ctx.send` passes
        it on); without it, the cause's own produced_at stands in for it.
        """
        if self.closed:
            raise ProduceError("the producer is closed")
        topic = self.settings.topic_prefix + event.TOPIC
        if topic not in self._known_topics:
            self._check_topic(topic)
        stamped = stamp(event, self.agent, caused_by)
        try:
            value = self.serializer(stamped, topic)
        except ProduceSerializationError:
            cached(PRODUCE_ERRORS, topic, "serialization").inc()
            raise
        if caused_by is not None:
            root_time = root_time or caused_by.metadata.produced_at
            chain = (stamped.metadata.produced_at - root_time).total_seconds()
            cached(CHAIN_LATENCY, topic).observe(max(chain, 0.0))
        delivery = Delivery(topic, stamped, self._listeners)
        headers = cloudevent_headers(stamped, self.agent, root_time)
        self._produce(
            delivery, key=stamped.partition_key().encode(), value=value, headers=headers, callback=on_delivery
        )
        return delivery

    def _check_topic(self, topic: str) -> None:
        """Ask the cluster whether `topic` exists (bounded); TopicNotFoundError when it does not. A cluster
        that does not answer in time is not a verdict: the send goes on and its delivery report tells."""
        try:
            metadata = self._kafka.list_topics(topic, timeout=TOPIC_CHECK_SECONDS)
        except confluent_kafka.KafkaException as error:
            log.warning("could not check that topic %s exists (%s); sending anyway", topic, error.args[0].str())
            self._known_topics.add(topic)
            return
        found = metadata.topics.get(topic)
        if found is None or (found.error is not None and found.error.code() in _UNKNOWN_TOPIC):
            cached(PRODUCE_ERRORS, topic, "topic_not_found").inc()
            raise TopicNotFoundError(topic, bootstrap=self.settings.bootstrap_servers)
        self._known_topics.add(topic)

    def send_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]] = (),
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        """Send bytes as they are (dead letters, replays); acknowledged with acks=all like events."""
        delivery = Delivery(topic, None, self._listeners)
        self._produce(
            delivery,
            key=key,
            value=value,
            headers=headers if isinstance(headers, list) else list(headers),
            callback=on_delivery,
        )
        return delivery

    def _produce(
        self,
        delivery: Delivery,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        callback: Callable[[Delivery], None] | None,
    ) -> None:
        topic = delivery.topic
        if callback is not None:
            delivery.add_done_callback(callback)
        deadline: float | None = None
        while True:
            try:
                self._kafka.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=headers or None,  # type: ignore[arg-type]
                    on_delivery=delivery.report,
                )
                return
            except BufferError:  # the local queue is full: wait for deliveries to drain it
                if deadline is None:
                    deadline = time.monotonic() + self.settings.delivery_timeout_ms / 1000
                elif time.monotonic() > deadline:
                    cached(PRODUCE_ERRORS, topic, "queue_full").inc()
                    raise ProduceError(
                        f"the producer queue stayed full for {topic}; is the broker reachable?"
                    ) from None
                time.sleep(0.01)
            except confluent_kafka.KafkaException as error:
                raise ProduceError(f"cannot produce to {topic}: {error}") from error

    def flush(self, timeout: float = 30.0) -> int:
        """Wait until every record is acknowledged (or `timeout`); return how many are still pending."""
        remaining: int = self._kafka.flush(timeout)
        return remaining

    def close(self, timeout: float = 30.0) -> int:
        """Flush, then stop the report thread; return how many records never got a report."""
        remaining = self.flush(timeout)
        self._closed.set()
        self._poller.join(timeout=5)
        return remaining
