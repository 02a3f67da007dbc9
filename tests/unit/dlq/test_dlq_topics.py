"""Specification of DLQ and replay topic names: one per source topic and group, reversible."""

from __future__ import annotations

import pytest

from tradewire.dlq import AUDIT_TOPIC, dlq_topic, is_dlq_topic, is_replay_topic, replay_topic, safe, source_of


def test_topic_names_join_source_topic_marker_and_group() -> None:
    """The DLQ topic is TOPIC.dlq.GROUP and the replay topic TOPIC.replay.GROUP."""
    assert ("trading.signals.generated.dlq.risk", "trading.signals.generated.replay.risk") == (
        dlq_topic("trading.signals.generated", "risk"),
        replay_topic("trading.signals.generated", "risk"),
    )


def test_safe_keeps_topic_characters_and_replaces_the_rest() -> None:
    """Letters, digits, dot, underscore and hyphen are kept; anything else becomes an underscore."""
    assert "risk-agent_v2.eu____x_" == safe("risk-agent_v2.eu/ é:x*")


def test_group_with_unsafe_characters_gives_a_valid_topic_name() -> None:
    """A group name with spaces and slashes still gives a legal topic name."""
    assert "orders.dlq.team_a_execution" == dlq_topic("orders", "team a/execution")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("trading.signals.generated.dlq.risk", ("trading.signals.generated", "risk")),
        ("trading.signals.generated.replay.risk", ("trading.signals.generated", "risk")),
        ("t1.trading.signals.generated.dlq.team_a", ("t1.trading.signals.generated", "team_a")),
        ("odd.dlq.topic.replay.g", ("odd.dlq.topic", "g")),
    ],
)
def test_source_of_reverses_the_naming(name: str, expected: tuple[str, str]) -> None:
    """`source_of` gives back the source topic and the safe group; the last marker wins."""
    assert expected == source_of(name)


@pytest.mark.parametrize("name", ["trading.signals.generated", ".dlq.g", "topic.dlq.", "dlq"])
def test_source_of_refuses_other_names(name: str) -> None:
    """A name that is not TOPIC.dlq.GROUP or TOPIC.replay.GROUP raises ValueError saying so."""
    with pytest.raises(ValueError, match=r"is neither a DLQ topic \(TOPIC\.dlq\.GROUP\) nor a replay topic"):
        source_of(name)


def test_kinds_of_topic_are_told_apart() -> None:
    """DLQ topics, replay topics, the audit topic and source topics are classified correctly."""
    names = ["a.dlq.g", "a.replay.g", AUDIT_TOPIC, "a.b", "a.dlq.x.replay.g"]
    assert ([True, False, False, False, False], [False, True, False, False, True]) == (
        [is_dlq_topic(name) for name in names],
        [is_replay_topic(name) for name in names],
    )
