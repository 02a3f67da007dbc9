"""The consumer agents use: typed handlers, at-least-once, dedup, key-ordered retries, DLQ.

```python
consumer = Consumer.from_env(agent="risk", group="risk")

@consumer.handler(SignalGenerated)
def on_signal(signal: SignalGenerated, ctx: MessageContext) -> None:
    ctx.send(SignalRiskAssessed(...))   # correlation and causation carried over

consumer.run()                           # until SIGTERM: drains, commits, closes
```

Guarantees (see DESIGN.md): an offset is committed only when every earlier offset of its
partition is done: handled, skipped as a duplicate of an event id this group already
handled (24 h), or acknowledged by the dead-letter topic. Poison records (bad magic byte,
unknown schema id, undecodable, wrong type, no value, header names that are not UTF-8) go to
the DLQ at once; handler failures (anything a handler raises, SystemExit and KeyboardInterrupt
included, or a broken `ctx.sent`) are retried with exponential backoff and full jitter (1, 2,
4, 8 s), then dead-lettered; a `NonRetryableError` goes at once. A dead letter too large for
its DLQ topic is written as a `too-large` reference; one that cannot be written now is tried
again after a backoff (0.5 s doubling to 30 s) while its offset stays uncommitted: nothing a
single record does is raised out of `run()` (see `tradewire.consumer.dead_letters`). While
a record waits for its retry, only later records with the same key wait; a partition with too
many waiting records is paused, and the poll loop never blocks, so `max.poll.interval.ms` is
never exceeded.

Handled event ids become durable in the idempotency store within `dedup_flush_seconds` (50 ms):
a process killed before that handles those records again after its restart, so handlers' side
effects must be idempotent by `event_id`. A fatal error of the Kafka client stops `run()` with
`FatalConsumerError`, except a first fencing, which a static member whose session timed out
inflicts on itself: the consumer then rejoins with a new client (see `Consumer._on_fatal`); fenced
again within a minute, another consumer shares its `group.instance.id`, and it stops.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import logging
import operator
import queue
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import TopicPartition

from tradewire.avro.record import Event
from tradewire.consumer.context import MessageContext
from tradewire.consumer.dead_letters import FULL, PendingDeadLetter, retry_delay
from tradewire.consumer.partitions import Job, PartitionState
from tradewire.consumer.runner import Call, HandlerRunner
from tradewire.dedup import IdempotencyStore, open_store
from tradewire.dlq import (
    DeadLetterError,
    FailureReason,
    describe_error,
    dlq_topic,
    ensure_dlq_topics,
    replay_topic,
    source_of,
)
from tradewire.dlq.replay import HEADER_REPLAYED_AT
from tradewire.errors import (
    FatalConsumerError,
    NonRetryableError,
    PoisonMessageError,
    ProduceError,
    RawRecord,
    RegistryError,
    RegistryUnavailableError,
)
from tradewire.logs import context_with, log_context
from tradewire.metadata import parse_header_time, parse_root_time
from tradewire.metrics import (
    CLOCK_SKEW,
    CONSUMED,
    CONSUMER_LAG,
    DEDUP_HITS,
    DLQ_WRITES,
    HANDLER_DURATION,
    HOP_LATENCY,
    PARKED,
    REPLAYED_AGE,
    cached,
    serve_from_env,
)
from tradewire.producer import Delivery, Producer
from tradewire.registry.client import RegistryClient
from tradewire.serde.deserializer import DecodeFailure, EventDeserializer
from tradewire.settings import ConsumerSettings, RetryPolicy
from tradewire.topics.watch import METADATA_REFRESH_MS, TopicWatch

__all__ = ["Consumer", "ConsumerStats", "MessageContext"]

E = TypeVar("E", bound=Event)
_VALUE = operator.itemgetter(1)
BATCH_RECORDS = 500
"""Records handed to the handler worker at once (one thread switch per batch, not per record)."""
FENCE_WINDOW_SECONDS = 60.0
"""A consumer fenced out of its group rejoins once (a static member can fence itself, see `_on_fatal`);
fenced again within this many seconds, another live consumer shares its instance id, and it stops."""
Handler = Callable[[Any, MessageContext], object]
log = logging.getLogger("tradewire.consumer")


@dataclass
class ConsumerStats:
    """What a consumer did: counts by outcome (what the harness ledger and the metrics read)."""

    received: int = 0
    handled: int = 0
    duplicates: int = 0
    retried: int = 0
    poison: int = 0
    dead_lettered: dict[str, int] = field(default_factory=dict)
    commits: int = 0
    rebalances: int = 0
    pauses: int = 0


@dataclass(frozen=True, slots=True)
class _Route:
    event_type: type[Event]
    handle: Handler
    timeout: float | None
    retry: RetryPolicy


def _headers(message: confluent_kafka.Message) -> tuple[tuple[str, bytes], ...]:
    """The record's headers with a null value read as b"" (checked in C first: the usual record has none).

    Called once per message: confluent-kafka cannot read a header name that is not UTF-8; `headers()`
    then raises SystemError (from a UnicodeDecodeError) and leaves the message's headers broken, so
    that asking again could crash the interpreter (see `tradewire.dlq.message_headers`)."""
    raw: Any = message.headers()
    if not raw:
        return ()
    if all(map(_VALUE, raw)):
        return tuple(raw)
    return tuple((str(name), value if isinstance(value, bytes) else (value or "").encode()) for name, value in raw)


def _broken_sends(context: MessageContext) -> TypeError | None:
    """Why `context.sent` cannot be trusted (a handler replaced it or put something else in it), if so."""
    sent: object = context.sent
    if isinstance(sent, list) and all(isinstance(delivery, Delivery) for delivery in sent):
        return None
    return TypeError(
        f"the handler left ctx.sent as {type(sent).__name__} holding something other than deliveries; "
        "send with ctx.send and leave ctx.sent alone"
    )


def _unreadable_headers(error: BaseException) -> str:
    cause = error.__cause__ or error.__context__ or error
    return (
        f"a header name is not UTF-8 ({describe_error(cause)}): confluent-kafka cannot read the record's "
        "headers, so they are not kept"
    )


class _RecordFields(Mapping[str, Any]):
    """A record's log fields (topic, partition, offset, group, and its event's ids once decoded),
    worked out only when a log record asks for them: most records are handled without logging."""

    __slots__ = ("_fields", "_group", "_job")

    def __init__(self, job: Job, group: str) -> None:
        self._job = job
        self._group = group
        self._fields: dict[str, Any] | None = None

    def _all(self) -> dict[str, Any]:
        if self._fields is None:
            record = self._job.record
            fields: dict[str, Any] = {
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "group": self._group,
            }
            if self._job.event is not None:
                metadata = self._job.event.metadata
                fields["correlation_id"] = str(metadata.correlation_id)
                fields["event_id"] = str(metadata.event_id)
            self._fields = fields
        return self._fields

    def __getitem__(self, name: str) -> Any:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class Consumer:
    """Consumes typed events with handlers; see the module docstring."""

    def __init__(
        self,
        settings: ConsumerSettings,
        *,
        registry: RegistryClient | None = None,
        producer: Producer | None = None,
        store: IdempotencyStore | None = None,
    ) -> None:
        self.settings = settings
        self.group = settings.group
        self.registry = registry or RegistryClient.from_env(settings.registry_url)
        self.producer = producer or Producer.shared(
            settings.agent, bootstrap_servers=settings.bootstrap_servers, registry_url=settings.registry_url
        )
        self.store = store if store is not None else open_store(settings)
        self.stats = ConsumerStats()
        self._routes: dict[str, _Route] = {}
        self._deserializer: EventDeserializer | None = None
        self._kafka: confluent_kafka.Consumer | None = None
        self._partitions: dict[tuple[str, int], PartitionState] = {}
        self._paused: set[tuple[str, int]] = set()
        self._ready: deque[Job] = deque()
        self._retries: list[tuple[float, int, Job]] = []
        self._sequence = itertools.count()
        self._acks: queue.SimpleQueue[tuple[Job, Delivery]] = queue.SimpleQueue()
        self._dead_letter_retries: list[tuple[float, int, Job]] = []
        self._outputs: queue.SimpleQueue[tuple[Job, str, str, BaseException | None]] = queue.SimpleQueue()
        self._runner = HandlerRunner(f"tradewire-handler-{settings.agent}")
        self._stopping = threading.Event()
        self._last_commit = time.monotonic()
        self._done_since_commit = 0
        self._awaiting_acks = 0
        self._remembered = False
        self._last_store_flush = time.monotonic()
        self._failed_for_good = False
        self._last_fenced: float | None = None
        self._last_lag = 0.0
        self._random = random.Random()  # noqa: S311 - backoff jitter, not cryptography

    @classmethod
    def from_env(cls, agent: str, group: str, **overrides: Any) -> Consumer:
        """A consumer configured from the environment (see `tradewire.settings`); serves metrics
        when TRADEWIRE_METRICS_PORT is set."""
        serve_from_env(agent, "consumer")
        return cls(ConsumerSettings.from_env(agent, group, **overrides))

    # -- registration -------------------------------------------------------------------
    def handler(
        self, event_type: type[E], *, timeout: float | None = None, retry: RetryPolicy | None = None
    ) -> Callable[[Callable[[E, MessageContext], object]], Callable[[E, MessageContext], object]]:
        """Decorator: handle events of `event_type` (its topic is subscribed)."""

        def register(function: Callable[[E, MessageContext], object]) -> Callable[[E, MessageContext], object]:
            self.add_handler(event_type, function, timeout=timeout, retry=retry)
            return function

        return register

    def add_handler(
        self,
        event_type: type[E],
        function: Callable[[E, MessageContext], object],
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Register `function` for `event_type` (the non-decorator form)."""
        topic = self.settings.topic_prefix + event_type.TOPIC
        if topic in self._routes:
            raise ValueError(f"a handler for {topic} is already registered")
        self._routes[topic] = _Route(
            event_type,
            function,
            self.settings.handler_timeout_seconds if timeout is None else timeout,
            retry or self.settings.retry,
        )

    @property
    def topics(self) -> list[str]:
        """The topics this consumer reads: its handlers' topics and their replay topics for its group."""
        return sorted([*self._routes, *(replay_topic(topic, self.group) for topic in self._routes)])

    # -- running ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run` to drain, commit and return (safe from any thread or a signal handler)."""
        self._stopping.set()

    def run(self, *, max_seconds: float | None = None, install_signal_handlers: bool = True) -> ConsumerStats:
        """Consume until `stop`, SIGTERM/SIGINT or `max_seconds`; then drain, commit and close."""
        if not self._routes:
            raise ValueError("register at least one handler before run()")
        previous = self._install_signals() if install_signal_handlers else {}
        deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        self._start()
        try:
            while not self._stopping.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._poll_once()
        finally:
            self._shutdown()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.stats

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: self.stop())
        return previous

    def _start(self) -> None:
        self._deserializer = EventDeserializer(
            self.registry,
            [route.event_type for route in self._routes.values()],
            topic_prefix=self.settings.topic_prefix,
        )
        ensure_dlq_topics(
            self.settings.bootstrap_servers,
            [
                name
                for topic in self._routes
                for name in (dlq_topic(topic, self.group), replay_topic(topic, self.group))
            ],
        )
        self._connect()
        # A handler's topic that does not exist is logged (naming `tradewire topics apply`) until it appears.
        TopicWatch(
            self.settings.bootstrap_servers,
            self._routes,
            alive=lambda: self._kafka is not None and not self._stopping.is_set(),
            log=log,
            client_config=self.settings.extra,
        ).start()

    def _connect(self) -> None:
        """A librdkafka consumer joining the group with this consumer's settings, subscribed to its topics."""
        # A topic created after subscribe is found at the next metadata refresh (see tradewire.topics.watch).
        kafka_config = {
            "topic.metadata.refresh.interval.ms": METADATA_REFRESH_MS,
            **self.settings.librdkafka(self.topics),
        }
        self._kafka = confluent_kafka.Consumer(kafka_config)
        self._kafka.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost)

    def _poll_once(self) -> None:
        assert self._kafka is not None
        timeout = 0.0 if self._ready else self._idle_timeout()
        # consume(n, timeout) waits the whole timeout unless n records arrive: wait for ONE record
        # (returns as soon as it is there), then take whatever else is already fetched.
        messages = self._kafka.consume(num_messages=1, timeout=timeout)
        if messages:
            messages.extend(self._kafka.consume(num_messages=499, timeout=0))
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal() or error.code() == confluent_kafka.KafkaError._FATAL:
                    self._on_fatal(error)
                    return  # a new client joined: what the old one fetched belongs to partitions forgotten
                if error.code() != confluent_kafka.KafkaError._PARTITION_EOF:
                    log.warning("consumer error: %s", error.str())
                continue
            self._accept(message)
        self._drain_ready()
        self._drain_acks()
        self._drain_outputs()
        self._run_due_retries()
        self._flush_store_if_due(force=True)  # handled ids become durable at once, offsets follow in batches
        self._maybe_commit()
        self._adjust_pauses()
        self._measure_lag()

    def _on_fatal(self, error: confluent_kafka.KafkaError) -> None:
        """librdkafka reported a fatal error: its client cannot go on. A first fencing within
        FENCE_WINDOW_SECONDS is taken for a static member fencing itself, and the consumer rejoins
        with a new client; anything else (fenced again, or another fatal error) stops `run()`.

        A static member whose session timed out on its side (the coordinator unreachable longer than
        `session_timeout_ms`, e.g. a broker restarting slowly) rejoins under a new member id with its
        own instance id, and the coordinator then fences the old member id, which was its own:
        librdkafka reports that as fatal (librdkafka issue 3437). A real second consumer with the
        same instance id is fenced back by the rejoin, fences this one again, and this one stops."""
        now = time.monotonic()
        fenced = "fenced" in error.str().lower()
        if not fenced or (self._last_fenced is not None and now - self._last_fenced < FENCE_WINDOW_SECONDS):
            raise self._fatal(error)
        self._last_fenced = now
        log.warning(
            "consumer %r was fenced out of group %r (%s); a static member whose session timed out (the "
            "coordinator away longer than session.timeout.ms) fences itself when it rejoins, so it rejoins with "
            "a new client; fenced again within %g s, it stops: then another consumer uses its instance id %r",
            self.settings.agent,
            self.group,
            error.str(),
            FENCE_WINDOW_SECONDS,
            self.settings.group_instance_id(self.topics),
        )
        self.stats.rebalances += 1
        self._forget(set(self._partitions))  # nothing is committed: the new client's partitions come again
        if self._kafka is not None:  # its rebalance callbacks find no partition left to commit
            try:
                self._kafka.close()
            except (confluent_kafka.KafkaException, RuntimeError) as closing:
                log.debug("closing the fenced client: %s", closing)
        self._connect()

    def _fatal(self, error: confluent_kafka.KafkaError) -> FatalConsumerError:
        """The error that stops `run()` after librdkafka reported a fatal one: the client cannot go on, so
        nothing is committed (the partitions' next owner handles the uncommitted records again)."""
        self._failed_for_good = True
        text, instance, group = error.str(), self.settings.group_instance_id(self.topics), self.group
        lowered = text.lower()
        if "fenced" in lowered:
            reason = "fenced"
            message = (
                f"consumer {self.settings.agent!r} stopped: another consumer joined group {group!r} with the same "
                f"group.instance.id {instance!r} and the broker fenced this one out ({text}). Each running instance "
                "needs its own instance id: give every instance its own agent name, or set instance_id "
                "(TRADEWIRE_INSTANCE_ID)"
            )
        elif "instance id is still used" in lowered or "unreleased" in lowered:
            reason = "instance-id-in-use"
            message = (
                f"consumer {self.settings.agent!r} cannot join group {group!r}: group.instance.id {instance!r} is "
                f"still held by another member ({text}); stop the other instance or give this one its own instance id"
            )
        else:
            reason = "fatal"
            message = f"consumer {self.settings.agent!r} of group {group!r} stopped on a fatal Kafka error: {text}"
        log.error("%s", message)
        return FatalConsumerError(message, group=group, instance_id=instance, reason=reason)

    def _idle_timeout(self) -> float:
        if not self._retries:
            return 0.1
        return max(0.0, min(0.1, self._retries[0][0] - time.monotonic()))

    # -- records ---------------------------------------------------------------------------------
    def _accept(self, message: confluent_kafka.Message) -> None:
        topic, partition = message.topic() or "", message.partition() or 0
        state = self._partitions.get((topic, partition))
        if state is None:
            return  # revoked between fetch and delivery: the next owner reads it
        unreadable = ""
        try:
            headers = _headers(message)
        except (SystemError, UnicodeDecodeError) as error:  # a header name that is not UTF-8 (see _headers)
            headers, unreadable = (), _unreadable_headers(error)
        record = RawRecord(
            topic,
            partition,
            message.offset() or 0,
            message.key(),
            message.value(),
            headers,
            message.timestamp()[1],
        )
        self.stats.received += 1
        job = Job(record, received=time.monotonic(), replayed=".replay." in topic, unreadable_headers=unreadable)
        if state.add(job):
            self._ready.append(job)

    def _drain_ready(self) -> None:
        while self._ready and not self._stopping.is_set():
            self._process([self._ready.popleft() for _ in range(min(len(self._ready), BATCH_RECORDS))])
            self._flush_store_if_due()

    def _flush_store_if_due(self, *, force: bool = False) -> None:
        """Make remembered ids durable soon after handling (`dedup_flush_seconds` at most), well before offsets."""
        due = time.monotonic() - self._last_store_flush >= self.settings.dedup_flush_seconds
        if self._remembered and (force or due):
            self.store.flush()
            self._remembered = False
            self._last_store_flush = time.monotonic()

    def _source_topic(self, topic: str) -> str:
        return source_of(topic)[0] if ".replay." in topic else topic

    def _fields(self, job: Job) -> Mapping[str, Any]:
        """The log context of `job`'s record (with its event's ids once decoded), worked out when logged."""
        return _RecordFields(job, self.group)

    def _requeue(self, jobs: list[Job]) -> None:
        """Put `jobs` back at the front of the ready queue, in their order (they are processed next)."""
        self._ready.extendleft(reversed(jobs))

    def _process(self, jobs: list[Job]) -> None:
        """Decode `jobs`, skip the duplicates, and run the others' handlers as one batch on the worker.

        The worker stops at the first handler that fails: the records after it go back to the front
        of the queue and come again once the failure is dealt with (its key parked for a retry), so
        per-key order holds. An event id met twice in one batch cuts the batch there: the second
        record waits for the first's outcome, as dedup requires."""
        batch: list[tuple[Job, PartitionState, str, str]] = []
        ids: set[str] = set()
        for position, job in enumerate(jobs):
            record = job.record
            state = self._partitions.get((record.topic, record.partition))
            if state is None or not state.may_process(job):
                continue  # revoked, or its key waits behind a record due for a retry
            source = self._source_topic(record.topic)
            if job.event is None and not self._decode(job, source):
                continue
            event_id = str(job.event.metadata.event_id)
            if event_id in ids:
                self._requeue(jobs[position:])
                break
            ids.add(event_id)
            batch.append((job, state, source, event_id))
        if not batch:
            return
        seen = self.store.seen_many([event_id for _, _, _, event_id in batch])
        runnable: list[tuple[Job, PartitionState, str, str, MessageContext]] = []
        calls: list[Call] = []
        for job, state, source, event_id in batch:
            if event_id in seen:
                self.stats.duplicates += 1
                cached(CONSUMED, source, self.group, "duplicate").inc()
                cached(DEDUP_HITS, self.group).inc()
                self._done(job, state)
                continue
            record, event = job.record, job.event
            context = MessageContext(
                record.topic,
                record.partition,
                record.offset,
                record.key,
                record.headers,
                job.attempts + 1,
                self.group,
                event,
                self._live_producer(),
                job.replayed,
                self._root_time(job, event),
            )
            route = self._routes[source]
            fields = self._fields(job)
            calls.append(
                Call(
                    self._call_handler,
                    (job, route.handle, event, context, source),
                    route.timeout,
                    context_with(fields),
                    getattr(route.handle, "__qualname__", repr(route.handle)),
                )
            )
            runnable.append((job, state, source, event_id, context))
        if calls:
            self._run_handlers(calls, runnable)

    def _call_handler(self, job: Job, handle: Handler, event: Event, context: MessageContext, source: str) -> object:
        """On the handler thread: the hop ends when the handler starts (not when its batch did)."""
        if not job.hop_observed:
            job.hop_observed = True
            self._observe_hop(event, source, job)
        return handle(event, context)

    def _run_handlers(
        self, calls: list[Call], runnable: list[tuple[Job, PartitionState, str, str, MessageContext]]
    ) -> None:
        outcome = self._runner.run(calls, stop=self._stopping, budget=self.settings.dedup_flush_seconds)
        for (_, _, source, _, _), duration in zip(runnable, outcome.durations, strict=False):
            cached(HANDLER_DURATION, source, self.group).observe(duration)
        handled: list[tuple[Job, PartitionState, str, str]] = []
        for job, state, source, event_id, context in runnable[: outcome.returned]:
            broken = _broken_sends(context)
            if broken is not None:  # the handler returned, but left ctx.sent unusable: that is a failure
                self._failed(job, broken, self._routes[source].retry)
                continue
            if all(delivery.done() and delivery.exception() is None for delivery in context.sent):
                handled.append((job, state, event_id, source))
            else:
                self._await_outputs(job, event_id, source, list(context.sent))
        self._handled(handled)
        if outcome.error is not None:
            job, _, source, _, _ = runnable[outcome.returned]
            self._failed(job, outcome.error, self._routes[source].retry)
        self._requeue([runnable[index][0] for index in outcome.not_run(len(calls))])

    def _failed(self, job: Job, error: BaseException, policy: RetryPolicy) -> None:
        """A handler raised (or overran its timeout): dead-letter a refusal, retry anything else."""
        with log_context(**self._fields(job)):
            if isinstance(error, NonRetryableError):
                log.warning("handler refused the event (non-retryable): %s", describe_error(error))
                self._dead_letter(job, "non-retryable", error)
                return
            log.warning(
                "handler failed (attempt %d): %s: %s", job.attempts + 1, type(error).__name__, describe_error(error)
            )
            self._retry_or_dead_letter(job, error, policy)

    def _event(self, job: Job, source: str) -> Any:
        """The record's event; DecodeFailure when it has none (unreadable headers, no value, bad bytes)."""
        assert self._deserializer is not None
        if job.unreadable_headers:
            raise DecodeFailure(job.unreadable_headers, "unreadable-headers")
        if job.record.value is None:
            raise DecodeFailure("the record has no value (a tombstone), so it carries no event", "no-value")
        return self._deserializer(job.record.value, source)

    def _decode(self, job: Job, source: str) -> bool:
        try:
            job.event = self._event(job, source)
        except DecodeFailure as failure:
            self.stats.poison += 1
            cached(CONSUMED, source, self.group, "poison").inc()
            with log_context(**self._fields(job)):
                log.warning("poison record (%s): %s", failure.reason, failure)
            poison = PoisonMessageError(str(failure), record=job.record, reason=failure.reason)
            self._dead_letter(job, "poison", poison)
            return False
        except (RegistryError, RegistryUnavailableError) as error:
            self._schedule_retry(job, error, counted=False)
            return False
        return True

    def _handled(self, handled: list[tuple[Job, PartitionState, str, str]]) -> None:
        """Handlers succeeded and the broker acknowledged everything they sent: remember the ids
        (in one go), count, and mark the records done."""
        if not handled:
            return
        self.store.remember_many([event_id for _, _, event_id, _ in handled])
        self._remembered = True
        self.stats.handled += len(handled)
        per_source: dict[str, int] = {}
        for job, state, _, source in handled:
            per_source[source] = per_source.get(source, 0) + 1
            self._done(job, state)
        for source, count in per_source.items():
            cached(CONSUMED, source, self.group, "handled").inc(count)

    def _await_outputs(self, job: Job, event_id: str, source: str, pending: list[Delivery]) -> None:
        """Done only when what the handler sent is acknowledged: until then its id is not remembered and
        its offset not committed, so a crash redelivers the record and the handler sends again."""
        self._awaiting_acks += 1
        remaining = [len(pending)]
        lock = threading.Lock()

        def finished(_: object) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                failure = next((d.exception() for d in pending if d.exception() is not None), None)
                self._outputs.put((job, event_id, source, failure))

        for delivery in pending:
            delivery.add_done_callback(finished)

    def _drain_outputs(self) -> None:
        while True:
            try:
                job, event_id, source, failure = self._outputs.get_nowait()
            except queue.Empty:
                return
            self._awaiting_acks -= 1
            state = self._partitions.get((job.record.topic, job.record.partition))
            if state is None:
                continue  # revoked meanwhile: its offset was not committed, the next owner handles it again
            if failure is None:
                self._handled([(job, state, event_id, source)])
                continue
            log.warning("what the handler sent was not acknowledged (%s); handling the record again", failure)
            self._retry_or_dead_letter(job, failure, self._routes[source].retry)

    def _retry_or_dead_letter(self, job: Job, error: BaseException, policy: RetryPolicy) -> None:
        """A failed attempt: retry after the policy's backoff, or dead-letter once its retries are spent."""
        if job.attempts >= policy.retries:
            job.attempts += 1
            job.last_failure = time.time()
            self._dead_letter(job, "exhausted", error)
        else:
            self._schedule_retry(job, error, counted=True, policy=policy)

    def _observe_hop(self, event: Event, source: str, job: Job) -> None:
        """Hop latency from the event's produced_at; a replayed event's from its replay (`tw.replay.at`),
        with its age (from its original produced_at) measured apart. Never raises: it runs in the handler's call."""
        now = time.time()
        metadata = event.metadata
        try:
            start = produced = metadata.produced_at.timestamp()
        except (OverflowError, OSError, ValueError):  # a produced_at no clock can hold
            return
        if job.replayed:
            cached(REPLAYED_AGE, source, self.group).observe(max(0.0, now - produced))
            replayed_at = parse_header_time(job.record.headers, HEADER_REPLAYED_AT)
            if replayed_at is None:
                return  # produced to the replay topic by hand, without tw.replay.at: no hop to measure
            start = replayed_at.timestamp()
        hop = now - start
        if hop < 0:
            cached(CLOCK_SKEW, source, self.group).inc()
            hop = 0.0
        cached(HOP_LATENCY, source, metadata.source_agent, self.group).observe(hop)

    @staticmethod
    def _root_time(job: Job, event: Event) -> datetime.datetime:
        """Where the chain the event belongs to starts, for the events its handler sends: its root time header,
        else its produced_at; for a replayed event, its replay (the chain starts again there)."""
        headers = job.record.headers
        replayed_at = parse_header_time(headers, HEADER_REPLAYED_AT) if job.replayed else None
        return replayed_at or parse_root_time(headers) or event.metadata.produced_at

    def _schedule_retry(
        self, job: Job, error: BaseException, *, counted: bool, policy: RetryPolicy | None = None
    ) -> None:
        state = self._partitions.get((job.record.topic, job.record.partition))
        if state is None:
            return
        now = time.time()
        job.first_failure = job.first_failure or now
        job.last_failure = now
        job.error = error
        if counted:
            job.attempts += 1
            self.stats.retried += 1
            cached(CONSUMED, self._source_topic(job.record.topic), self.group, "retried").inc()
            delay = (policy or self.settings.retry).delay(job.attempts, self._random.random())
        else:  # the registry is unreachable: wait and try again, never dead-letter for that
            delay = min(8.0, 0.5 * 2 ** min(job.attempts, 4))
            log.warning("registry unavailable while decoding %s@%s: %s", job.record.topic, job.record.offset, error)
        job.due = time.monotonic() + delay
        state.park(job)
        heapq.heappush(self._retries, (job.due, next(self._sequence), job))

    def _run_due_retries(self) -> None:
        now = time.monotonic()
        due: list[Job] = []
        while self._retries and self._retries[0][0] <= now and not self._stopping.is_set():
            due.append(heapq.heappop(self._retries)[2])
        if due:
            self._process(due)

    def _done(self, job: Job, state: PartitionState) -> None:
        following = state.complete(job)
        if following is not None:
            self._ready.appendleft(following)
        self._done_since_commit += 1

    # -- dead letters ---------------------------------------------------------------------------
    def _dead_letter(self, job: Job, reason: FailureReason, error: BaseException) -> None:
        """Write `job`'s record to its DLQ topic (see `tradewire.consumer.dead_letters`); the record is
        done once the broker acknowledged its dead letter, and until then its offset is not committed."""
        state = self._partitions.get((job.record.topic, job.record.partition))
        if state is None:
            return  # revoked: the next owner reads the record again
        now = time.time()
        job.first_failure = job.first_failure or now
        job.last_failure = job.last_failure or now
        job.dead_letter = PendingDeadLetter(reason, error, state, headers_kept=not job.unreadable_headers)
        self._write_dead_letter(job)

    def _live_producer(self) -> Producer:
        """The producer, opened again when it was closed under the consumer (a handler's `ctx.producer.close()`):
        a closed producer sends nothing and reports nothing, so dead letters would wait forever."""
        if self.producer.closed:
            log.error("the producer was closed while the consumer runs (by a handler?); opening a new one")
            settings = self.settings
            self.producer = Producer.shared(
                settings.agent, bootstrap_servers=settings.bootstrap_servers, registry_url=settings.registry_url
            )
        return self.producer

    def _dlq_of(self, job: Job) -> str:
        return dlq_topic(self._source_topic(job.record.topic), self.group)

    def _write_dead_letter(self, job: Job) -> None:
        pending: PendingDeadLetter = job.dead_letter
        key, value, headers = pending.record_to_write(
            job.record,
            group=self.group,
            attempts=job.attempts,
            first_failure=job.first_failure,
            last_failure=job.last_failure,
        )
        try:
            delivery = self._live_producer().send_raw(self._dlq_of(job), key, value, headers)
        except ProduceError as error:  # refused at once (too large for the producer, queue full, ...)
            self._dead_letter_refused(job, error)
            return
        self._awaiting_acks += 1
        delivery.add_done_callback(lambda done: self._acks.put((job, done)))

    def _dead_letter_refused(self, job: Job, error: BaseException) -> None:
        """A dead letter was not written: write a smaller form at once, or try again after a backoff
        (its key waits meanwhile, like a record due for a retry)."""
        pending: PendingDeadLetter = job.dead_letter
        record = job.record
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        if pending.refused(error):
            log.warning(
                "the dead letter of %s is too large for %s (%s); writing a too-large reference instead%s",
                where,
                self._dlq_of(job),
                describe_error(error),
                " (without the record's key and headers)" if pending.form > 1 else "",
            )
            self._write_dead_letter(job)
            return
        delay = retry_delay(pending.failures, self._random.random())
        log.error(
            "the dead letter of %s was not written to %s (attempt %d, %s): %s: %s; trying again in %.1f s",
            where,
            self._dlq_of(job),
            pending.failures,
            pending.reason,
            type(error).__name__,
            describe_error(error),
            delay,
        )
        pending.state.park(job)
        heapq.heappush(self._dead_letter_retries, (time.monotonic() + delay, next(self._sequence), job))

    def _retry_due_dead_letters(self) -> None:
        now = time.monotonic()
        retries = self._dead_letter_retries
        while retries and retries[0][0] <= now and not self._stopping.is_set():
            job = heapq.heappop(retries)[2]
            pending: PendingDeadLetter = job.dead_letter
            if self._partitions.get((job.record.topic, job.record.partition)) is not pending.state:
                continue  # revoked meanwhile: its offset was not committed, the next owner reads it again
            self._ensure_dead_letter_topics(job)
            self._write_dead_letter(job)

    def _ensure_dead_letter_topics(self, job: Job) -> None:
        """Before writing a dead letter again: create its DLQ topic if it was deleted (bounded wait)."""
        source = self._source_topic(job.record.topic)
        try:
            ensure_dlq_topics(
                self.settings.bootstrap_servers,
                [dlq_topic(source, self.group), replay_topic(source, self.group)],
                timeout=5.0,
            )
        except (DeadLetterError, confluent_kafka.KafkaException, TimeoutError) as error:
            log.warning("cannot check the DLQ topic of %s: %s", source, describe_error(error))

    def _drain_acks(self) -> None:
        while True:
            try:
                job, delivery = self._acks.get_nowait()
            except queue.Empty:
                break
            self._awaiting_acks -= 1
            pending: PendingDeadLetter = job.dead_letter
            state = self._partitions.get((job.record.topic, job.record.partition))
            if state is None or state is not pending.state:
                continue  # revoked meanwhile: its offset was not committed, the next owner reads it again
            failure = delivery.exception()
            if failure is not None:
                self._dead_letter_refused(job, failure)
                continue
            reason = pending.written_reason
            if pending.form != FULL:
                record = job.record
                log.warning(
                    "wrote a too-large reference to %s for %s[%d]@%d (%s): the record stays on its source topic "
                    "until retention; `tradewire dlq replay` reads it from there",
                    self._dlq_of(job),
                    record.topic,
                    record.partition,
                    record.offset,
                    pending.reason,
                )
            self.stats.dead_lettered[reason] = self.stats.dead_lettered.get(reason, 0) + 1
            source = self._source_topic(job.record.topic)
            cached(DLQ_WRITES, source, self.group, reason).inc()
            cached(CONSUMED, source, self.group, "dead_lettered").inc()
            self._done(job, state)
        self._retry_due_dead_letters()

    # -- commits and flow control -------------------------------------------------------------------
    def _maybe_commit(self, *, force: bool = False, only: set[tuple[str, int]] | None = None) -> None:
        due = time.monotonic() - self._last_commit >= self.settings.commit_interval_seconds
        if not (force or due or self._done_since_commit >= self.settings.commit_every_messages):
            return
        offsets = []
        for key, state in self._partitions.items():
            if only is not None and key not in only:
                continue
            position = state.commit_offset()
            if position is not None:
                offsets.append((state, TopicPartition(state.topic, state.partition, position)))
        self._last_commit = time.monotonic()
        self._done_since_commit = 0
        if not offsets or self._kafka is None:
            return
        self.store.flush()  # remembered event ids are durable before the offsets that imply them
        try:
            self._kafka.commit(offsets=[tp for _, tp in offsets], asynchronous=False)
        except confluent_kafka.KafkaException as error:
            log.warning("offset commit failed (will retry): %s", error)
            return
        for state, tp in offsets:
            state.committed = tp.offset
        self.stats.commits += 1

    def _adjust_pauses(self) -> None:
        if self._kafka is None:
            return
        limit = self.settings.max_parked_per_partition
        for key, state in self._partitions.items():
            parked = state.parked
            cached(PARKED, key[0], str(key[1]), self.group).set(parked)
            if key not in self._paused and parked >= limit:
                self._kafka.pause([TopicPartition(*key)])
                self._paused.add(key)
                self.stats.pauses += 1
            elif key in self._paused and parked <= limit // 2:
                self._kafka.resume([TopicPartition(*key)])
                self._paused.discard(key)

    def _measure_lag(self, every: float = 5.0) -> None:
        now = time.monotonic()
        if self._kafka is None or now - self._last_lag < every or not self._partitions:
            return
        self._last_lag = now
        partitions = [TopicPartition(topic, partition) for topic, partition in self._partitions]
        for position in self._kafka.position(partitions):
            try:
                _, high = self._kafka.get_watermark_offsets(position, cached=True)
            except confluent_kafka.KafkaException:
                continue
            if high is None or high < 0:
                continue
            consumed = (
                position.offset
                if position.offset >= 0
                else self._partitions[(position.topic, position.partition)].committed
            )
            lag = max(0, high - max(consumed, 0))
            cached(CONSUMER_LAG, position.topic, str(position.partition), self.group).set(lag)

    # -- rebalance ---------------------------------------------------------------------------------------
    def _on_assign(self, consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._partitions[(tp.topic, tp.partition)] = PartitionState(tp.topic, tp.partition)

    def _on_revoke(self, consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self.stats.rebalances += 1
        self._drain_acks()
        self._drain_outputs()
        self._maybe_commit(force=True, only=revoked)
        self._forget(revoked)

    def _on_lost(self, consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
        self._forget({(tp.topic, tp.partition) for tp in partitions})

    def _forget(self, keys: set[tuple[str, int]]) -> None:
        for key in keys:
            self._partitions.pop(key, None)
            self._paused.discard(key)
        self._ready = deque(job for job in self._ready if (job.record.topic, job.record.partition) not in keys)
        self._retries = [item for item in self._retries if (item[2].record.topic, item[2].record.partition) not in keys]
        heapq.heapify(self._retries)

    # -- shutdown -------------------------------------------------------------------------------------------
    def _shutdown(self, ack_timeout: float = 10.0) -> None:
        """Drain: wait (bounded) for dead letters and handlers' sends in flight, commit what is done, close."""
        deadline = time.monotonic() + ack_timeout
        while self._awaiting_acks > 0 and time.monotonic() < deadline:
            self._drain_acks()
            self._drain_outputs()
            time.sleep(0.01)
        self._drain_acks()
        self._drain_outputs()
        if not self._failed_for_good:  # a fenced member's commits are refused; its successor takes over
            self._maybe_commit(force=True)
        if self._kafka is not None:
            self._kafka.close()
            self._kafka = None
        self.store.flush()
        self.store.close()
        self._runner.close()
