"""Specification of `tradewire topics` option errors: each is a usage error (exit 2) found before Kafka is asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewire.cli import main

UNREACHABLE = "127.0.0.1:9"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-X", "bootstrap.servers=elsewhere:9092"], "'bootstrap.servers' is not a client setting tradewire passes on"),
        (["-X", "sasl.mechanism"], "-X: expected KEY=VALUE, found 'sasl.mechanism'"),
        (["--topic-prefix", "my env."], "topic prefix 'my env.' may only hold letters, digits, '.', '_' and '-'"),
        (["--format", "xml"], "'xml' is not one of 'text', 'json'"),
        (["--timeout", "0"], "0 is not in the range x>=0.1"),
    ],
    ids=["not-a-client-setting", "no-value", "bad-prefix", "bad-format", "zero-timeout"],
)
def test_bad_options_are_usage_errors(
    repo_root: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    """Every verb refuses a bad option with exit 2 and says what is wrong, without contacting Kafka."""
    config = ["--config", str(repo_root / "tradewire.yaml")]
    for verb in ("plan", "apply", "drift"):
        capsys.readouterr()
        code = main([*config, "topics", verb, "--bootstrap-servers", UNREACHABLE, *options])
        assert (verb, 2, True) == (verb, code, message in capsys.readouterr().err)


def test_a_command_config_file_is_checked_line_by_line(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--command-config takes KEY=VALUE lines and # comments; a key tradewire does not pass on is named by line."""
    settings = tmp_path / "client.properties"
    settings.write_text("# SASL for the admin client\nsecurity.protocol=SASL_SSL\n\ngroup.id=nope\n", encoding="utf-8")
    code = main(
        ["--config", str(repo_root / "tradewire.yaml"), "topics", "plan", "--bootstrap-servers", UNREACHABLE,
         "--command-config", str(settings)]
    )  # fmt: skip
    assert (2, True) == (code, f"{settings}:4: 'group.id' is not a client setting" in capsys.readouterr().err)
