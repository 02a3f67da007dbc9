"""The dev stack as a whole: `up` (idempotent), `down` (only what it started), `status`.

State lives in `.tradewire/dev/` inside the project: the pids it started, the ports, the
cluster id, logs, and the brokers' data (which survives `down`, so a restart keeps topics,
offsets and registered schemas; `down --wipe` deletes it). Ports are checked before anything
starts; a start that fails stops what it started and puts the state back, so the ports kept
are always those of a stack that came up, which an `up` without port options reuses.
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
from tradewire.devstack.ports import PortClaim, StackConflictError, check_ports, stack_claims
from tradewire.devstack.processes import is_running, log_tail, spawn, stop
from tradewire.devstack.toolchain import find_java, resolve_kafka
from tradewire.errors import ConfigError, DevStackError

__all__ = ["DevStack", "StackOptions", "StackStatus"]

REGISTRY_MARKER = "tradewire registry serve"


DEFAULT_KAFKA_PORT = 9092
DEFAULT_REGISTRY_PORT = 8081


@dataclass(frozen=True, slots=True)
class StackOptions:
    """What `dev up` starts and where; a port left None is the one of the last stack that came up,
    else the default (Kafka 9092, its controller one above, the registry 8081)."""

    project: Path
    kafka_port: int | None = None
    registry_port: int | None = None
    brokers: int = 1
    registry: bool = True
    state_root: Path | None = None
    """Where state lives (default: `<project>/.tradewire/dev`); tests use a temporary directory."""
    controller_port: int | None = None
    """Port of node 1's KRaft controller listener (default: `kafka_port + 1`)."""

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
    controllers: str = ""
    """The KRaft controller listeners, `host:port[,host:port]`."""
    expected_registry_url: str | None = None
    """Where the registry answers when it runs; None for a stack started without one."""

    @property
    def running(self) -> bool:
        """Whether every broker (and the registry, if the stack has one) is alive."""
        registry_ok = self.expected_registry_url is None or self.registry_pid > 0
        return bool(self.brokers) and all(self.brokers.values()) and registry_ok


