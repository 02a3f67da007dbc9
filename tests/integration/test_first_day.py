"""A team's first day, as the README tells it: create the topics, push the contracts, run an agent of
one's own (examples/first_agent.py), break it, see the dead letter, fix it, replay — all as processes,
through the `tradewire` command and the example, against the session's real Kafka and registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from integration_support import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "first_agent.py"


def _run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def _summary(json_lines: str, topic: str) -> dict[str, Any]:
    """`topic`'s summary in the output of `dlq ls --format json` (one object per line)."""
    rows = [json.loads(line) for line in json_lines.splitlines() if line.strip()]
    return next(row for row in rows if row["topic"] == topic)


def test_first_day_topics_push_agent_break_it_and_replay(
    kafka_bootstrap: str, registry_url: str, tmp_path: Path, unique: str
) -> None:
    """topics apply and registry push make a fresh (prefixed) environment ready; the example agent
    assesses the signals it is sent, dead-letters the one its bug fails, and once run without the bug
    handles it from `dlq replay` — every event handled exactly once in the end."""
    prefix = f"day{unique}."
    env = {
        **os.environ,
        "TRADEWIRE_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TRADEWIRE_REGISTRY_URL": registry_url,
        "TRADEWIRE_TOPIC_PREFIX": prefix,
        "TRADEWIRE_STATE_DIR": str(tmp_path / "state"),
    }
    tradewire = [sys.executable, "-m", "tradewire"]
    agent = [sys.executable, str(EXAMPLE)]

    applied = _run([*tradewire, "topics", "apply"], env)
    pushed = _run([*tradewire, "registry", "push"], env)
    assert (0, 0) == (applied.returncode, pushed.returncode), applied.stderr + pushed.stderr

    sent = _run([*agent, "send", "--count", "3"], env)
    assert 0 == sent.returncode, sent.stderr
    sent_lines = [line for line in sent.stdout.splitlines() if line.startswith("sent ")]
    ids = {line.split()[1]: line.split()[2] for line in sent_lines}  # symbol -> event id
    assert ["BTC-USD", "ETH-USD", "SOL-USD"] == sorted(ids)

    # ETH-USD fails every attempt: retried after 1, 2, 4, 8 s (full jitter: 15 s at most), then dead-lettered.
    broken = _run([*agent, "run", "--seconds", "35", "--fail-on", "ETH-USD"], env)
    assert 0 == broken.returncode, broken.stderr
    assessed = sorted(line.split()[1] for line in broken.stdout.splitlines() if line.startswith("assessed "))
    assert (["BTC-USD", "SOL-USD"], "dead-lettered 1") == (assessed, broken.stdout.splitlines()[-1].split(", ")[-1])

    dlq = f"{prefix}trading.signals.generated.dlq.risk-example"
    listed = _run([*tradewire, "dlq", "ls", "--format", "json"], env)
    assert 0 == listed.returncode, listed.stderr
    row = _summary(listed.stdout, dlq)
    assert (1, 1, 0) == (row["by_reason"]["exhausted"], row["open"], row["replayed"])

    replayed = _run([*tradewire, "dlq", "replay", dlq, "--yes"], env)
    assert 0 == replayed.returncode, replayed.stderr

    fixed = _run([*agent, "run", "--seconds", "15"], env)
    assert 0 == fixed.returncode, fixed.stderr
    handled = [line.split()[1:3] for line in fixed.stdout.splitlines() if line.startswith("assessed ")]
    assert [["ETH-USD", f"{ids['ETH-USD']}:"]] == handled
    assert "(replayed)" in fixed.stdout

    after = _run([*tradewire, "dlq", "ls", "--format", "json"], env)
    row = _summary(after.stdout, dlq)
    assert (0, 1) == (row["open"], row["replayed"])
