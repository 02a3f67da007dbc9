"""`dev up` is idempotent, checks its ports first and never remembers a failed choice; `status` tells what
runs (exit 1 when not fully up); `down` stops only what `up` started."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from integration_support import REPO_ROOT, free_port_pair

from tradewire.cli import main
from tradewire.devstack.ports import port_free
from tradewire.devstack.processes import free_port_block, is_running, stop
from tradewire.devstack.stack import REGISTRY_MARKER, DevStack, StackOptions
from tradewire.errors import DevStackError


def test_up_twice_status_and_down(tmp_path: Path) -> None:
    """A second up finds the broker running; status lists it; down stops it and only it."""
    stack = DevStack(StackOptions(REPO_ROOT, kafka_port=free_port_pair(), registry=False, state_root=tmp_path))
    first = stack.up()
    try:
        metadata = AdminClient({"bootstrap.servers": first.bootstrap}).list_topics(timeout=10)
        second = stack.up()
        status = stack.status()
        assert (False, True, [1], first.brokers, True) == (
            first.already_running,
            second.already_running,
            list(metadata.brokers),
            status.brokers,
            status.running,
        )
        assert first.timings["kafka"] > 0
    finally:
        stopped = stack.down()
    pid = first.brokers[1]
    assert ([f"kafka node 1 (pid {pid})"], False, {}) == (
        stopped,
        is_running(pid, "kafka.Kafka"),
        stack.status().brokers,
    )
    assert [] == stack.down()


# -- ports: checked before anything starts, never remembered when they fail ----------------------
@dataclass(frozen=True)
class Run:
    """What one in-process `tradewire dev ...` returned and printed."""

    code: int
    out: str
    err: str


DevCli = Callable[..., Run]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory of its own (state in its .tradewire/dev), using this repository's dev/kafka."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "tradewire.yaml").write_text((REPO_ROOT / "tradewire.yaml").read_text())
    (root / "dev").symlink_to(REPO_ROOT / "dev")
    return root


@pytest.fixture
def dev(project: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[DevCli]:
    """`tradewire --config <project> dev ...` in-process; `dev down --wipe` at the end, whatever happened."""

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(["--config", str(project / "tradewire.yaml"), "dev", *argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, " ".join(captured.err.split()))

    yield run
    run("down", "--wipe")


@contextmanager
def listening(port: int) -> Iterator[socket.socket]:
    """Something else listening on 127.0.0.1:`port` for the duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        yield other


def saved_state(project: Path) -> dict[str, object] | None:
    """The dev stack's state file of `project` (None when there is none)."""
    path = project / ".tradewire" / "dev" / "state.json"
    return json.loads(path.read_text()) if path.is_file() else None


def test_status_exits_1_and_says_so_while_the_registry_is_down(dev: DevCli, project: Path) -> None:
    """With Kafka up but the registry killed, `dev status` names the missing registry and exits 1; `dev up`
    brings it back and status exits 0 again."""
    kafka_port, registry_port = free_port_pair(), free_port_pair()
    started = dev("up", "--kafka-port", str(kafka_port), "--registry-port", str(registry_port))
    healthy = dev("status")
    state = saved_state(project)
    assert state is not None
    stop([(int(str(state["registry_pid"])), REGISTRY_MARKER)], 10.0, hard=True)
    degraded = dev("status")
    restarted = dev("up")
    again = dev("status")
    registry_url = f"http://127.0.0.1:{registry_port}"
    assert (0, 0, 1, 0, 0) == (started.code, healthy.code, degraded.code, restarted.code, again.code)
    assert (
        f"registry  {registry_url} (pid ",
        f"registry  not running (expected at {registry_url}; `tradewire dev up` restarts it)",
        "the stack is not fully up; `tradewire dev up` starts what is missing",
    ) == (
        healthy.out.splitlines()[-1][: len(f"registry  {registry_url} (pid ")],
        degraded.out.splitlines()[-1],
        degraded.err,
    )


def test_a_port_needed_twice_is_refused_before_anything_starts_and_not_remembered(dev: DevCli, project: Path) -> None:
    """`dev up --kafka-port P --registry-port P+1` exits 2 naming the controller's claim on P+1, starts
    nothing and saves nothing; the next `dev up` with another registry port starts the stack there."""
    kafka_port, registry_port = free_port_pair(), free_port_pair()
    refused = dev("up", "--kafka-port", str(kafka_port), "--registry-port", str(kafka_port + 1))
    after_refusal = (saved_state(project), port_free(kafka_port), port_free(kafka_port + 1))
    started = dev("up", "--kafka-port", str(kafka_port), "--registry-port", str(registry_port))
    assert (2, "") == (refused.code, refused.out)
    assert (
        f"error: port {kafka_port + 1} is needed both by Kafka node 1's KRaft controller listener "
        "(--controller-port) and by the dev registry (--registry-port);"
    ) in refused.err
    assert (None, True, True) == after_refusal
    assert (0, f"http://127.0.0.1:{registry_port}", f"controller 127.0.0.1:{kafka_port + 1}") == (
        started.code,
        started.out.split("TRADEWIRE_REGISTRY_URL=")[-1].strip(),
        started.out.splitlines()[1].split("  ")[0],
    )


