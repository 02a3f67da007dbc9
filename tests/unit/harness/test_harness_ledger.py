"""The harness ledger: losses, dead letters the scenario did not inject, and results never forwarded are failures."""

from __future__ import annotations

import uuid

from tradewire.harness.config import derived_id
from tradewire.harness.ledger import DeadLetterEntry, Expected, Observations, build_ledger, unforwarded

SIGNALS = "trading.signals.generated"
ASSESSED = "risk.signal.assessed"
HEALTH = "agent.health.reported"
HOPS = [(SIGNALS, "market-analysis", "risk"), (ASSESSED, "risk", "personality"), (HEALTH, "every agent", "breaker")]


def ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=index + 1)) for index in range(count)]


def sent(observations: Observations, topic: str, event_id: str, at: float = 1.0) -> None:
    observations.add("x-1", {"k": "sent", "topic": topic, "id": event_id, "t": at})


def handled(
    observations: Observations, topic: str, group: str, event_id: str, *, attempt: int = 1, replayed: bool = False
) -> None:
    line = {"k": "handled", "topic": topic, "group": group, "id": event_id, "t": 2.0, "hop": 0.002}
    observations.add("x-1", {**line, "attempt": attempt, "replayed": replayed})


def forwarded(observations: Observations, event_id: str) -> None:
    """Risk handled the signal and its assessment was acknowledged and delivered."""
    handled(observations, SIGNALS, "risk", event_id)
    assessment = str(derived_id(uuid.UUID(event_id), "assessed"))
    sent(observations, ASSESSED, assessment)
    handled(observations, ASSESSED, "personality", assessment)
    sent(observations, "personality.variance.applied", str(derived_id(uuid.UUID(assessment), "variance")))


def ledger(
    observations: Observations,
    letters: dict[tuple[str, str], list[DeadLetterEntry]] | None = None,
    expected: Expected | None = None,
    **kwargs: object,
) -> tuple[list[dict[str, object]], dict[str, object], list[str]]:
    outcomes = {(SIGNALS, "risk"): {"duplicate": 3.0, "retried": 2.0}}
    return build_ledger(observations, HOPS, letters or {}, expected or Expected(), outcomes, **kwargs)  # type: ignore[arg-type]


def test_a_run_where_everything_arrives_has_no_failures_and_sums_its_hops() -> None:
    observations = Observations()
    for event_id in ids(5):
        sent(observations, SIGNALS, event_id)
        forwarded(observations, event_id)

    rows, totals, failures = ledger(observations)

    assert [] == failures
    signals, assessed, health = rows
    assert (5, 5, 0) == (signals["sent"], signals["delivered"], signals["lost"])
    assert (5, 5, 0) == (assessed["sent"], assessed["delivered"], assessed["lost"])
    assert (3, 2) == (signals["duplicates_suppressed"], signals["retried"])
    assert 0 == health["sent"]
    assert (10, 10, 0, 3, 2) == tuple(
        totals[name] for name in ("sent", "delivered", "lost", "duplicates_suppressed", "retried")
    )


def test_an_event_sent_but_never_delivered_nor_dead_lettered_is_lost_and_named() -> None:
    observations = Observations()
    first, second = ids(2)
    for event_id in (first, second):
        sent(observations, SIGNALS, event_id)
    forwarded(observations, first)

    rows, totals, failures = ledger(observations)

    assert 1 == rows[0]["lost"] == totals["lost"]
    assert [f"hop {SIGNALS} -> risk: 1 event(s) lost (e.g. {second})"] == failures


def test_a_handled_event_whose_result_was_never_acknowledged_is_a_failure() -> None:
    observations = Observations()
    (event_id,) = ids(1)
    sent(observations, SIGNALS, event_id)
    handled(observations, SIGNALS, "risk", event_id)  # risk finished, but its assessment never got an ack

    assert {(SIGNALS, "risk"): {event_id}} == unforwarded(observations)
    _, _, failures = ledger(observations)
    assert [f"hop {SIGNALS} -> risk: 1 event(s) handled whose result was never acknowledged (e.g. {event_id})"] == (
        failures
    )


