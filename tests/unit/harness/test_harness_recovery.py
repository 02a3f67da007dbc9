"""Specification of the delivery gap: the longest stretch, around a fault, in which an event waited on
a hop and none was delivered; and of the recovery targets judged beside it."""

from __future__ import annotations

import pytest

from tradewire.harness.config import PIPELINE
from tradewire.harness.ledger import Observations
from tradewire.harness.recovery import HEALTH, Gap, Target, affected_hops, delivery_gap, fault_gaps, gap_target

SIGNALS = ("trading.signals.generated", "risk")


def steady(start: float, end: float, every: float = 0.02, latency: float = 0.005) -> list[tuple[float, float]]:
    """(delivered at, produced at) of a stream produced every `every` seconds from `start` up to `end`."""
    count = round((end - start) / every)
    return [(start + index * every + latency, start + index * every) for index in range(count)]


def test_a_consumer_down_for_a_while_leaves_a_gap_from_its_last_delivery_to_its_first_after() -> None:
    """Deliveries every 20 ms stop at the kill (t=2.01) and resume at 3.5: the gap runs from the last
    delivery before it (1.985), or from when the next event was produced (2.0) if that came later."""
    deliveries = [*steady(0.0, 2.0), (3.5, 2.0), *steady(3.52, 5.0)]

    gap = delivery_gap(deliveries, fault_at=2.01, window_end=6.0)

    assert gap is not None
    assert (2.0, 3.5, True) == (pytest.approx(gap.start), gap.end, gap.recovered)
    assert pytest.approx(1.5) == gap.seconds


def test_a_stretch_in_which_nothing_was_waiting_is_not_a_gap() -> None:
    """Nothing produced between 1.0 and 4.99: the 4 s without deliveries is idle time, not a gap."""
    deliveries = [(0.5, 0.49), (1.0, 0.99), (5.0, 4.99), (5.02, 5.01)]

    gap = delivery_gap(deliveries, fault_at=2.0, window_end=10.0)

    assert gap is not None
    assert pytest.approx((4.99, 5.0)) == (gap.start, gap.end)


def test_deliveries_that_go_on_briefly_after_the_fault_do_not_hide_the_stall_that_follows() -> None:
    """Records fetched before a broker dies are still handled for a moment; the gap is the stall after them."""
    deliveries = [*steady(0.0, 2.1), (6.0, 2.09), *steady(6.02, 7.0)]

    gap = delivery_gap(deliveries, fault_at=2.0, window_end=8.0)

    assert gap is not None
    assert pytest.approx((2.09, 6.0)) == (gap.start, gap.end)


def test_without_a_delivery_before_the_fault_the_gap_starts_when_the_first_event_was_produced() -> None:
    """A hop that had delivered nothing yet waits from the earliest produced_at of what it delivers later."""
    gap = delivery_gap([(4.0, 1.5), (4.1, 3.0)], fault_at=1.0, window_end=9.0)

    assert Gap(1.5, 4.0, True) == gap


def test_a_stretch_still_open_at_the_end_of_the_window_ends_there_not_recovered() -> None:
    """The next fault (or the run's end) closes the window: a stall across it counts up to there only."""
    deliveries = [*steady(0.0, 2.0), (9.0, 2.0)]

    gap = delivery_gap(deliveries, fault_at=2.0, window_end=5.0)

    assert gap is not None
    assert (2.0, 5.0, False) == (pytest.approx(gap.start), gap.end, gap.recovered)


def test_an_event_never_delivered_after_the_last_delivery_keeps_the_gap_open_to_the_window_s_end() -> None:
    """An event produced after the last delivery and never delivered is a stall to the end; one produced
    before the last delivery was dead-lettered, not waiting."""
    deliveries = steady(0.0, 2.0)

    stuck = delivery_gap(deliveries, fault_at=2.0, window_end=7.0, undelivered=[2.5])
    dead_lettered = delivery_gap(deliveries, fault_at=2.0, window_end=7.0, undelivered=[1.0])

    assert Gap(2.5, 7.0, False) == stuck
    assert dead_lettered is None


