"""Specification of `tradewire dlq` without a broker: the group, usage errors (exit 2) and Kafka failures (exit 1)."""

from __future__ import annotations

import socket

import pytest

from tradewire.cli import main


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_group_lists_ls_show_and_replay(capsys: pytest.CaptureFixture[str]) -> None:
    """`tradewire dlq --help` describes the group and lists its three commands."""
    assert 0 == main(["dlq", "--help"])
    out = capsys.readouterr().out
    assert "Dead letters: list, show, replay." in out
    assert ["ls", "replay", "show"] == [word for word in ("ls", "replay", "show") if f"  {word} " in out]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--offsets", "9-3"], "Invalid value for '--offsets': offset range '9-3' is empty: 9 is after 3"),
        (
            ["--offsets", "x"],
            "Invalid value for '--offsets': offset range must be A-B or A (non-negative integers), not 'x'",
        ),
        (["--since", "yesterday"], "Invalid value for '--since': time must be ISO-8601 like 2026-03-01"),
        (
            ["--reason", "tired"],
            "Invalid value for '--reason': 'tired' is not one of 'poison', 'exhausted', 'non-retryable', 'too-large'.",
        ),
        (["--partition", "-1"], "Invalid value for '--partition': -1 is not in the range x>=0."),
        (
            ["--since", "2026-02-01", "--until", "2026-01-01"],
            "--since 2026-02-01T00:00:00+00:00 is after --until 2026-01-01T00:00:00+00:00: nothing can match",
        ),
    ],
)
@pytest.mark.parametrize("command", ["show", "replay"])
def test_bad_filter_is_a_usage_error(
    command: str, arguments: list[str], message: str, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed filter exits 2 naming the option and the expected syntax, before Kafka is contacted."""
    code = main(["dlq", command, "t.dlq.g", "--bootstrap-servers", f"127.0.0.1:{closed_port}", *arguments])
    err = " ".join(capsys.readouterr().err.split())
    assert (2, True) == (code, message in err), err


@pytest.mark.parametrize(
    "arguments",
    [["ls"], ["show", "t.dlq.g"], ["replay", "t.dlq.g", "--dry-run"]],
)
def test_unreachable_kafka_is_a_failure(
    arguments: list[str], closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """When nothing answers at the bootstrap address, each command exits 1 naming the address and the wait."""
    code = main(["dlq", *arguments, "--bootstrap-servers", f"127.0.0.1:{closed_port}", "--timeout", "1"])
    err = capsys.readouterr().err
    assert (1, True) == (code, f"error: Kafka at 127.0.0.1:{closed_port} did not answer within 1 s" in err), err


@pytest.mark.parametrize(
    ("topic", "what"),
    [
        ("trading.signals.generated", "not a dead-letter topic"),
        ("trading.signals.generated.replay.risk", "a replay topic (TOPIC.replay.GROUP)"),
        ("tradewire.dlq.audit", "not a dead-letter topic"),
    ],
)
@pytest.mark.parametrize("command", ["show", "replay"])
def test_a_topic_that_is_not_a_dlq_topic_is_refused_at_once(
    command: str, topic: str, what: str, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dlq show|replay` of a topic not named TOPIC.dlq.GROUP exits 2 with one line saying so, before Kafka is
    contacted (nothing listens at the bootstrap address here)."""
    code = main(["dlq", command, topic, "--bootstrap-servers", f"127.0.0.1:{closed_port}", "--timeout", "1"])
    err = " ".join(capsys.readouterr().err.split())
    expected = (
        f"Error: {topic} is {what}: `dlq show` and `dlq replay` take a DLQ topic, named TOPIC.dlq.GROUP "
        "(`tradewire dlq ls` lists them)"
    )
    assert (2, True) == (code, expected in err), err


def test_replay_help_names_the_flags_for_replaying_again() -> None:
    """`dlq replay --help` documents --skip-replayed and that --yes is needed to replay again without a terminal."""
    from click.testing import CliRunner

    from tradewire.cli.dlq import dlq

    out = " ".join(CliRunner().invoke(dlq, ["replay", "--help"]).output.split())
    assert ("--skip-replayed" in out, "required then when stdin is not a terminal" in out) == (True, True)
