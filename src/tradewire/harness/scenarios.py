"""The harness's scenarios: a workload and the faults injected into it.

A fault fires when a share of the signals has been acknowledged (`at`), so it lands in the
middle of the traffic whatever the machine's speed; a fault with a `duration` is undone that
many seconds later (the killed agent or broker restarted, the registry started again).

Recovery targets sit beside the figures they judge: a fault's `gap_target_seconds` bounds the
delivery gap it causes (see `tradewire.harness.recovery`), a scenario's
`chain_p99_target_seconds` bounds its signal-to-execution p99. Like the latency SLOs they are
shown as met or missed; the verdict stays the ledger's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SCENARIOS", "Fault", "Scenario", "chaos_marks"]


@dataclass(frozen=True)
class Fault:
    """One thing done to the running system."""

    at: float
    """Share of the signals acknowledged when it fires (0..1)."""
    action: str
    """kill-agent, start-agent, kill-broker, kill-leader, stop-registry, degrade-agent or inject-poison."""
    target: str = ""
    duration: float = 0.0
    """Seconds until it is undone (0: never, or nothing to undo)."""
    gap_target_seconds: float | None = None
    """The longest delivery gap this fault may cause on the hops it affects (None: no target)."""


@dataclass(frozen=True)
class Scenario:
    """A named workload with its faults and what it must show."""

    name: str
    description: str
    events: int = 1000
    rate: float = 200.0
    burst: int = 0
    brokers: int = 1
    partitions: int = 3
    chaos: bool = False
    """Mark signals so that risk's handler fails them (once, always, non-retryably), then replay the DLQ."""
    slow_ms: dict[str, float] = field(default_factory=dict)
    faults: tuple[Fault, ...] = ()
    chain_p99_target_seconds: float | None = None
    """The signal-to-execution p99 the run must stay under despite its faults (None: no target)."""


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("steady", "a steady stream of signals through the whole pipeline", events=600, rate=50),
        Scenario("burst", "bursts of 250 signals at once, one burst a second", events=1000, burst=250),
        Scenario(
            "poison",
            "corrupt bytes, an unknown schema id, a truncated payload and a wrong type on the signals topic, and "
            "signals risk fails once, always or non-retryably; the dead letters are then replayed",
            events=400,
            rate=50,
            chaos=True,
            faults=(Fault(0.5, "inject-poison", "trading.signals.generated"),),
        ),
        Scenario(
            "slow-consumer",
            "risk is slower than the signal rate, and a second risk instance joins under load (a rebalance)",
            events=600,
            rate=50,
            slow_ms={"risk": 25.0},
            faults=(Fault(0.35, "start-agent", "risk"),),
        ),
        Scenario(
            "consumer-crash",
            "risk is SIGKILLed mid-run and restarted a second later",
            events=600,
            rate=50,
            faults=(Fault(0.4, "kill-agent", "risk", duration=1.0, gap_target_seconds=2.0),),
        ),
        Scenario(
            "broker-restart",
            "the broker is SIGKILLed mid-run and restarted",
            events=500,
            rate=50,
            faults=(Fault(0.4, "kill-broker", "", duration=2.0),),
            chain_p99_target_seconds=10.0,
        ),
        Scenario(
            "broker-failover",
            "three brokers (replication 3, min.insync 2); the leader of the signals' partition 0 is SIGKILLed",
            events=500,
            rate=50,
            brokers=3,
            faults=(Fault(0.4, "kill-leader", "trading.signals.generated"),),
        ),
        Scenario(
            "registry-outage",
            "the schema registry stops mid-run and comes back three seconds later",
            events=500,
            rate=50,
            faults=(Fault(0.3, "stop-registry", "", duration=3.0),),
        ),
        Scenario(
            "breaker",
            "execution reports FAILING: the circuit breaker halts the pipeline, then resets it and signals resume",
            events=500,
            rate=50,
            faults=(Fault(0.3, "degrade-agent", "execution"),),
        ),
    )
}


def chaos_marks(events: int) -> dict[str, str]:
    """Which signals risk fails (index -> transient | reject | exhaust): a few of each, spread out."""
    if events < 8:
        return {}
    marks: dict[int, str] = {}
    if events < 250:
        marks = {events // 4: "transient", events // 2: "reject", 3 * events // 4: "exhaust"}
    else:
        for block in range(events // 250):
            base = block * 250
            marks.update({base + 60: "transient", base + 120: "reject", base + 180: "exhaust"})
    return {str(index): how for index, how in sorted(marks.items())}