def test_a_hop_with_nothing_waiting_after_the_fault_has_no_gap() -> None:
    """No delivery after the fault and nothing undelivered: no figure at all."""
    assert delivery_gap(steady(0.0, 2.0), fault_at=2.5, window_end=5.0) is None
    assert delivery_gap([], fault_at=2.5, window_end=5.0) is None


def test_fault_gaps_read_the_journal_lines_of_every_instance_of_the_group() -> None:
    """A killed instance's deliveries and its restarted successor's are one hop's deliveries; a hop with
    nothing waiting is left out."""
    observations = Observations()
    for index in range(10):
        at = 1.0 + index * 0.1
        event_id = f"s{index}"
        observations.add("market-analysis-1", {"k": "sent", "topic": SIGNALS[0], "id": event_id, "t": at, "p": at})
        handler = "risk-1" if at < 1.5 else "risk-1b"
        delivered = at + 0.01 if at < 1.5 else 3.0 + index * 0.01
        line = {"k": "handled", "topic": SIGNALS[0], "group": "risk", "id": event_id, "t": delivered, "hop": 0.01}
        observations.add(handler, line)

    gaps = fault_gaps(observations, [SIGNALS, ("risk.signal.assessed", "personality")], 1.45, 10.0)

    assert [SIGNALS] == list(gaps)
    assert pytest.approx((1.5, 3.05)) == (gaps[SIGNALS].start, gaps[SIGNALS].end)


@pytest.mark.parametrize(
    ("action", "target", "hops"),
    [
        pytest.param("kill-agent", "risk", [SIGNALS], id="a-killed-agent-its-own-hop"),
        pytest.param("start-agent", "execution", [("personality.variance.applied", "execution")], id="a-joining-one"),
        pytest.param("kill-agent", "circuit-breaker", [HEALTH], id="the-breaker-its-health-hop"),
        pytest.param("kill-broker", "", list(PIPELINE), id="the-broker-every-pipeline-hop"),
        pytest.param("kill-leader", "trading.signals.generated", list(PIPELINE), id="a-leader-every-pipeline-hop"),
        pytest.param("stop-registry", "", list(PIPELINE), id="the-registry-every-pipeline-hop"),
        pytest.param("inject-poison", "trading.signals.generated", [SIGNALS], id="poison-its-topic-s-hop"),
        pytest.param("degrade-agent", "execution", [], id="a-degraded-agent-none"),
    ],
)
def test_each_fault_acts_on_the_hops_it_can_stall(action: str, target: str, hops: list[tuple[str, str]]) -> None:
    """Which hops a fault's delivery gap is measured on."""
    assert hops == affected_hops(action, target)


def test_a_gap_target_is_met_up_to_and_including_its_limit() -> None:
    """`delivery gap <= 2 s`: the longest gap over the fault's hops counts; exactly 2 s passes."""
    gaps = {SIGNALS: Gap(1.0, 3.0, True), ("x", "y"): Gap(1.0, 2.0, True)}

    met = gap_target("kill risk-1", gaps, 2.0)
    missed = gap_target("kill risk-1", {SIGNALS: Gap(1.0, 3.5, True)}, 2.0)

    assert {
        "name": "delivery gap after kill risk-1",
        "measured_seconds": 2.0,
        "limit_seconds": 2.0,
        "comparison": "<=",
        "ok": True,
    } == met.as_json()
    assert missed.ok is False


def test_a_latency_target_must_be_strictly_under_and_has_no_verdict_without_a_figure() -> None:
    """`p99 < 10 s`: exactly 10 s misses; no samples, no verdict."""
    assert Target("p99", 10.0, 10.0, "<").ok is False
    assert Target("p99", 9.99, 10.0, "<").ok is True
    assert Target("p99", None, 10.0, "<").ok is None
