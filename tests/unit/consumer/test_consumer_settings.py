"""Specification of the recovery settings: static membership and its instance id, the session
timeout, the reconnect backoff of both clients and the dedup flush interval."""

from __future__ import annotations

import re
import socket

import pytest

from tradewire.errors import ConfigError
from tradewire.settings import ConsumerSettings, ProducerSettings


def test_a_consumer_is_a_static_member_named_after_its_agent_and_host_by_default() -> None:
    """Without an instance id the consumer's instance id is `<agent>.<host name>`."""
    config = ConsumerSettings(agent="risk", group="risk").librdkafka()

    assert f"risk.{socket.gethostname()}" == config["group.instance.id"]


def test_the_joined_instance_id_carries_a_digest_of_the_subscribed_topics() -> None:
    """The same topics in any order give the same group.instance.id; other topics another one (the broker
    would otherwise hand a restart with new handlers its old assignment)."""
    settings = ConsumerSettings(agent="risk", group="risk", instance_id="risk-1")

    same = settings.librdkafka(["b", "a"])["group.instance.id"]
    again = settings.librdkafka(["a", "b", "a"])["group.instance.id"]
    other = settings.librdkafka(["a", "b", "c"])["group.instance.id"]

    assert re.fullmatch(r"risk-1\.[0-9a-f]{8}", same)
    assert (same, True) == (again, other != same and other.startswith("risk-1."))


def test_characters_kafka_refuses_in_an_instance_id_are_replaced_in_the_derived_one() -> None:
    """An agent name with a space or a slash still gives a valid id: those characters become `_`."""
    instance = ConsumerSettings(agent="risk agent/1", group="risk").group_instance_id()

    assert f"risk_agent_1.{socket.gethostname()}" == instance


def test_the_instance_id_comes_from_the_environment_or_the_dotted_key() -> None:
    """TRADEWIRE_INSTANCE_ID sets it; an override `group.instance.id` wins over the environment."""
    environ = {"TRADEWIRE_INSTANCE_ID": "risk-pod-0"}

    from_environment = ConsumerSettings.from_env("risk", "risk", environ)
    overridden = ConsumerSettings.from_env("risk", "risk", environ, **{"group.instance.id": "risk-7"})

    assert ("risk-pod-0", "risk-7") == (
        from_environment.librdkafka()["group.instance.id"],
        overridden.librdkafka()["group.instance.id"],
    )


def test_a_dynamic_member_has_no_instance_id() -> None:
    """membership="dynamic" leaves group.instance.id out (a stopped member leaves the group at once)."""
    config = ConsumerSettings(agent="risk", group="risk", membership="dynamic", instance_id="ignored").librdkafka()

    assert "group.instance.id" not in config


def test_session_timeout_and_reconnect_backoff_reach_librdkafka() -> None:
    """Defaults: session 10 s with a 1 s heartbeat, reconnect backoff at most 1 s; both tunable by dotted key."""
    default = ConsumerSettings().librdkafka()
    tuned = ConsumerSettings.from_env(
        "risk", "risk", {}, **{"session.timeout.ms": 30_000, "reconnect.backoff.max.ms": 250}
    ).librdkafka()

    assert (10_000, 1_000, 1_000) == (
        default["session.timeout.ms"],
        default["heartbeat.interval.ms"],
        default["reconnect.backoff.max.ms"],
    )
    assert (30_000, 1_000, 250) == (
        tuned["session.timeout.ms"],
        tuned["heartbeat.interval.ms"],
        tuned["reconnect.backoff.max.ms"],
    )


def test_a_short_session_timeout_gets_a_heartbeat_a_third_as_long() -> None:
    """A session shorter than 3 s heartbeats three times within it."""
    assert 1_000 == ConsumerSettings(session_timeout_ms=3_000).librdkafka()["heartbeat.interval.ms"]
    assert 500 == ConsumerSettings(session_timeout_ms=1_500).librdkafka()["heartbeat.interval.ms"]


def test_the_producer_reconnects_at_most_a_second_apart_unless_told_otherwise() -> None:
    """The producer's reconnect.backoff.max.ms is 1 s by default and takes the dotted key."""
    default = ProducerSettings().librdkafka()
    tuned = ProducerSettings.from_env("market", {}, **{"reconnect.backoff.max.ms": 3_000}).librdkafka()

    assert (1_000, 3_000) == (default["reconnect.backoff.max.ms"], tuned["reconnect.backoff.max.ms"])


def test_the_dedup_flush_interval_is_a_setting_with_a_dotted_alias() -> None:
    """`dedup.flush.seconds` sets dedup_flush_seconds (50 ms by default); 0 is allowed."""
    assert 0.05 == ConsumerSettings().dedup_flush_seconds
    assert 0.0 == ConsumerSettings.from_env("risk", "risk", {}, **{"dedup.flush.seconds": 0.0}).dedup_flush_seconds


def test_librdkafka_keys_of_reconnects_and_retries_pass_through() -> None:
    """reconnect.* and retry.* keys without a field of their own go to librdkafka unchanged."""
    settings = ConsumerSettings.from_env("risk", "risk", {}, **{"reconnect.backoff.ms": 50, "retry.backoff.ms": 20})

    config = settings.librdkafka()

    assert (50, 20) == (config["reconnect.backoff.ms"], config["retry.backoff.ms"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"membership": "sticky"}, "membership must be 'static' or 'dynamic', not 'sticky'", id="membership"
        ),
        pytest.param(
            {"instance_id": ""},
            "instance_id '' must be 1 to 240 letters, digits, '.', '_' or '-' (None derives it from",
            id="empty-instance-id",
        ),
        pytest.param(
            {"instance_id": "risk@host"},
            "instance_id 'risk@host' must be 1 to 240 letters, digits, '.', '_' or '-'",
            id="instance-id-with-an-at-sign",
        ),
        pytest.param(
            {"session_timeout_ms": 0},
            "session_timeout_ms must be a positive whole number of milliseconds, not 0",
            id="session-timeout",
        ),
        pytest.param(
            {"reconnect_backoff_max_ms": 1.5},
            "reconnect_backoff_max_ms must be a positive whole number of milliseconds, not 1.5",
            id="reconnect-backoff",
        ),
        pytest.param(
            {"dedup_flush_seconds": -0.1}, "dedup_flush_seconds must be 0 or more, not -0.1", id="dedup-flush"
        ),
    ],
)
def test_invalid_recovery_settings_are_refused_with_the_reason(changes: dict[str, object], message: str) -> None:
    """Each bad value is a ConfigError that says what is wrong."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        ConsumerSettings(**changes)  # type: ignore[arg-type]


def test_an_unknown_key_lists_the_new_settings_among_the_allowed_ones() -> None:
    """The refusal of an unknown key names the dotted keys of the recovery settings too."""
    with pytest.raises(ConfigError) as raised:
        ConsumerSettings.from_env("risk", "risk", {}, **{"session.timeout": 1})

    for allowed in ("dedup.flush.seconds", "group.instance.id", "session.timeout.ms", "reconnect.backoff.max.ms"):
        assert allowed in str(raised.value)
