"""Fixtures for integration tests: a real Kafka and a Confluent-compatible registry.

Where they come from, in order:
1. a cluster named in the environment: TRADEWIRE_BOOTSTRAP_SERVERS (and TRADEWIRE_REGISTRY_URL;
   without it a dev registry is started against that cluster);
2. Docker through testcontainers, when a Docker engine answers (Kafka in a container, the dev
   registry beside it);
3. else the native stack: Kafka from Maven Central and the dev registry, on free loopback
   ports with state in a temporary directory, stopped when the session ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from integration_support import REPO_ROOT, free_port_pair, start_registry

from tradewire.devstack.stack import DevStack, StackOptions


@dataclass(frozen=True)
class Services:
    """Where the services of this test session listen, and where they came from."""

    bootstrap: str
    registry_url: str
    origin: str


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/integration is marked `integration`."""
    for item in items:
        if "tests/integration" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        completed = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0


def _start_registry(bootstrap: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port_pair()
    return start_registry(bootstrap, f"_schemas_{uuid.uuid4().hex[:8]}", port, log), f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Kafka and a registry for the whole session (see the module docstring for the order)."""
    bootstrap = os.environ.get("TRADEWIRE_BOOTSTRAP_SERVERS")
    registry_url = os.environ.get("TRADEWIRE_REGISTRY_URL")
    logs = tmp_path_factory.mktemp("service-logs")
    if bootstrap:
        if registry_url:
            yield Services(bootstrap, registry_url, "environment")
            return
        process, url = _start_registry(bootstrap, logs / "registry.log")
        try:
            yield Services(bootstrap, url, "environment + dev registry")
        finally:
            process.terminate()
            process.wait(timeout=30)
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer  # only needed, and installed, where Docker runs

        with KafkaContainer("apache/kafka:4.1.0").with_kraft() as kafka:
            docker_bootstrap = kafka.get_bootstrap_server()
            process, url = _start_registry(docker_bootstrap, logs / "registry.log")
            try:
                yield Services(docker_bootstrap, url, "docker")
            finally:
                process.terminate()
                process.wait(timeout=30)
        return
    stack = DevStack(
        StackOptions(
            REPO_ROOT,
            kafka_port=free_port_pair(),
            registry_port=free_port_pair(),
            state_root=tmp_path_factory.mktemp("devstack"),
        )
    )
    try:
        status = stack.up()
        assert status.registry_url is not None
        yield Services(status.bootstrap, status.registry_url, "native")
    finally:
        stack.down(wipe=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(services: Services) -> str:
    """Bootstrap servers of the session's Kafka ("host:port[,host:port]")."""
    return services.bootstrap


@pytest.fixture(scope="session")
def registry_url(services: Services) -> str:
    """URL of the session's Confluent-compatible registry."""
    return services.registry_url


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic, group and subject names, so tests never share state."""
    return uuid.uuid4().hex[:10]