def test_injected_poison_and_marked_failures_in_the_dlq_are_expected() -> None:
    observations = Observations()
    good, rejected, exhausted = ids(3)
    for event_id in (good, rejected, exhausted):
        sent(observations, SIGNALS, event_id)
    forwarded(observations, good)
    expected = Expected()
    expected.poison[(SIGNALS, "risk")] = {"bad-magic-0", "truncated-0"}
    expected.failing[(SIGNALS, "risk")] = {rejected: "non-retryable", exhausted: "exhausted"}
    letters = {
        (SIGNALS, "risk"): [
            DeadLetterEntry(None, "poison", "bad-magic-0"),
            DeadLetterEntry(str(uuid.uuid4()), "poison", "truncated-0"),
            DeadLetterEntry(rejected, "non-retryable"),
            DeadLetterEntry(exhausted, "exhausted"),
        ]
    }

    rows, totals, failures = ledger(observations, letters, expected)

    assert [] == failures
    assert 0 == rows[0]["lost"]
    assert {"exhausted": 1, "non-retryable": 1, "poison": 2} == rows[0]["dead_lettered_by_reason"]
    assert totals["dead_lettered_by_reason"] == totals["expected_dead_letters"]


def test_a_dead_letter_the_scenario_did_not_inject_and_a_missing_one_are_both_failures() -> None:
    observations = Observations()
    marked, stray = ids(2)
    sent(observations, SIGNALS, marked)
    sent(observations, SIGNALS, stray)
    expected = Expected()
    expected.poison[(SIGNALS, "risk")] = {"wrong-type-0"}
    expected.failing[(SIGNALS, "risk")] = {marked: "non-retryable"}
    letters = {
        (SIGNALS, "risk"): [
            DeadLetterEntry(marked, "exhausted"),  # the wrong reason
            DeadLetterEntry(stray, "exhausted"),
            DeadLetterEntry(None, "poison", "bad-magic-9"),  # not one the harness wrote
        ]
    }

    _, _, failures = ledger(observations, letters, expected)

    hop = f"hop {SIGNALS} -> risk"
    assert [
        f"{hop}: unexpected dead letter {marked} (exhausted)",
        f"{hop}: unexpected dead letter {stray} (exhausted)",
        f"{hop}: unexpected dead letter bad-magic-9 (poison)",
        f"{hop}: injected poison record wrong-type-0 never reached the DLQ",
        f"{hop}: marked event {marked} should be dead-lettered (non-retryable) but is not",
    ] == failures


def test_heartbeats_sent_after_the_agents_began_to_stop_are_not_losses() -> None:
    observations = Observations()
    before, after = ids(2)
    sent(observations, HEALTH, before, at=10.0)
    sent(observations, HEALTH, after, at=20.0)
    handled(observations, HEALTH, "breaker", before)

    rows, _, failures = ledger(observations, sent_before={HEALTH: 15.0})

    assert [] == failures
    assert (1, 1, 0) == (rows[2]["sent"], rows[2]["delivered"], rows[2]["lost"])
    _, _, unbounded = ledger(observations)
    assert [f"hop {HEALTH} -> breaker: 1 event(s) lost (e.g. {after})"] == unbounded


def test_redeliveries_replays_and_retries_are_counted_but_kept_out_of_the_latency_samples() -> None:
    observations = Observations()
    once, twice, retried, replayed = ids(4)
    for event_id in (once, twice, retried, replayed):
        sent(observations, SIGNALS, event_id)
    forwarded(observations, once)
    forwarded(observations, twice)
    handled(observations, SIGNALS, "risk", twice)  # delivered twice (at-least-once)
    handled(observations, SIGNALS, "risk", retried, attempt=3)
    handled(observations, SIGNALS, "risk", replayed, replayed=True)

    rows, totals, _ = ledger(observations)

    assert (1, 1) == (rows[0]["duplicates_delivered"], totals["duplicates_delivered"])
    assert (4, 0, 1) == (rows[0]["delivered"], rows[0]["lost"], rows[0]["replayed"])
    assert 3 == len(observations.hop_samples[(SIGNALS, "risk")])  # two first attempts and the redelivery


def test_journal_marks_are_kept_with_their_source() -> None:
    observations = Observations()
    observations.add("market-analysis-1", {"k": "mark", "what": "halt", "t": 5.0})

    assert [{"k": "mark", "what": "halt", "t": 5.0, "source": "market-analysis-1"}] == observations.marked("halt")
    assert [] == observations.marked("resume")
