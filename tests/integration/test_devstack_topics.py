"""`tradewire dev up` creates the project's contract topics once Kafka is ready."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from integration_support import REPO_ROOT, free_port_pair

from tradewire.cli import main
from tradewire.contracts import EVENTS


def test_dev_up_creates_every_contract_topic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `dev up` each event's topic exists as its contract says (drift is clean), and `up` says how many
    it created."""
    monkeypatch.delenv("TRADEWIRE_TOPIC_PREFIX", raising=False)
    shutil.copytree(REPO_ROOT / "schemas", tmp_path / "schemas")
    shutil.copytree(REPO_ROOT / "dev", tmp_path / "dev")  # the Kafka build (pom.xml) `dev up` resolves
    shutil.copy(REPO_ROOT / "tradewire.yaml", tmp_path / "tradewire.yaml")
    config = ["--config", str(tmp_path / "tradewire.yaml")]
    port = free_port_pair()
    bootstrap = f"127.0.0.1:{port}"
    capsys.readouterr()
    try:
        code = main([*config, "dev", "up", "--kafka-port", str(port), "--no-registry"])
        said = capsys.readouterr().err
        topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).topics
        drift = main([*config, "topics", "drift", "--bootstrap-servers", bootstrap])
    finally:
        main([*config, "dev", "down", "--wipe"])
    assert (0, 0) == (code, drift)
    assert sorted(event.TOPIC for event in EVENTS) == sorted(name for name in topics if not name.startswith("_"))
    assert f"topics: {len(EVENTS)} contract topic(s) created, 0 already there" in said
