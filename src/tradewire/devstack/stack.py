"""The dev stack as a whole: `up` (idempotent), `down` (only what it started), `status`.

State lives in `.tradewire/dev/` inside the project: the pids it started, the ports, the
cluster id, logs, and the brokers' data (which survives `down`, so a restart keeps topics,
offsets and registered schemas; `down --wipe` deletes it).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tradewire.devstack.kafka import KafkaNode, cluster_specs, new_cluster_id, wait_until_ready
from tradewire.devstack.processes import is_running, log_tail, spawn, stop
from tradewire.devstack.toolchain import find_java, resolve_kafka
from tradewire.errors import DevStackError

__all__ = ["DevStack", "StackOptions", "StackStatus"]

REGISTRY_MARKER = "tradewire registry serve"


@dataclass(frozen=True, slots=True)
class StackOptions:
    """What `dev up` starts and where."""

    project: Path
    kafka_port: int = 9092
    registry_port: int = 8081
    brokers: int = 1
    registry: bool = True
    state_root: Path | None = None
    """Where state lives (default: `<project>/.tradewire/dev`); tests use a temporary directory."""

    @property
    def state_dir(self) -> Path:
        """Project-local state: pids, configs, logs, data."""
        return self.state_root if self.state_root is not None else self.project / ".tradewire" / "dev"


@dataclass
class StackStatus:
    """What runs: bootstrap servers, registry URL, live components, start-up timings."""

    bootstrap: str
    registry_url: str | None
    brokers: dict[int, int] = field(default_factory=dict)
    registry_pid: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    already_running: bool = False

    @property
    def running(self) -> bool:
        """Whether every broker (and the registry, if any) is alive."""
        return bool(self.brokers) and all(self.brokers.values())


class DevStack:
    """Controls the native stack of one project directory."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.state_path = options.state_dir / "state.json"
        self.log4j = options.project / "dev" / "kafka" / "log4j2.properties"
        self.pom = options.project / "dev" / "kafka" / "pom.xml"

    # -- state ---------------------------------------------------------------------
    def load_state(self) -> dict[str, object]:
        """The saved state ({} when nothing was started)."""
        try:
            state: dict[str, object] = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        return state

    def save_state(self, state: dict[str, object]) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")

    def data_root(self, brokers: int) -> Path:
        return self.options.state_dir / "data" / f"kafka-{brokers}-node"

    def nodes(self, brokers: int | None = None, port: int | None = None) -> list[KafkaNode]:
        """Node handles for the configured (or saved) cluster; pids filled from the state."""
        state = self.load_state()
        brokers = brokers or int(str(state.get("brokers", self.options.brokers)))
        port = port or int(str(state.get("kafka_port", self.options.kafka_port)))
        classpath = resolve_kafka(self.pom)
        java = find_java()
        pids = state.get("kafka_pids", {})
        nodes = []
        for spec in cluster_specs(port, brokers, self.data_root(brokers)):
            node = KafkaNode(spec, classpath, java, self.options.state_dir, self.log4j)
            node.pid = int(pids.get(str(spec.node_id), 0)) if isinstance(pids, dict) else 0
            nodes.append(node)
        return nodes

    # -- commands ----------------------------------------------------------------------
    def up(self, say: Callable[[str], None] = lambda _: None) -> StackStatus:
        """Start whatever is not running yet; wait until Kafka and the registry answer."""
        options = self.options
        state = self.load_state()
        if state and self._alive_brokers(state) and int(str(state.get("brokers", 1))) != options.brokers:
            raise DevStackError(
                f"a {state.get('brokers')}-broker stack is running; `tradewire dev down` it before starting "
                f"{options.brokers} broker(s)"
            )
        timings: dict[str, float] = {}
        started = time.monotonic()
        classpath = resolve_kafka(self.pom)
        if classpath.resolved_in_seconds > 1:
            say(f"resolved Kafka from Maven Central in {classpath.resolved_in_seconds:.1f} s")
        timings["maven"] = classpath.resolved_in_seconds
        if not state or not self._alive_brokers(state):
            state = {
                "brokers": options.brokers,
                "kafka_port": options.kafka_port,
                "registry_port": options.registry_port,
                "cluster_id": state.get("cluster_id") if state.get("brokers") == options.brokers else None,
            }
        nodes = self.nodes(options.brokers, int(str(state["kafka_port"])))
        cluster_id = str(state.get("cluster_id") or "") or new_cluster_id()
        state["cluster_id"] = cluster_id
        kafka_was_running = all(node.running() for node in nodes)
        if not kafka_was_running:
            format_started = time.monotonic()
            for node in nodes:
                node.prepare(cluster_id)
            timings["format"] = time.monotonic() - format_started
            for node in nodes:
                if not node.running():
                    node.start(dump_archive=node.spec.node_id == 1)
            state["kafka_pids"] = {str(node.spec.node_id): node.pid for node in nodes}
            self.save_state(state)
        bootstrap = ",".join(node.spec.bootstrap for node in nodes)
        timings["kafka"] = wait_until_ready(bootstrap, len(nodes), nodes)
        registry_url = None
        registry_pid = int(str(state.get("registry_pid", 0)))
        registry_was_running = is_running(registry_pid, REGISTRY_MARKER)
        if options.registry:
            port = int(str(state.get("registry_port", options.registry_port)))
            registry_url = f"http://127.0.0.1:{port}"
            if not registry_was_running:
                registry_started = time.monotonic()
                registry_pid = self._start_registry(port, bootstrap)
                state["registry_pid"] = registry_pid
                self.save_state(state)
                self._wait_for_registry(registry_url, registry_pid)
                timings["registry"] = time.monotonic() - registry_started
        timings["total"] = time.monotonic() - started
        return StackStatus(
            bootstrap,
            registry_url,
            {node.spec.node_id: node.pid for node in nodes},
            registry_pid if options.registry else 0,
            timings,
            already_running=kafka_was_running and (registry_was_running or not options.registry),
        )

    def down(self, *, wipe: bool = False) -> list[str]:
        """Stop what `up` started (and only that); with `wipe`, delete the brokers' data too."""
        state = self.load_state()
        stopped = []
        registry_pid = int(str(state.get("registry_pid", 0)))
        if is_running(registry_pid, REGISTRY_MARKER):
            stop([(registry_pid, REGISTRY_MARKER)], 15.0)
            stopped.append(f"registry (pid {registry_pid})")
        pids = state.get("kafka_pids", {})
        processes = []
        for node_id, pid in pids.items() if isinstance(pids, dict) else []:
            marker = str((self.options.state_dir / f"node-{node_id}.properties").resolve())
            if is_running(int(pid), marker):
                processes.append((int(pid), marker))
                stopped.append(f"kafka node {node_id} (pid {pid})")
        stop(processes, 20.0)  # all at once: a lone node without quorum would wait minutes
        if state:
            state["kafka_pids"] = {}
            state["registry_pid"] = 0
            self.save_state(state)
        if wipe:
            shutil.rmtree(self.options.state_dir / "data", ignore_errors=True)
            self.state_path.unlink(missing_ok=True)
        return stopped

    def status(self) -> StackStatus:
        """What runs now, according to the saved state and the live processes."""
        state = self.load_state()
        port = int(str(state.get("kafka_port", self.options.kafka_port)))
        brokers = int(str(state.get("brokers", self.options.brokers)))
        alive = self._alive_brokers(state)
        registry_pid = int(str(state.get("registry_pid", 0)))
        registry_alive = is_running(registry_pid, REGISTRY_MARKER)
        registry_port = int(str(state.get("registry_port", self.options.registry_port)))
        return StackStatus(
            ",".join(f"127.0.0.1:{port + 2 * i}" for i in range(brokers)),
            f"http://127.0.0.1:{registry_port}" if registry_alive else None,
            alive,
            registry_pid if registry_alive else 0,
        )

    # -- helpers ----------------------------------------------------------------------------
    def _alive_brokers(self, state: dict[str, object]) -> dict[int, int]:
        pids = state.get("kafka_pids", {})
        alive = {}
        for node_id, pid in pids.items() if isinstance(pids, dict) else []:
            marker = str((self.options.state_dir / f"node-{node_id}.properties").resolve())
            alive[int(node_id)] = int(pid) if is_running(int(pid), marker) else 0
        return alive

    def _start_registry(self, port: int, bootstrap: str) -> int:
        command = [
            sys.executable,
            "-m",
            "tradewire",
            "registry",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--bootstrap-servers",
            bootstrap,
        ]
        return spawn(command, self.options.state_dir / "logs" / "registry.log")

    def _wait_for_registry(self, url: str, pid: int, timeout: float = 60.0) -> None:
        log = self.options.state_dir / "logs" / "registry.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not is_running(pid, REGISTRY_MARKER):
                raise DevStackError(f"the dev registry exited during start-up; last lines of {log}:\n{log_tail(log)}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:  # noqa: S310 - loopback URL
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise DevStackError(f"the dev registry at {url} did not answer within {timeout:.0f} s:\n{log_tail(log)}")
