"""Every harness scenario, in a shorter form, against real Kafka and the dev registry the harness starts.

The harness brings up its own stacks (it kills and restarts brokers and the registry), one per
broker count, shared by the scenarios of this module. Each scenario must pass its ledger check:
nothing lost, every dead letter one the scenario injected, and the faults really happened.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from integration_support import REPO_ROOT

from tradewire.harness.run import Harness, HarnessOptions
from tradewire.harness.scenarios import Fault, Scenario

EVENTS = 150
TOTALS = ("sent", "delivered", "duplicates_suppressed", "dead_lettered", "lost", "latency")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    options = HarnessOptions(
        scenarios=(), report_dir=tmp_path_factory.mktemp("harness"), project=REPO_ROOT, events=EVENTS, timeout=120
    )
    with Harness(options) as running:
        yield running


def passed(report: dict[str, Any]) -> dict[str, Any]:
    """The report, after checking what every scenario must show."""
    assert [] == report["failures"]
    assert report["passed"]
    assert 0 == report["lost"]
    assert all(name in report for name in TOTALS)
    signals = report["hops"][0]
    assert ("trading.signals.generated", "risk") == (signals["topic"], signals["group"])
    assert signals["sent"] >= EVENTS  # plus the warm-up
    assert signals["delivered"] + signals["dead_lettered"] - signals["replayed"] >= signals["sent"]
    executions = next(row for row in report["hops"] if row["group"] == "execution")
    orders = report["latency"]["signal_to_execution"]["count"]
    assert EVENTS + executions["duplicates_delivered"] == orders + _not_executed(report)
    on_disk = json.loads(Path(report["paths"]["json"]).read_text())
    assert report["sent"] == on_disk["sent"]
    assert "<svg" in Path(report["paths"]["html"]).read_text()
    return report


def _not_executed(report: dict[str, Any]) -> int:
    """Signals that never became an order: dead-lettered (not replayed) or rejected during a halt."""
    signals = report["hops"][0]
    return (
        int(signals["dead_lettered_by_reason"].get("non-retryable", 0))
        + int(signals["dead_lettered_by_reason"].get("exhausted", 0))
        - int(signals["replayed"])
        + report.get("rejected_orders", 0)
    )


def unitless(value: object, key: str = "") -> list[str]:
    """Keys of non-integer numbers in a report that do not say they are seconds (the rate is no duration)."""
    if isinstance(value, dict):
        return [name for child, item in value.items() for name in unitless(item, child)]
    if isinstance(value, list):
        return [name for item in value for name in unitless(item, key)]
    if isinstance(value, float) and not key.endswith("_seconds") and key != "rate":
        return [key]
    return []


def kinds(report: dict[str, Any]) -> list[str]:
    return [fault["kind"] for fault in report["timeline"]["faults"]]


def test_steady_delivers_every_event_at_every_hop(harness: Harness) -> None:
    report = passed(harness.run("steady"))

    assert 0 == report["dead_lettered"]
    assert all(row["sent"] == row["delivered"] for row in report["hops"])


def test_burst_delivers_every_event(harness: Harness) -> None:
    passed(harness.run("burst"))


def test_poison_dead_letters_exactly_what_was_injected_and_replays_the_handler_failures(harness: Harness) -> None:
    report = passed(harness.run("poison"))

    assert {"exhausted": 1, "non-retryable": 1, "poison": 8} == report["expected_dead_letters"]
    assert report["expected_dead_letters"] == report["dead_lettered_by_reason"]
    assert 2 == report["replayed"]
    assert report["retried"] >= 1 + 4  # the transient failure once, the exhausted one four times
    assert {"poison", "replay"} <= set(kinds(report))


def test_slow_consumer_survives_a_rebalance_under_load(harness: Harness) -> None:
    report = passed(harness.run("slow-consumer"))

    assert "join" in kinds(report)


def test_consumer_crash_loses_nothing_and_dedup_drops_the_redelivered(harness: Harness) -> None:
    report = passed(harness.run("consumer-crash"))

    assert ["kill", "restart"] == [kind for kind in kinds(report) if kind in ("kill", "restart")]
    gaps = report["recovery"]["gaps"]
    assert [("kill risk-1", "trading.signals.generated -> risk", True, 2.0)] == [
        (gap["fault"], gap["hop"], gap["recovered"], gap["target_seconds"]) for gap in gaps
    ]
    assert gaps[0]["gap_seconds"] > 0
    assert pytest.approx(gaps[0]["to_seconds"] - gaps[0]["from_seconds"], abs=0.002) == gaps[0]["gap_seconds"]
    (target,) = report["recovery"]["targets"]
    assert ("delivery gap after kill risk-1", gaps[0]["gap_seconds"], target["measured_seconds"] <= 2.0) == (
        target["name"],
        round(target["measured_seconds"], 3),
        target["ok"],
    )
    assert [] == unitless(json.loads(Path(report["paths"]["json"]).read_text()))


def test_breaker_halts_the_pipeline_and_it_resumes(harness: Harness) -> None:
    report = passed(harness.run("breaker"))

    assert {"degrade", "trip", "halt", "reset", "resume"} <= set(kinds(report))


def test_registry_outage_loses_nothing(harness: Harness) -> None:
    report = passed(harness.run("registry-outage"))

    assert {"stop", "restart"} <= set(kinds(report))


def test_broker_restart_loses_nothing(harness: Harness) -> None:
    report = passed(harness.run("broker-restart"))

    assert {"kill", "restart"} <= set(kinds(report))
    gaps = report["recovery"]["gaps"]
    assert {"trading.signals.generated -> risk"} <= {gap["hop"] for gap in gaps}
    assert all(gap["fault"] == "kill broker" and gap["recovered"] for gap in gaps)
    (target,) = report["recovery"]["targets"]
    p99 = report["latency"]["signal_to_execution"]["p99_seconds"]
    assert ("signal -> execution p99", p99, p99 < 10.0) == (target["name"], target["measured_seconds"], target["ok"])


def test_broker_failover_loses_nothing_when_the_leader_dies(harness: Harness) -> None:
    report = passed(harness.run("broker-failover"))

    assert 3 == report["brokers"]
    assert "kill" in kinds(report)


def test_an_agent_that_never_comes_back_fails_the_ledger(harness: Harness) -> None:
    """The check can fail: personality is killed and not restarted, so assessments are lost."""
    lossy = Scenario(
        "lossy", "personality dies for good", events=EVENTS, rate=50, faults=(Fault(0.3, "kill-agent", "personality"),)
    )
    patient = harness.options
    harness.options = dataclasses.replace(patient, timeout=15.0)
    try:
        report = harness.run(lossy)
    finally:
        harness.options = patient

    assert not report["passed"]
    assert report["lost"] > 0
    assert any("lost" in failure for failure in report["failures"])
    assert any("did not settle" in failure for failure in report["failures"])
    assert [("kill personality-1", "risk.signal.assessed -> personality", False)] == [
        (gap["fault"], gap["hop"], gap["recovered"]) for gap in report["recovery"]["gaps"]
    ]


def test_the_command_line_prints_the_ledger_and_where_the_report_is(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tradewire", "harness", "run", "--scenario", "steady", "--events", "60",
         "--report", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, check=False,
    )  # fmt: skip

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    assert "trading.signals.generated" in completed.stdout
    assert str(tmp_path / "steady" / "report.html") in completed.stdout.replace("\n", "")
    report = json.loads((tmp_path / "steady" / "report.json").read_text())
    assert (report["sent"], 0) == (report["delivered"], report["lost"])
