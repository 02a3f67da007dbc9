"""One simulated agent of the trading pipeline, as a process: `python -m tradewire.harness.agent ROLE`.

Agents use only the public runtime (`Producer`, `Consumer`, handlers and `ctx.send`):

* market-analysis emits signals at the run's pace once the harness says go, and stops while a
  breaker halt is in force;
* risk assesses each signal (and fails on purpose for the poison scenario's marked signals:
  once, always, or non-retryably; a replayed signal is handled normally);
* personality applies variance to the assessment; execution places and fills the order (or
  rejects it with BREAKER_ACTIVE while a system emergency is in force); learning records
  feedback from the fill;
* every agent reports its health every second; a SIGUSR1 makes it report FAILING for a while;
* the circuit breaker consumes health: a FAILING agent trips an agent-level breaker and a
  system-wide emergency, which every agent obeys; when the agent is healthy again (after a
  cooldown) the breaker resets and the market resumes.

Events an agent derives from another get a deterministic id (a UUIDv5 of the cause's id), so a
handler that runs again after a crash sends the same event and the next group's dedup drops it.
What each agent sent and handled goes to its journal (see `tradewire.harness.journal`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import (
    AgentBreakerTriggered,
    AgentHealthReported,
    AgentRole,
    BreakerReset,
    BreakerScope,
    BreakerTrigger,
    EmergencySeverity,
    EventMetadata,
    HealthStatus,
    LearningFeedbackRecorded,
    Liquidity,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    OrderSide,
    OrderType,
    PersonalityMood,
    PersonalityVarianceApplied,
    RejectReason,
    RiskDecision,
    SignalDirection,
    SignalGenerated,
    SignalRiskAssessed,
    SystemEmergencyTriggered,
    TimeInForce,
    TradeOutcome,
)
from tradewire.errors import NonRetryableError
from tradewire.harness.config import ROLES, RunConfig, derived_id
from tradewire.harness.journal import Journal
from tradewire.logs import configure_logging
from tradewire.metrics import serve_metrics
from tradewire.producer import Delivery, Producer
from tradewire.settings import ConsumerSettings, ProducerSettings, RetryPolicy

__all__ = ["Agent", "main"]

ROLE_ENUM = {
    "market-analysis": AgentRole.MARKET_ANALYSIS,
    "risk": AgentRole.RISK,
    "personality": AgentRole.PERSONALITY,
    "execution": AgentRole.EXECUTION,
    "learning": AgentRole.LEARNING,
    "circuit-breaker": AgentRole.CIRCUIT_BREAKER,
}
SYMBOLS = ("BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "XRP-USD", "DOT-USD", "LINK-USD", "AVAX-USD")
BREAKER_ID = "harness-breaker"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def metadata(event_id: uuid.UUID, agent: str) -> EventMetadata:
    """Fresh metadata; the producer stamps time, agent, correlation and causation when sending."""
    return EventMetadata(event_id=event_id, correlation_id=event_id, produced_at=_now(), source_agent=agent)


def _signal(config: RunConfig, index: int, agent: str, *, warmup: bool = False) -> SignalGenerated:
    now = _now()
    name = f"warmup/{index}" if warmup else f"signal/{index}"
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"tradewire-harness/{config.run_id}/{name}")
    price = Decimal(20000 + index % 997).quantize(Decimal("0.01"))
    return SignalGenerated(
        metadata=metadata(event_id, agent),
        symbol=SYMBOLS[index % len(SYMBOLS)],
        venue="harness",
        direction=SignalDirection.LONG if index % 2 == 0 else SignalDirection.SHORT,
        strategy="chaos-" + config.chaos[str(index)] if str(index) in config.chaos and not warmup else "momentum",
        model_version="harness-1",
        confidence=Decimal("0.7500"),
        reference_price=price,
        target_price=price * Decimal("1.01"),
        stop_price=price * Decimal("0.99"),
        horizon_seconds=60,
        expires_at=now + datetime.timedelta(minutes=1),
        features={"momentum": Decimal("0.12"), "volatility": Decimal("0.03")},
    )


class Agent:
    """One agent process: its producer, its consumer (if it consumes), health and journal."""

    def __init__(self, role: str, instance: int, config: RunConfig, *, metrics_port: int | None = None) -> None:
        self.role = role
        self.metrics_port = metrics_port
        self.instance = instance
        self.config = config
        self.name = f"{role}-{instance}"
        self.journal = Journal(config.journals / f"{self.name}.jsonl")
        self.state_dir = config.state_dir(role, instance)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.producer = Producer(
            ProducerSettings(
                bootstrap_servers=config.bootstrap,
                registry_url=config.registry,
                agent=role,
                auto_register=True,
                topic_prefix=config.prefix,
            )
        )
        self.producer.on_delivery(self._delivered)
        self.consumer = Consumer(
            ConsumerSettings(
                bootstrap_servers=config.bootstrap,
                registry_url=config.registry,
                agent=role,
                group=role,
                instance_id=self.name,  # risk-1 and risk-2 are two members; risk-1 restarted is risk-1 again
                state_dir=str(self.state_dir),
                topic_prefix=config.prefix,
                retry=RetryPolicy(base_seconds=config.retry_base, retries=config.retries),
            ),
            producer=self.producer,
        )
        self.stopping = threading.Event()
        self.halted = threading.Event()
        self.emission = threading.Lock()
        """Held while the market checks the halt and sends, and while a halt or resume takes effect."""
        self.degraded_until = 0.0
        self.heartbeat = 0
        self.failed_once: set[uuid.UUID] = set()
        self.tripped: dict[str, tuple[float, uuid.UUID]] = {}
        self._register()

    # -- journal -------------------------------------------------------------------------
    def _delivered(self, delivery: Delivery) -> None:
        if delivery.exception() is None and delivery.event is not None:
            topic = delivery.topic.removeprefix(self.config.prefix)
            metadata = delivery.event.metadata
            self.journal.write(
                "sent", topic=topic, id=str(metadata.event_id), t=time.time(), p=metadata.produced_at.timestamp()
            )

    def _journaled(self, handler: Callable[[Any, MessageContext], None]) -> Callable[[Any, MessageContext], None]:
        """`handler`, journaling each event it finishes (with its hop latency, taken when it starts)."""

        def handle(event: Any, ctx: MessageContext) -> None:
            started = time.time()
            handler(event, ctx)
            self._handled(event, ctx, started)

        return handle

    def _handled(self, event: Any, ctx: MessageContext, started: float) -> None:
        hop = started - event.metadata.produced_at.timestamp()
        self.journal.write(
            "handled",
            topic=type(event).TOPIC,
            group=self.role,
            id=str(event.metadata.event_id),
            t=time.time(),
            hop=hop,
            attempt=ctx.attempt,
            replayed=ctx.replayed,
        )

    def mark(self, what: str, **fields: Any) -> None:
        self.journal.write("mark", what=what, t=time.time(), agent=self.name, **fields)

    # -- handlers ------------------------------------------------------------------------------
    def _register(self) -> None:
        consumer = self.consumer
        consumer.add_handler(SystemEmergencyTriggered, self._journaled(self._on_emergency))
        consumer.add_handler(BreakerReset, self._journaled(self._on_reset))
        consumer.add_handler(AgentBreakerTriggered, self._journaled(self._on_agent_breaker))
        pipeline: dict[str, tuple[type[Any], Any]] = {
            "risk": (SignalGenerated, self._on_signal),
            "personality": (SignalRiskAssessed, self._on_assessment),
            "execution": (PersonalityVarianceApplied, self._on_variance),
            "learning": (OrderFilled, self._on_fill),
            "circuit-breaker": (AgentHealthReported, self._on_health),
        }
        if self.role in pipeline:
            event_type, handler = pipeline[self.role]
            consumer.add_handler(event_type, self._journaled(handler))

    def _slow(self) -> None:
        extra = self.config.slow_ms.get(self.role, 0.0)
        if extra:
            time.sleep(extra / 1000)

    def _on_signal(self, signal_: SignalGenerated, ctx: MessageContext) -> None:
        chaos = signal_.strategy.removeprefix("chaos-") if signal_.strategy.startswith("chaos-") else ""
        if chaos and not ctx.replayed:
            event_id = signal_.metadata.event_id
            if chaos == "reject":
                raise NonRetryableError(f"risk refuses marked signal {event_id} (injected by the harness)")
            if chaos == "exhaust":
                raise RuntimeError(f"risk model unavailable for {event_id} (injected, every attempt)")
            if chaos == "transient" and event_id not in self.failed_once:
                self.failed_once.add(event_id)
                raise RuntimeError(f"risk model timed out for {event_id} (injected, once)")
        self._slow()
        ctx.send(
            SignalRiskAssessed(
                metadata=metadata(derived_id(signal_.metadata.event_id, "assessed"), self.role),
                symbol=signal_.symbol,
                signal_id=signal_.metadata.event_id,
                decision=RiskDecision.APPROVED,
                approved_quantity=Decimal("0.50000000"),
                max_notional=Decimal("50000.0000"),
                risk_score=Decimal("0.2500"),
                reasons=("within limits",),
                valid_until=signal_.expires_at,
            )
        )

    def _on_assessment(self, assessment: SignalRiskAssessed, ctx: MessageContext) -> None:
        self._slow()
        ctx.send(
            PersonalityVarianceApplied(
                metadata=metadata(derived_id(assessment.metadata.event_id, "variance"), self.role),
                symbol=assessment.symbol,
                signal_id=assessment.signal_id,
                profile="steady-hand",
                mood=PersonalityMood.CALM,
                side=OrderSide.BUY,
                base_quantity=assessment.approved_quantity,
                adjusted_quantity=Decimal("0.48000000"),
                variance_factor=Decimal("0.960000"),
                limit_price=None,
                seed=assessment.signal_id.int % 2**31,
            )
        )

    def _on_variance(self, variance: PersonalityVarianceApplied, ctx: MessageContext) -> None:
        self._slow()
        cause = variance.metadata.event_id
        order_id = derived_id(cause, "order")
        now = _now()
        if self.halted.is_set():
            ctx.send(
                OrderRejected(
                    metadata=metadata(derived_id(cause, "rejected"), self.role),
                    symbol=variance.symbol,
                    order_id=order_id,
                    client_order_id=str(order_id),
                    venue="harness",
                    reason=RejectReason.BREAKER_ACTIVE,
                    detail="system emergency in force",
                    rejected_by=self.role,
                    rejected_at=now,
                )
            )
            return
        placed = ctx.send(
            OrderPlaced(
                metadata=metadata(derived_id(cause, "placed"), self.role),
                symbol=variance.symbol,
                order_id=order_id,
                client_order_id=str(order_id),
                venue="harness",
                signal_id=variance.signal_id,
                side=variance.side,
                order_type=OrderType.MARKET,
                time_in_force=TimeInForce.IOC,
                quantity=variance.adjusted_quantity,
                limit_price=None,
                stop_price=None,
                placed_at=now,
            )
        )
        if ctx.root_time is not None and placed.event is not None:
            chain = (placed.event.metadata.produced_at - ctx.root_time).total_seconds()
            self.journal.write("chain", id=str(placed.event.metadata.event_id), t=time.time(), chain=chain)
        ctx.send(
            OrderFilled(
                metadata=metadata(derived_id(cause, "filled"), self.role),
                symbol=variance.symbol,
                order_id=order_id,
                client_order_id=str(order_id),
                venue="harness",
                fill_id=str(derived_id(cause, "fill")),
                side=variance.side,
                fill_quantity=variance.adjusted_quantity,
                fill_price=Decimal("20000.00000000"),
                cumulative_quantity=variance.adjusted_quantity,
                remaining_quantity=Decimal("0E-8"),
                fee=Decimal("0.01000000"),
                fee_currency="USD",
                liquidity=Liquidity.TAKER,
                filled_at=now,
                trade_date=now.date(),
                is_final=True,
            )
        )

    def _on_fill(self, fill: OrderFilled, ctx: MessageContext) -> None:
        self._slow()
        root = ctx.root_time or fill.metadata.produced_at
        ctx.send(
            LearningFeedbackRecorded(
                metadata=metadata(derived_id(fill.metadata.event_id, "feedback"), self.role),
                symbol=fill.symbol,
                signal_id=fill.metadata.correlation_id,
                order_id=fill.order_id,
                strategy="momentum",
                model_version="harness-1",
                outcome=TradeOutcome.BREAKEVEN,
                realized_pnl=Decimal("0.0000"),
                pnl_currency="USD",
                slippage_bps=Decimal("0.0000"),
                signal_to_fill_micros=max(0, int((fill.metadata.produced_at - root).total_seconds() * 1e6)),
                confidence_at_signal=Decimal("0.7500"),
            )
        )

    def _on_health(self, report: AgentHealthReported, ctx: MessageContext) -> None:
        agent = report.agent_id
        now = time.time()
        if report.status == HealthStatus.FAILING and agent not in self.tripped:
            trigger_id = uuid.uuid4()
            self.tripped[agent] = (now, trigger_id)
            ctx.send(
                AgentBreakerTriggered(
                    metadata=metadata(trigger_id, self.role),
                    agent_id=agent,
                    role=report.role,
                    trigger=BreakerTrigger.ERROR_RATE,
                    observed_value=Decimal(report.events_failed),
                    threshold=Decimal(0),
                    reason=f"{agent} reports FAILING",
                    cooldown_until=_now() + datetime.timedelta(seconds=self.config.cooldown_seconds),
                )
            )
            ctx.send(
                SystemEmergencyTriggered(
                    metadata=metadata(uuid.uuid4(), self.role),
                    breaker_id=BREAKER_ID,
                    severity=EmergencySeverity.HALT_NEW_ORDERS,
                    reason=f"{agent} reports FAILING: halt new orders",
                    triggered_by=(agent,),
                    requires_manual_reset=False,
                )
            )
            self.mark("trip", target=agent)
        elif report.status == HealthStatus.HEALTHY and agent in self.tripped:
            tripped_at, trigger_id = self.tripped[agent]
            if now - tripped_at >= self.config.cooldown_seconds:
                del self.tripped[agent]
                ctx.send(
                    BreakerReset(
                        metadata=metadata(uuid.uuid4(), self.role),
                        breaker_id=BREAKER_ID,
                        scope=BreakerScope.SYSTEM,
                        agent_id=agent,
                        reset_by=self.role,
                        reason=f"{agent} healthy again",
                        trigger_event_id=trigger_id,
                    )
                )
                self.mark("reset", target=agent)

    def _on_emergency(self, emergency: SystemEmergencyTriggered, ctx: MessageContext) -> None:
        with self.emission:
            if not self.halted.is_set():
                self.halted.set()
                self.mark("halt", reason=emergency.reason)

    def _on_reset(self, reset: BreakerReset, ctx: MessageContext) -> None:
        with self.emission:
            if reset.scope == BreakerScope.SYSTEM and self.halted.is_set():
                self.halted.clear()
                self.mark("resume", reason=reset.reason)

    def _on_agent_breaker(self, triggered: AgentBreakerTriggered, ctx: MessageContext) -> None:
        if triggered.agent_id == self.name:
            self.mark("stopped-by-breaker", reason=triggered.reason)

    # -- background duties ------------------------------------------------------------------------
    def _report_health(self) -> None:
        reported_failing = False
        while not self.stopping.wait(self.config.health_interval):
            failing = time.time() < self.degraded_until
            if failing and not reported_failing:
                self.mark("degraded")
            reported_failing = failing
            self.heartbeat += 1
            stats = self.consumer.stats
            self.producer.send(
                AgentHealthReported(
                    metadata=metadata(uuid.uuid4(), self.role),
                    agent_id=self.name,
                    role=ROLE_ENUM[self.role],
                    status=HealthStatus.FAILING if failing else HealthStatus.HEALTHY,
                    heartbeat_sequence=self.heartbeat,
                    window_seconds=max(1, int(self.config.health_interval)),
                    events_handled=stats.handled,
                    events_failed=sum(stats.dead_lettered.values()) + stats.retried,
                    consumer_lag=0,
                    p99_hop_latency_micros=0,
                    details={"halted": str(self.halted.is_set()).lower()},
                )
            )
            if not failing and self.degraded_until:
                self.degraded_until = 0.0
                self.mark("healthy")
            self._dump_stats()

    def _dump_stats(self) -> None:
        """This process's consumed-by-outcome counts per topic (from its metrics) and its consumer stats,
        in a file per pid (a restarted instance keeps its predecessor's figures)."""
        outcomes: dict[str, dict[str, float]] = {}
        for family in REGISTRY.collect():
            if family.name == "tradewire_events_consumed":
                for sample in family.samples:
                    if sample.name.endswith("_total") and sample.labels.get("group") == self.role:
                        topic = sample.labels["topic"].removeprefix(self.config.prefix)
                        outcomes.setdefault(topic, {})[sample.labels["outcome"]] = sample.value
        path = self.state_dir / f"stats-{os.getpid()}.json"
        temporary = path.with_suffix(".tmp")
        payload = {"agent": self.name, "outcomes": outcomes, "consumer": dataclasses.asdict(self.consumer.stats)}
        temporary.write_text(json.dumps(payload, sort_keys=True))
        os.replace(temporary, path)

    def degrade(self) -> None:
        """Report FAILING for the configured time (SIGUSR1; journaled by the health thread, since a
        signal handler must not wait for the journal's lock)."""
        self.degraded_until = time.time() + self.config.degrade_seconds

    def _wait_for(self, path: Path, timeout: float = 180.0) -> bool:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.stopping.wait(0.02) or time.monotonic() > deadline:
                return False
        return True

    def _emit_signals(self) -> None:
        config = self.config
        if not self._wait_for(config.warmup_file):
            return
        for index in range(config.warmup):
            self.producer.send(_signal(config, index, self.role, warmup=True))
            self.stopping.wait(0.05)
        self.producer.flush(60)
        self.mark("warmed-up", sent=config.warmup)
        if not self._wait_for(config.go_file):
            return
        self.mark("start")
        started = time.monotonic()
        paused = 0.0
        for index in range(config.events):
            if config.burst:
                due = started + paused + index // config.burst
            elif config.rate > 0:
                due = started + paused + index / config.rate
            else:
                due = 0.0
            delay = due - time.monotonic()
            if delay > 0:
                self.stopping.wait(delay)
            while True:  # the halt check and the send are one step against the breaker's handlers
                if self.stopping.is_set():
                    return
                with self.emission:
                    if not self.halted.is_set():
                        self.producer.send(_signal(config, index, self.role))
                        break
                halt_started = time.monotonic()
                self.stopping.wait(0.02)
                paused += time.monotonic() - halt_started
        self.producer.flush(60)
        self.mark("done", sent=config.events)

    # -- life cycle --------------------------------------------------------------------------
    def run(self) -> None:
        signal.signal(signal.SIGUSR1, lambda *_: self.degrade())
        signal.signal(signal.SIGTERM, lambda *_: self._stop())
        signal.signal(signal.SIGINT, lambda *_: self._stop())
        health = threading.Thread(target=self._report_health, name="health", daemon=True)
        health.start()
        emitter = None
        if self.role == "market-analysis":
            emitter = threading.Thread(target=self._emit_signals, name="signals", daemon=True)
            emitter.start()
        self.mark("running", pid=os.getpid(), metrics_port=self.metrics_port)
        try:
            self.consumer.run(install_signal_handlers=False)
        finally:
            self.stopping.set()
            if emitter is not None:
                emitter.join(10)
            health.join(5)
            self.producer.close(30)
            self._dump_stats()
            self.mark("stopped")

    def _stop(self) -> None:
        self.stopping.set()
        self.consumer.stop()


def main(argv: list[str] | None = None) -> int:
    """Run one agent until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tradewire.harness.agent", description=__doc__.split("\n")[0])
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--config", required=True, type=Path, help="the run's config.json")
    parser.add_argument("--instance", type=int, default=1)
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port (0: any free one)"
    )
    options = parser.parse_args(argv)
    config = RunConfig.load(options.config)
    configure_logging(f"{options.role}-{options.instance}")
    port = None
    if options.metrics_port is not None:
        port = serve_metrics(options.metrics_port, agent=options.role, role=options.role)
    Agent(options.role, options.instance, config, metrics_port=port).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
