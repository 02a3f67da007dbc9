"""Scenarios, journals and the `tradewire harness` command line, without a broker."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tradewire.cli import main
from tradewire.devstack.stack import DevStack
from tradewire.errors import DevStackError
from tradewire.harness.config import PIPELINE, ROLES, RunConfig
from tradewire.harness.journal import Journal, read_journals
from tradewire.harness.processes import OwnStacks
from tradewire.harness.run import HarnessError, HarnessOptions, run_scenarios
from tradewire.harness.scenarios import SCENARIOS, chaos_marks

ACTIONS = {"kill-agent", "start-agent", "kill-broker", "kill-leader", "stop-registry", "degrade-agent", "inject-poison"}


def test_the_issue_s_scenarios_all_exist_with_known_fault_actions() -> None:
    expected = ["steady", "burst", "poison", "slow-consumer", "consumer-crash", "broker-restart", "broker-failover"]
    assert [*expected, "registry-outage", "breaker"] == list(SCENARIOS)
    for scenario in SCENARIOS.values():
        for fault in scenario.faults:
            assert fault.action in ACTIONS, scenario.name
            assert 0 < fault.at < 1, scenario.name
            if fault.action.endswith("-agent"):
                assert fault.target in ROLES, scenario.name
    assert 3 == SCENARIOS["broker-failover"].brokers
    assert SCENARIOS["poison"].chaos


def test_chaos_marks_spread_every_kind_of_failure_and_never_mark_a_signal_twice() -> None:
    for events in (8, 40, 249, 250, 400, 1000):
        marks = chaos_marks(events)
        assert {"transient", "reject", "exhaust"} == set(marks.values()), events
        assert all(0 <= int(index) < events for index in marks), events
    assert 4 * 3 == len(chaos_marks(1000))
    assert {} == chaos_marks(7)


def test_the_pipeline_hops_are_consumed_by_agents_that_exist() -> None:
    assert all(group in ROLES for _, group in PIPELINE)


def test_a_run_config_round_trips_through_its_file(tmp_path: Path) -> None:
    config = RunConfig("abc", "habc.", "127.0.0.1:1", "http://127.0.0.1:2", str(tmp_path), chaos={"3": "reject"})
    config.save(tmp_path / "config.json")

    assert config == RunConfig.load(tmp_path / "config.json")
    assert tmp_path / "journals" == config.journals
    assert tmp_path / "state" / "risk-2" == config.state_dir("risk", 2)


def test_journal_lines_from_many_threads_arrive_whole(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "risk-1.jsonl")

    def write(thread: int) -> None:
        for index in range(200):
            journal.write("sent", topic="t", id=f"{thread}-{index}", t=1.0, padding="x" * 300)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()

    lines = list(read_journals(tmp_path))
    assert 800 == len(lines)
    assert {("risk-1", "sent")} == {(source, line["k"]) for source, line in lines}
    assert 800 == len({line["id"] for _, line in lines})


def test_a_torn_last_line_of_a_killed_agent_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "risk-1.jsonl"
    path.write_text(json.dumps({"k": "sent", "id": "a"}) + "\n" + '{"k": "sent", "id": "b"')

    assert [("risk-1", {"k": "sent", "id": "a"})] == list(read_journals(tmp_path))


def test_harness_scenarios_lists_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == main(["harness", "scenarios"])

    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert list(SCENARIOS) == listed


def test_an_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == main(["harness", "run", "--scenario", "nonsense"])

    assert "nonsense" in capsys.readouterr().err


def test_a_registry_without_a_bootstrap_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        ["harness", "run", "--scenario", "steady", "--registry", "http://127.0.0.1:1", "--report", str(tmp_path)]
    )

    assert 2 == code
    assert "--registry needs --bootstrap" in capsys.readouterr().err


def test_scenarios_that_kill_the_broker_are_refused_on_a_cluster_the_harness_did_not_start(tmp_path: Path) -> None:
    options = HarnessOptions(
        scenarios=("steady", "broker-restart"), report_dir=tmp_path, project=tmp_path, bootstrap="127.0.0.1:1"
    )

    with pytest.raises(HarnessError, match="broker-restart kills the broker or the registry"):
        run_scenarios(options, say=print, progress=lambda _: lambda *_: None)
    assert [] == list(tmp_path.iterdir())  # refused before anything ran


def test_a_stack_that_fails_to_come_up_is_stopped_not_leaked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kafka may already run when the registry fails to start: whatever started is stopped before the error."""
    downs: list[bool] = []

    def fail_up(self: DevStack, say: object = None) -> None:
        raise DevStackError("the dev registry exited during start-up")

    monkeypatch.setattr(DevStack, "up", fail_up)
    monkeypatch.setattr(DevStack, "down", lambda self, *, wipe=False: downs.append(wipe) or [])
    stacks = OwnStacks(HarnessOptions(scenarios=("steady",), report_dir=tmp_path, project=tmp_path))

    with pytest.raises(DevStackError, match="exited during start-up"):
        stacks.get(1, say=lambda _: None)
    assert [True] == downs
    assert {} == stacks.stacks