@pytest.mark.parametrize(
    ("brokers", "taken_offset", "who_and_how"),
    [
        pytest.param(
            "1",
            1,
            "Kafka node 1's KRaft controller listener needs it (--controller-port); stop what listens there or "
            "choose another port with --controller-port",
            id="controller",
        ),
        pytest.param(
            "1",
            0,
            "Kafka node 1's broker listener needs it (--kafka-port); stop what listens there or choose another "
            "port with --kafka-port",
            id="broker",
        ),
        pytest.param(
            "3",
            4,
            "Kafka node 3's broker listener needs it (--kafka-port + 4); stop what listens there or choose "
            "another port with --kafka-port",
            id="third-broker",
        ),
        pytest.param(
            "3",
            5,
            "Kafka node 3's KRaft controller listener needs it (--controller-port + 4); stop what listens there "
            "or choose another port with --controller-port",
            id="third-controller",
        ),
    ],
)
def test_a_kafka_port_in_use_is_named_with_the_option_that_moves_it(
    dev: DevCli, project: Path, brokers: str, taken_offset: int, who_and_how: str
) -> None:
    """A port some other process listens on exits 2 before anything starts, naming the port, what needed it
    and the option to choose another; nothing is saved."""
    kafka_port, registry_port = free_port_block(6), free_port_pair()
    taken = kafka_port + taken_offset
    with listening(taken):
        refused = dev(
            "up", "--brokers", brokers, "--kafka-port", str(kafka_port), "--registry-port", str(registry_port)
        )
    assert (2, "", None) == (refused.code, refused.out, saved_state(project))
    assert f"error: port {taken} is already in use on 127.0.0.1, and {who_and_how}" == refused.err


def test_controller_port_moves_the_quorum_off_a_taken_port(dev: DevCli, project: Path) -> None:
    """With kafka-port + 1 taken, `--controller-port` puts the controller elsewhere: the broker answers,
    and `dev up` and `dev status` print the controller where it listens."""
    kafka_port, controller_port, registry_port = free_port_pair(), free_port_pair(), free_port_pair()
    with listening(kafka_port + 1):
        started = dev(
            "up",
            "--kafka-port",
            str(kafka_port),
            "--controller-port",
            str(controller_port),
            "--registry-port",
            str(registry_port),
            "--no-registry",
        )
        metadata = AdminClient({"bootstrap.servers": f"127.0.0.1:{kafka_port}"}).list_topics(timeout=10)
        status = dev("status")
    state = saved_state(project)
    assert state is not None
    assert (0, 0, [1]) == (started.code, status.code, list(metadata.brokers))
    assert (
        f"controller 127.0.0.1:{controller_port}  (KRaft quorum, not for clients)",
        f"kafka     127.0.0.1:{kafka_port}  (controller 127.0.0.1:{controller_port})",
        "registry  not started (--no-registry)",
        (kafka_port, controller_port),
    ) == (
        started.out.splitlines()[1],
        status.out.splitlines()[1],
        status.out.splitlines()[2],
        (state["kafka_port"], state["controller_port"]),
    )


def test_a_start_that_fails_stops_what_it_started_and_keeps_no_trace(tmp_path: Path) -> None:
    """When the registry cannot listen after all (its port taken between the check and its start), `up`
    raises, stops the Kafka it had started and leaves no state; the next `up` on another port works."""
    kafka_port, registry_port, other_registry_port = free_port_pair(), free_port_pair(), free_port_pair()
    stack = DevStack(StackOptions(REPO_ROOT, kafka_port, registry_port, state_root=tmp_path))
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    def take_registry_port_once_kafka_starts(message: str) -> None:
        if message.startswith("starting Kafka"):
            blocker.bind(("127.0.0.1", registry_port))
            blocker.listen()

    try:
        with pytest.raises(DevStackError, match="the dev registry exited during start-up") as failure:
            stack.up(say=take_registry_port_once_kafka_starts)
        after_failure = (stack.state_path.exists(), port_free(kafka_port), stack.status().brokers)
        moved = DevStack(StackOptions(REPO_ROOT, kafka_port, other_registry_port, state_root=tmp_path)).up()
    finally:
        blocker.close()
        stack.down(wipe=True)
    assert "cannot listen on 127.0.0.1" in str(failure.value)
    assert (False, True, {}) == after_failure
    assert (f"127.0.0.1:{kafka_port}", f"http://127.0.0.1:{other_registry_port}") == (
        moved.bootstrap,
        moved.registry_url,
    )


def test_another_broker_count_than_the_running_stack_is_a_usage_error(dev: DevCli) -> None:
    """`dev up --brokers 3` while a one-broker stack runs exits 2 saying to `dev down` first; the stack runs on."""
    kafka_port = free_port_pair()
    started = dev("up", "--kafka-port", str(kafka_port), "--no-registry")
    refused = dev("up", "--brokers", "3")
    status = dev("status")
    assert (0, 2, 0) == (started.code, refused.code, status.code)
    assert "error: a 1-broker stack is running; `tradewire dev down` it before starting 3 broker(s)" == refused.err
