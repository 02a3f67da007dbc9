"""Recovery figures of a harness run: the delivery gap each injected fault causes on the hops it
affects, and the scenario's recovery targets beside them.

The delivery gap of a fault on a hop (a topic and the group consuming it) is the longest stretch,
from the fault to the end of its window (the next injected fault, or the end of the run), during
which an event was waiting on that hop and none was delivered. It is read from the journals:

* a delivery is a handler finishing an event of the hop (a `handled` line of any instance of the
  group, a redelivered duplicate included): time `d`;
* an event waits from its `produced_at` (the sender's `sent` line, `p`), so a stretch in which
  nothing had been produced yet (the market halted, the run over) is not a gap.

For consecutive deliveries `d_prev < d_next` with `d_next` after the fault, the stretch runs from
`max(d_prev, earliest produced_at of the events delivered at d_next or later)` to `d_next`; the
last delivery at or before the fault is the first `d_prev`. A stretch still open at the window's
end (an event produced and not delivered by then) ends there and counts as not recovered.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradewire.harness.config import PIPELINE
from tradewire.harness.ledger import Observations

__all__ = [
    "HEALTH",
    "Gap",
    "Target",
    "affected_hops",
    "delivery_gap",
    "fault_gaps",
    "gap_target",
    "latency_target",
]

HEALTH = ("agent.health.reported", "circuit-breaker")
"""The health hop: the one the circuit breaker consumes."""


@dataclass(frozen=True, slots=True)
class Gap:
    """The longest stretch without deliveries while an event waited: `start` to `end` (run seconds)."""

    start: float
    end: float
    recovered: bool
    """False when the stretch was still open at the end of the fault's window."""

    @property
    def seconds(self) -> float:
        """How long the stretch lasted."""
        return self.end - self.start


def delivery_gap(
    deliveries: Iterable[tuple[float, float]],
    fault_at: float,
    window_end: float,
    *,
    undelivered: Iterable[float] = (),
) -> Gap | None:
    """The delivery gap after a fault at `fault_at` (see the module docstring), or None when nothing
    waited on the hop during the window.

    `deliveries` are (delivered at, produced at) pairs of the hop, in any order; `undelivered` are
    the produced_at of its events never delivered at all. One produced after the last delivery keeps
    the stretch open to the window's end (earlier ones were dead-lettered, not waiting).
    """
    ordered = sorted(deliveries)
    times = [delivered for delivered, _ in ordered]
    earliest_after: list[float] = [0.0] * len(ordered)
    running = float("inf")
    for index in range(len(ordered) - 1, -1, -1):
        running = min(running, ordered[index][1])
        earliest_after[index] = running
    first = bisect.bisect_right(times, fault_at)
    previous = times[first - 1] if first > 0 else None
    best: Gap | None = None
    for index in range(first, len(ordered)):
        delivered = times[index]
        waited = earliest_after[index]
        start = waited if previous is None else max(previous, waited)
        end, recovered = (delivered, True) if delivered <= window_end else (window_end, False)
        if end > start and (best is None or end - start > best.seconds):
            best = Gap(start, end, recovered)
        if delivered >= window_end:
            return best
        previous = delivered
    stuck = [produced for produced in undelivered if previous is None or produced > previous]
    if stuck and min(stuck) < window_end:
        start = min(stuck)
        if best is None or window_end - start > best.seconds:
            best = Gap(start, window_end, False)
    return best


def affected_hops(action: str, target: str) -> list[tuple[str, str]]:
    """The hops (topic, group) a fault acts on: the killed or joining agent's own hops, every pipeline
    hop for the broker and the registry, the poisoned topic's hop; none for a degraded agent (the
    breaker halts the market on purpose)."""
    if action in ("kill-agent", "start-agent"):
        hops = [(topic, group) for topic, group in PIPELINE if group == target]
        return hops + ([HEALTH] if target == HEALTH[1] else [])
    if action in ("kill-broker", "kill-leader", "stop-registry"):
        return list(PIPELINE)
    if action == "inject-poison":
        return [(topic, group) for topic, group in PIPELINE if topic == target]
    return []


def fault_gaps(
    observations: Observations, hops: Sequence[tuple[str, str]], fault_at: float, window_end: float
) -> dict[tuple[str, str], Gap]:
    """The delivery gap of each hop that had an event waiting during the window (absolute times)."""
    result: dict[tuple[str, str], Gap] = {}
    for topic, group in hops:
        produced = observations.produced.get(topic, {})
        handled = observations.deliveries.get((topic, group), [])
        deliveries = [(at, produced.get(event_id, at)) for at, event_id in handled]
        delivered = observations.handled.get((topic, group))
        never = [at for event_id, at in produced.items() if delivered is None or event_id not in delivered]
        gap = delivery_gap(deliveries, fault_at, window_end, undelivered=never)
        if gap is not None:
            result[(topic, group)] = gap
    return result


@dataclass(frozen=True, slots=True)
class Target:
    """A recovery target of a scenario, met or not: `measured_seconds` against `limit_seconds`."""

    name: str
    measured_seconds: float | None
    limit_seconds: float
    comparison: str
    """`<=` (at most) or `<` (under)."""

    @property
    def ok(self) -> bool | None:
        """Whether the figure meets the target (None without a figure)."""
        if self.measured_seconds is None:
            return None
        if self.comparison == "<=":
            return self.measured_seconds <= self.limit_seconds
        return self.measured_seconds < self.limit_seconds

    def as_json(self) -> dict[str, Any]:
        """The target as the report holds it."""
        return {
            "name": self.name,
            "measured_seconds": self.measured_seconds,
            "limit_seconds": self.limit_seconds,
            "comparison": self.comparison,
            "ok": self.ok,
        }


def gap_target(fault: str, gaps: Mapping[Any, Gap], limit_seconds: float) -> Target:
    """The target `delivery gap after <fault> <= limit`, measured as the longest gap over its hops."""
    longest = max((gap.seconds for gap in gaps.values()), default=None)
    return Target(f"delivery gap after {fault}", longest, limit_seconds, "<=")


def latency_target(name: str, stats: Mapping[str, Any], key: str, limit_seconds: float) -> Target:
    """The target `<name> < limit` on one figure (e.g. `p99_seconds`) of a latency statistic."""
    value = stats.get(key)
    measured = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return Target(name, measured, limit_seconds, "<")
