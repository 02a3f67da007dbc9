"""A first agent of your own: a risk agent that assesses trading signals, and a way to send it some.

Run it against the dev stack (see the README's "Your first day"):

  .venv/bin/python examples/first_agent.py send --count 3              # three signals, as market analysis would
  .venv/bin/python examples/first_agent.py run --seconds 20            # assess them: one line per signal
  .venv/bin/python examples/first_agent.py run --fail-on ETH-USD       # a bug: ETH-USD always fails (-> DLQ)

Settings come from the environment like every tradewire agent's: TRADEWIRE_BOOTSTRAP_SERVERS,
TRADEWIRE_REGISTRY_URL, TRADEWIRE_TOPIC_PREFIX, TRADEWIRE_STATE_DIR, ...
"""

from __future__ import annotations

import argparse
import datetime
import sys
import uuid
from collections.abc import Sequence
from decimal import Decimal

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import (
    EventMetadata,
    RiskDecision,
    SignalDirection,
    SignalGenerated,
    SignalRiskAssessed,
)
from tradewire.logs import configure_logging
from tradewire.producer import Producer

SYMBOLS = ("BTC-USD", "ETH-USD", "SOL-USD")


def new_signal(symbol: str, price: Decimal) -> SignalGenerated:
    """A signal as the market-analysis agent emits it (the producer stamps time, agent and chain)."""
    now = datetime.datetime.now(datetime.UTC)
    return SignalGenerated(
        metadata=EventMetadata(
            event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), produced_at=now, source_agent="market-analysis"
        ),
        symbol=symbol,
        venue="example",
        direction=SignalDirection.LONG,
        strategy="first-day",
        model_version="1",
        confidence=Decimal("0.75"),
        reference_price=price,
        horizon_seconds=300,
        expires_at=now + datetime.timedelta(minutes=5),
    )


def send(count: int, symbols: Sequence[str]) -> int:
    """Send `count` signals, round robin over `symbols`, and wait until the broker acknowledged each."""
    producer = Producer.from_env("market-analysis-1")
    try:
        signals = [new_signal(symbols[index % len(symbols)], Decimal(50_000 + index)) for index in range(count)]
        deliveries = [producer.send(signal) for signal in signals]
        for signal, delivery in zip(signals, deliveries, strict=True):
            where = delivery.result(timeout=30)
            print(f"sent {signal.symbol} {signal.metadata.event_id} to {where.topic}[{where.partition}]")
    finally:
        producer.close()
    return 0


def run(seconds: float | None, fail_on: set[str]) -> int:
    """Assess signals until SIGTERM / Ctrl-C (or `seconds`), approving each; symbols in `fail_on` raise."""
    consumer = Consumer.from_env(agent="risk-example-1", group="risk-example")

    @consumer.handler(SignalGenerated)
    def assess(signal: SignalGenerated, ctx: MessageContext) -> None:
        if signal.symbol in fail_on:
            raise RuntimeError(f"no risk model for {signal.symbol} (the bug --fail-on simulates)")
        ctx.send(
            SignalRiskAssessed(
                metadata=EventMetadata(
                    # derived from the signal's id: if this handler runs twice (at-least-once), the
                    # assessment it sends has the same id both times and its consumers skip the second
                    event_id=uuid.uuid5(signal.metadata.event_id, "risk-assessment"),
                    correlation_id=signal.metadata.correlation_id,
                    produced_at=datetime.datetime.now(datetime.UTC),
                    source_agent="risk",
                ),
                symbol=signal.symbol,
                signal_id=signal.metadata.event_id,
                decision=RiskDecision.APPROVED,
                approved_quantity=Decimal("0.5"),
                max_notional=Decimal("25000"),
                risk_score=Decimal("0.2"),
                valid_until=signal.expires_at,
            )
        )
        replayed = " (replayed)" if ctx.replayed else ""
        print(f"assessed {signal.symbol} {signal.metadata.event_id}: APPROVED{replayed}", flush=True)

    stats = consumer.run(max_seconds=seconds)
    print(
        f"received {stats.received}, handled {stats.handled}, duplicates {stats.duplicates}, "
        f"retried {stats.retried}, dead-lettered {sum(stats.dead_lettered.values())}",
        flush=True,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line of the example."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sending = commands.add_parser("send", help="send signals")
    sending.add_argument("--count", type=int, default=3)
    sending.add_argument("--symbol", action="append", help="symbols to use (default: BTC-USD, ETH-USD, SOL-USD)")
    running = commands.add_parser("run", help="run the risk agent")
    running.add_argument("--seconds", type=float, default=None, help="stop after this long (default: on SIGTERM)")
    running.add_argument("--fail-on", action="append", default=[], metavar="SYMBOL", help="fail signals of SYMBOL")
    args = parser.parse_args(argv)
    configure_logging("risk-example-1" if args.command == "run" else "market-analysis-1")
    if args.command == "send":
        return send(args.count, args.symbol or SYMBOLS)
    return run(args.seconds, set(args.fail_on))


if __name__ == "__main__":
    sys.exit(main())
