"""`tradewire topics plan | apply | drift` against the session's broker: create, change, refuse, report drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType
from consumer_support import wait_for
from integration_support import REPO_ROOT

from tradewire.cli import main
from tradewire.contracts import EVENTS
from tradewire.dlq import dlq_topic

SIGNALS = "trading.signals.generated"


class Project:
    """A copy of the repository's schemas with its own tradewire.yaml, run under a unique prefix."""

    def __init__(self, root: Path, bootstrap: str, prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.bootstrap, self.prefix, self.capsys = root, bootstrap, prefix, capsys
        shutil.copytree(REPO_ROOT / "schemas", root / "schemas")
        self.configure({})

    def configure(self, topics: dict[str, Any]) -> None:
        """Write tradewire.yaml with this `topics` section."""
        raw = {"version": "v1", "topics": topics}
        (self.root / "tradewire.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")

    def run(self, verb: str, *args: str) -> tuple[int, str, str]:
        """`tradewire topics VERB` on this project: exit code, stdout, stderr."""
        self.capsys.readouterr()
        code = main(
            [
                "--config",
                str(self.root / "tradewire.yaml"),
                "topics",
                verb,
                "--bootstrap-servers",
                self.bootstrap,
                "--topic-prefix",
                self.prefix,
                *args,
            ]
        )
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]) -> Project:
    """The repository's contracts under the prefix `tp<unique>.`."""
    return Project(tmp_path, kafka_bootstrap, f"tp{unique}.", capsys)


def _described(bootstrap: str, topic: str) -> tuple[int, int, dict[str, str]]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    metadata = admin.list_topics(timeout=30).topics[topic]
    resource = ConfigResource(ResourceType.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(timeout=30)
    keys = ("cleanup.policy", "max.message.bytes", "min.insync.replicas", "retention.ms")
    replicas = len(next(iter(metadata.partitions.values())).replicas)
    return len(metadata.partitions), replicas, {key: entries[key].value for key in keys}


def test_apply_creates_every_contract_topic_as_declared_and_a_second_apply_changes_nothing(project: Project) -> None:
    """apply creates one topic per event with the declared settings (replication capped on one broker, and said
    so); a second apply changes nothing and says so; drift is then clean."""
    project.configure({"events": {SIGNALS: {"partitions": 2, "retention.ms": 3_600_000}}})
    code, out, err = project.run("apply")
    assert 0 == code, err
    created = [line.split()[1] for line in out.splitlines() if line.startswith("created")]
    assert sorted(project.prefix + event.TOPIC for event in EVENTS) == created
    note = "note: the cluster has 1 broker: replication.factor 3 capped at 1 and min.insync.replicas 2 capped at 1"
    assert [True] == [line.startswith(note) for line in out.splitlines() if line.startswith("note:")]
    assert (2, 1, {"cleanup.policy": "delete", "max.message.bytes": "1048588", "min.insync.replicas": "1",
                   "retention.ms": "3600000"}) == _described(project.bootstrap, project.prefix + SIGNALS)  # fmt: skip
    again = project.run("apply")
    assert (0, len(EVENTS)) == (again[0], sum(line.startswith("unchanged") for line in again[1].splitlines()))
    assert "nothing to change" in again[2]
    assert 0 == project.run("drift")[0]


def test_a_changed_contract_is_planned_applied_and_what_kafka_cannot_do_is_refused(project: Project) -> None:
    """More partitions and another retention are planned and applied (with the key-order warning); fewer
    partitions are refused with the reason, exit 100, while the rest of the plan is still applied."""
    project.configure({"events": {SIGNALS: {"partitions": 2}}})
    assert 0 == project.run("apply")[0]
    project.configure({"events": {SIGNALS: {"partitions": 4, "retention.ms": 60_000}}})
    code, out, _ = project.run("plan")
    signals = project.prefix + SIGNALS
    planned = [line.split(None, 2) for line in out.splitlines() if signals in line]
    assert 0 == code
    assert [
        ["update", signals, "partitions 2 -> 4 (warning: keys move to other partitions: records of one key "
         "written before and after the change may be read out of order)"],
        ["update", signals, "retention.ms 604800000 -> 60000"],
    ] == planned  # fmt: skip
    assert 0 == project.run("apply")[0]
    partitions, _, configs = _described(project.bootstrap, signals)
    assert (4, "60000") == (partitions, configs["retention.ms"])
    project.configure({"events": {SIGNALS: {"partitions": 3}}, "domains": {"execution": {"retention.ms": 120_000}}})
    code, out, _ = project.run("apply", "--format", "json")
    document = json.loads(out)
    refused = [
        (topic["topic"], change["what"], change["from"], change["to"], change["refused"])
        for topic in document["topics"]
        for change in topic["changes"]
        if change["refused"]
    ]
    assert 100 == code
    assert [
        (signals, "partitions", "4", "3", "Kafka cannot remove partitions; to have fewer, create a new topic and "
         "move producers and consumers to it"),
    ] == refused  # fmt: skip
    summary = {"create": 0, "update": 5, "refused": 1, "unchanged": len(EVENTS) - 5, "failed": 0}
    assert summary == document["summary"]  # the signals' retention and the four execution topics' are updated
    assert "120000" == _described(project.bootstrap, project.prefix + "execution.order.placed")[2]["retention.ms"]
    code, out, _ = project.run("drift")
    assert (100, [f"{signals}: partitions: 4 on the cluster, 3 in the contract"]) == (code, out.splitlines())


def test_drift_names_topics_without_a_contract_but_not_dead_letters_of_contract_topics(project: Project) -> None:
    """Under the prefix, a stray topic and the dead-letter topic of an event no schema declares are drift; the
    dead-letter topic of a contract topic and a missing contract topic are reported as such."""
    assert 0 == project.run("apply")[0]
    prefix = project.prefix
    names = ["scratch", f"{SIGNALS}.dlq.risk", "trading.signals.old.dlq.risk"]
    admin = AdminClient({"bootstrap.servers": project.bootstrap})
    for future in admin.create_topics([NewTopic(prefix + name, 1, 1) for name in names]).values():
        future.result(timeout=30)
    removed = prefix + "learning.feedback.recorded"
    admin.delete_topics([removed])[removed].result(timeout=30)

    def visible() -> bool:
        topics = admin.list_topics(timeout=30).topics
        return removed not in topics and all(prefix + name in topics for name in names)

    wait_for(visible, 30, "the brokers to show the created and deleted topics")
    code, out, _ = project.run("drift")
    assert dlq_topic(prefix + SIGNALS, "risk") == prefix + names[1]
    assert (100, [
        f"{removed}: missing: the contract of learning.feedback.recorded declares it",
        f"{prefix}scratch: no-contract: no schema declares this topic",
        f"{prefix}trading.signals.old.dlq.risk: no-contract: a dead-letter topic of {prefix}trading.signals.old, "
        "which no schema declares",
    ]) == (code, out.splitlines())  # fmt: skip


def test_an_unreachable_broker_is_a_tool_failure_within_the_timeout(project: Project) -> None:
    """A broker that does not answer: exit 1 naming it and the timeout, without a traceback."""
    project.bootstrap = "127.0.0.1:9"
    code, out, err = project.run("plan", "--timeout", "2")
    assert (1, "") == (code, out)
    assert err.startswith("error: Kafka at 127.0.0.1:9 did not answer within 2 s (")
    assert err.rstrip().endswith("is it running, and are the bootstrap servers right?")