@dataclass(frozen=True, slots=True)
class _Layout:
    """The ports of one stack."""

    brokers: int
    kafka_port: int
    controller_port: int
    registry_port: int

    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_port + 2 * index}" for index in range(self.brokers))

    def controllers(self) -> str:
        return ",".join(f"127.0.0.1:{self.controller_port + 2 * index}" for index in range(self.brokers))

    def claims(self, *, registry: bool) -> list[PortClaim]:
        return stack_claims(
            kafka_port=self.kafka_port,
            controller_port=self.controller_port,
            brokers=self.brokers,
            registry_port=self.registry_port if registry else None,
        )


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

    def _restore_state(self, text: str | None) -> None:
        """Put back the state file as it was (`None`: there was none)."""
        if text is None:
            self.state_path.unlink(missing_ok=True)
        else:
            self.state_path.write_text(text)

    def data_root(self, brokers: int) -> Path:
        return self.options.state_dir / "data" / f"kafka-{brokers}-node"

    def _saved_layout(self, state: dict[str, object]) -> _Layout:
        """The ports the saved state names (the defaults where it names none)."""
        kafka_port = int(str(state.get("kafka_port", DEFAULT_KAFKA_PORT)))
        controller = state.get("controller_port")
        return _Layout(
            int(str(state.get("brokers", self.options.brokers))),
            kafka_port,
            int(str(controller)) if controller is not None else kafka_port + 1,
            int(str(state.get("registry_port", DEFAULT_REGISTRY_PORT))),
        )

    def _wanted_layout(self, state: dict[str, object]) -> _Layout:
        """The ports asked for: the options', else those of the last stack that came up, else the defaults."""
        options = self.options
        saved = self._saved_layout(state)
        kafka_port = saved.kafka_port if options.kafka_port is None else options.kafka_port
        if options.controller_port is not None:
            controller_port = options.controller_port
        elif options.kafka_port is None:
            controller_port = saved.controller_port
        else:
            controller_port = kafka_port + 1
        registry_port = saved.registry_port if options.registry_port is None else options.registry_port
        return _Layout(options.brokers, kafka_port, controller_port, registry_port)

    def nodes(
        self, brokers: int | None = None, port: int | None = None, controller_port: int | None = None
    ) -> list[KafkaNode]:
        """Node handles for the configured (or saved) cluster; pids filled from the state."""
        state = self.load_state()
        saved = self._saved_layout(state)
        brokers = brokers or saved.brokers
        if port is None:
            port, controller_port = saved.kafka_port, controller_port or saved.controller_port
        classpath = resolve_kafka(self.pom)
        java = find_java()
        pids = state.get("kafka_pids", {})
        nodes = []
        for spec in cluster_specs(port, brokers, self.data_root(brokers), controller_port):
            node = KafkaNode(spec, classpath, java, self.options.state_dir, self.log4j)
            node.pid = int(pids.get(str(spec.node_id), 0)) if isinstance(pids, dict) else 0
            nodes.append(node)
        return nodes

    # -- commands ----------------------------------------------------------------------
    def up(self, say: Callable[[str], None] = lambda _: None) -> StackStatus:
        """Start whatever is not running yet; wait until Kafka and the registry answer.

        Every port about to be used is checked first (PortConflictError, nothing started). When
        the start fails anyway, what this call started is stopped and the saved state is put
        back as it was, so a port that did not work is never remembered for the next `up`.
        """
        options = self.options
        if not self.pom.is_file():
            raise ConfigError(
                f"{self.pom} does not exist: `tradewire dev` starts the Kafka that dev/kafka/pom.xml of the "
                "tradewire repository pins; run it in that repository, or pass --config <repository>/tradewire.yaml"
            )
        previous = self.load_state()
        alive = self._alive_brokers(previous)
        kafka_alive = any(alive.values())
        if kafka_alive and int(str(previous.get("brokers", 1))) != options.brokers:
            raise StackConflictError(
                f"a {previous.get('brokers')}-broker stack is running; `tradewire dev down` it before starting "
                f"{options.brokers} broker(s)"
            )
        registry_pid = int(str(previous.get("registry_pid", 0)))
        registry_alive = is_running(registry_pid, REGISTRY_MARKER)
        saved, wanted = self._saved_layout(previous), self._wanted_layout(previous)
        layout = _Layout(
            options.brokers,
            saved.kafka_port if kafka_alive else wanted.kafka_port,
            saved.controller_port if kafka_alive else wanted.controller_port,
            saved.registry_port if registry_alive else wanted.registry_port,
        )
        if kafka_alive and (saved.kafka_port, saved.controller_port) != (wanted.kafka_port, wanted.controller_port):
            say(
                f"Kafka already runs on {layout.bootstrap()} (controller {layout.controllers()}); "
                "`tradewire dev down` first to move it"
            )
        if registry_alive and saved.registry_port != wanted.registry_port:
            say(f"the registry already runs on port {saved.registry_port}; `tradewire dev down` first to move it")
        with_registry = options.registry or registry_alive
        claims = layout.claims(registry=with_registry)
        to_start = [
            claim
            for claim in claims
            if (claim.node and not alive.get(claim.node)) or (not claim.node and not registry_alive)
        ]
        check_ports(claims, starting=to_start)

        if not kafka_alive:
            previous_id = previous.get("cluster_id") if previous.get("brokers") == options.brokers else None
            state: dict[str, object] = {"brokers": options.brokers, "cluster_id": previous_id}
            if registry_alive:
                state["registry_pid"] = registry_pid
        else:
            state = dict(previous)
        state.update(
            kafka_port=layout.kafka_port,
            controller_port=layout.controller_port,
            registry_port=layout.registry_port,
            registry=with_registry,
        )
        saved_text = self.state_path.read_text() if self.state_path.is_file() else None
        started: list[tuple[int, str]] = []
        try:
            status = self._start(layout, state, started, registry_alive, say)
        except BaseException:
            stop(started, 20.0)  # only what this call started; all at once, as in `down`
            self._restore_state(saved_text)
            raise
        return status

    def _start(
        self,
        layout: _Layout,
        state: dict[str, object],
        started: list[tuple[int, str]],
        registry_was_running: bool,
        say: Callable[[str], None],
    ) -> StackStatus:
        """Start what does not run, recording each process in `started` and in the state as it starts
        (so that `dev down` finds it even if this process dies)."""
        options = self.options
        timings: dict[str, float] = {}
        started_at = time.monotonic()
        classpath = resolve_kafka(self.pom)
        if classpath.resolved_in_seconds > 1:
            say(f"resolved Kafka from Maven Central in {classpath.resolved_in_seconds:.1f} s")
        timings["maven"] = classpath.resolved_in_seconds
        nodes = self.nodes(layout.brokers, layout.kafka_port, layout.controller_port)
        cluster_id = str(state.get("cluster_id") or "") or new_cluster_id()
        state["cluster_id"] = cluster_id
        kafka_was_running = all(node.running() for node in nodes)
        if not kafka_was_running:
            say(f"starting Kafka on {layout.bootstrap()} (controller {layout.controllers()})")
            format_started = time.monotonic()
            for node in nodes:
                node.prepare(cluster_id)
            timings["format"] = time.monotonic() - format_started
            for node in nodes:
                if not node.running():
                    node.start(dump_archive=node.spec.node_id == 1)
                    started.append((node.pid, node.marker))
            state["kafka_pids"] = {str(node.spec.node_id): node.pid for node in nodes}
            self.save_state(state)
        bootstrap = layout.bootstrap()
        timings["kafka"] = wait_until_ready(bootstrap, len(nodes), nodes)
        registry_url = f"http://127.0.0.1:{layout.registry_port}" if state["registry"] else None
        registry_pid = int(str(state.get("registry_pid", 0)))
        if options.registry and not registry_was_running:
            assert registry_url is not None
            registry_started = time.monotonic()
            registry_pid = self._start_registry(layout.registry_port, bootstrap)
            started.append((registry_pid, REGISTRY_MARKER))
            state["registry_pid"] = registry_pid
            self.save_state(state)
            self._wait_for_registry(registry_url, registry_pid)
            timings["registry"] = time.monotonic() - registry_started
        self.save_state(state)
        timings["total"] = time.monotonic() - started_at
        return StackStatus(
            bootstrap,
            registry_url,
            {node.spec.node_id: node.pid for node in nodes},
            registry_pid if registry_url else 0,
            timings,
            already_running=kafka_was_running and (registry_was_running or not options.registry),
            controllers=layout.controllers(),
            expected_registry_url=registry_url,
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
        layout = self._saved_layout(state)
        alive = self._alive_brokers(state)
        registry_pid = int(str(state.get("registry_pid", 0)))
        registry_alive = is_running(registry_pid, REGISTRY_MARKER)
        expected = bool(state.get("registry", "registry_pid" in state))
        registry_url = f"http://127.0.0.1:{layout.registry_port}"
        return StackStatus(
            layout.bootstrap(),
            registry_url if registry_alive else None,
            alive,
            registry_pid if registry_alive else 0,
            controllers=layout.controllers(),
            expected_registry_url=registry_url if expected or registry_alive else None,
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
