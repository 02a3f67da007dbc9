"""Runs scenarios: brings the stack up, starts the agents, injects faults, waits, and builds the report.

The harness starts its own Kafka and dev registry (see `tradewire.harness.processes`);
`--bootstrap` and `--registry` point it at a running cluster instead (then the broker and
registry scenarios are refused: the harness cannot kill what it did not start). Each scenario
uses its own topic prefix, so runs never see each other's events.
"""

from __future__ import annotations

import datetime
import json
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import confluent_kafka

from tradewire.config import DEFAULT_TOPIC_SETTINGS, TopicsConfig, TopicSettings
from tradewire.contracts import EVENTS, Liquidity, OrderFilled, OrderSide
from tradewire.dlq import DeadLetterFilter, dlq_topic, read_dead_letters, replay
from tradewire.dlq.headers import last_header
from tradewire.dlq.topics import admin_client
from tradewire.errors import TradingSystemError
from tradewire.harness import report as reports
from tradewire.harness.agent import _signal
from tradewire.harness.config import DERIVED, PIPELINE, ROLES, HarnessError, HarnessOptions, RunConfig
from tradewire.harness.ledger import DeadLetterEntry, Expected, Observations, build_ledger, unforwarded
from tradewire.harness.processes import Fleet, JournalTail, OwnStacks, Stack, dlq_count, wait_for_groups
from tradewire.harness.recovery import affected_hops, fault_gaps, gap_target, latency_target
from tradewire.harness.scenarios import SCENARIOS, Fault, Scenario, chaos_marks
from tradewire.latency import CHAIN_BUDGET_SECONDS, HOP_AVERAGE_BUDGET_SECONDS
from tradewire.producer import Producer
from tradewire.settings import KAFKA_LOG, ProducerSettings
from tradewire.topics import ensure_contract_topics, events_of_contracts

__all__ = ["Harness", "HarnessError", "HarnessOptions", "run_scenarios"]

SIGNALS = "trading.signals.generated"
HEALTH = "agent.health.reported"
BREAKER_TOPICS = ("breaker.system.emergency", "breaker.state.reset", "breaker.agent.triggered")
INJECTED_HEADER = "harness_injected"


def hops() -> list[tuple[str, str, str]]:
    """Every (topic, sender, consuming group) the ledger accounts."""
    senders = {SIGNALS: "market-analysis"}
    senders |= {topic: group for (_, group), outputs in DERIVED.items() for topic, _ in outputs}
    rows = [(topic, senders[topic], group) for topic, group in PIPELINE]
    rows.append((HEALTH, "every agent", "circuit-breaker"))
    rows.extend((topic, "circuit-breaker", group) for topic in BREAKER_TOPICS for group in ROLES)
    return rows


def _create_topics(stack: Stack, prefix: str, scenario: Scenario) -> None:
    """Every event's topic under the run's prefix, made as `tradewire topics apply` makes them, with the
    scenario's partitions and one replica per broker (min.insync.replicas 2 with three brokers)."""
    replicas = scenario.brokers
    settings = TopicSettings(
        partitions=scenario.partitions, replication_factor=replicas, min_insync_replicas=2 if replicas >= 3 else 1
    )
    config = TopicsConfig(defaults=settings.over(DEFAULT_TOPIC_SETTINGS))
    ensure_contract_topics(stack.bootstrap, events_of_contracts(EVENTS), config, prefix=prefix, timeout=60)


def _inject_poison(producer: Producer, config: RunConfig) -> set[str]:
    """Write the four kinds of poison onto the signals topic (twice each); returns their tags."""
    prefix, run_id = config.prefix, config.run_id
    topic = prefix + SIGNALS
    valid = producer.serializer(_signal(config, 10**6, "market-analysis"), topic)
    now = datetime.datetime.now(datetime.UTC)
    wrong = OrderFilled(
        metadata=_signal(config, 10**6 + 1, "harness").metadata,
        symbol="BTC-USD",
        order_id=uuid.uuid4(),
        client_order_id="poison",
        venue="harness",
        fill_id="poison",
        side=OrderSide.BUY,
        fill_quantity=Decimal(1),
        fill_price=Decimal(1),
        cumulative_quantity=Decimal(1),
        remaining_quantity=Decimal(0),
        fee=Decimal(0),
        fee_currency="USD",
        liquidity=Liquidity.TAKER,
        filled_at=now,
        trade_date=now.date(),
        is_final=True,
    )
    wrong_bytes = producer.serializer(wrong, prefix + OrderFilled.TOPIC)
    kinds = {
        "bad-magic": b"\x07not avro at all",
        "unknown-schema-id": b"\x00" + (2_000_000_000).to_bytes(4, "big") + b"\x02\x04",
        "truncated": valid[: max(6, len(valid) // 3)],
        "wrong-type": wrong_bytes,
    }
    tags = set()
    deliveries = []
    for copy in range(2):
        for kind, value in kinds.items():
            tag = f"{kind}-{copy}-{run_id}"
            tags.add(tag)
            key = f"poison-{kind}-{copy}".encode()
            deliveries.append(producer.send_raw(topic, key, value, [(INJECTED_HEADER, tag.encode())]))
    for delivery in deliveries:
        delivery.result(timeout=30)
    return tags


# -- a scenario ----------------------------------------------------------------------------------------
@dataclass
class _Run:
    scenario: Scenario
    stack: Stack
    options: HarnessOptions
    say: Callable[[str], None]
    progress: Callable[[int, int, str], None]
    config: RunConfig
    fleet: Fleet
    producer: Producer
    watermarks: confluent_kafka.Consumer
    tail: JournalTail
    expected: Expected = field(default_factory=Expected)
    faults: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    killed: set[str] = field(default_factory=set)
    injected: list[tuple[float, Fault, str]] = field(default_factory=list)
    """(when, fault, label) of every fault fired, in order (absolute times)."""
    undone: dict[Fault, float] = field(default_factory=dict)
    """When each undone fault was undone (the agent restarted, the broker back)."""
    t0: float = 0.0
    stopped_at: float = 0.0

    def fault(self, kind: str, target: str, detail: str) -> None:
        at = time.time() - self.t0 if self.t0 else 0.0
        self.faults.append({"t_seconds": round(at, 3), "kind": kind, "target": target, "detail": detail})
        self.say(f"  [{at:6.1f} s] {kind} {target}: {detail}")


def run_scenario(
    scenario: Scenario,
    stack: Stack,
    options: HarnessOptions,
    *,
    say: Callable[[str], None],
    progress: Callable[[int, int, str], None],
) -> dict[str, Any]:
    """Run one scenario to its end; return its report (also written under the report directory)."""
    events = options.events or scenario.events
    rate = options.rate if options.rate is not None else scenario.rate
    run_id = uuid.uuid4().hex[:8]
    prefix = f"h{run_id}."
    directory = (options.report_dir / scenario.name).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config = RunConfig(
        run_id=run_id,
        prefix=prefix,
        bootstrap=stack.bootstrap,
        registry=stack.registry,
        directory=str(directory / "run"),
        events=events,
        rate=rate,
        burst=scenario.burst,
        chaos=chaos_marks(events) if scenario.chaos else {},
        slow_ms=dict(scenario.slow_ms),
    )
    run_dir = Path(config.directory)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    config.journals.mkdir(parents=True)
    config_path = run_dir / "config.json"
    config.save(config_path)
    _create_topics(stack, prefix, scenario)
    fleet = Fleet(config_path, run_dir / "logs")
    producer = Producer(
        ProducerSettings(
            bootstrap_servers=stack.bootstrap,
            registry_url=stack.registry,
            agent="harness",
            auto_register=True,
            topic_prefix=prefix,
        )
    )
    started = time.monotonic()
    watermarks = confluent_kafka.Consumer(
        {"bootstrap.servers": stack.bootstrap, "group.id": f"harness-{run_id}", "logger": KAFKA_LOG}
    )
    tail = JournalTail(config.journals)
    run = _Run(scenario, stack, options, say, progress, config, fleet, producer, watermarks, tail)
    expected = run.expected
    try:
        say(f"{scenario.name}: {scenario.description}")
        say(f"  {events} signals at {'bursts of ' + str(scenario.burst) if scenario.burst else f'{rate:g}/s'}, "
            f"topics {prefix}*, journals and logs in {run_dir}")  # fmt: skip
        for role in ("circuit-breaker", "learning", "execution", "personality", "risk", "market-analysis"):
            fleet.start(role)
        wait_for_groups(stack, fleet, 120)
        tail.poll()
        ports = sorted(_metrics_ports(tail.observations).items())
        say(f"  agents ready in {time.monotonic() - started:.1f} s; metrics on "
            + ", ".join(f"{name}:{port}" for name, port in ports))  # fmt: skip
        for index, how in config.chaos.items():
            signal_id = str(_signal(config, int(index), "market-analysis").metadata.event_id)
            if how in ("reject", "exhaust"):
                expected.failing[(SIGNALS, "risk")][signal_id] = "non-retryable" if how == "reject" else "exhausted"
        _warm_up(run)
        run.t0 = time.time()
        config.go_file.touch()
        _drive(run)
        if scenario.chaos:
            _replay(run)
        _stop_agents(run)
    finally:
        for name, running in fleet.alive().items():
            if running:
                fleet.kill(name)
        watermarks.close()
        producer.close(10)
    tail.poll()
    report = _report(run)
    json_path, html_path = reports.write_report(report, directory)
    report["paths"] = {"json": str(json_path), "html": str(html_path)}
    return report


def _warm_up(run: _Run) -> None:
    """Send the warm-up signals through the whole chain before the measured run (bounded)."""
    run.config.warmup_file.touch()
    deadline = time.monotonic() + 90
    began = time.monotonic()
    while time.monotonic() < deadline:
        run.tail.poll()
        if len(run.tail.observations.delivered("execution.order.filled", "learning")) >= run.config.warmup:
            run.say(f"  warm-up: {run.config.warmup} signals through the chain in {time.monotonic() - began:.1f} s")
            return
        dead = [name for name, alive in run.fleet.alive().items() if not alive]
        if dead:
            raise HarnessError(f"agent {dead[0]} exited during the warm-up; see {run.fleet.logs / (dead[0] + '.log')}")
        time.sleep(0.05)
    raise HarnessError("the warm-up signals did not reach the learning agent within 90 s")


def _drive(run: _Run) -> None:
    """Follow the run: fire the faults on schedule, undo them, until every hop is settled (bounded)."""
    fleet, tail, events = run.fleet, run.tail, run.config.events
    pending = sorted(run.scenario.faults, key=lambda fault: fault.at)
    undo: list[tuple[float, Fault, str]] = []
    deadline = time.monotonic() + run.options.timeout
    last_check = 0.0
    while True:
        tail.poll()
        observations = tail.observations
        acked = sum(1 for at in observations.sent.get(SIGNALS, {}).values() if at >= run.t0)
        done = bool(observations.marked("done"))
        run.progress(acked, events, _status(observations))
        while pending and acked >= pending[0].at * events:
            fault = pending.pop(0)
            undo_after = _fire(run, fault)
            fired = run.faults[-1]
            run.injected.append((run.t0 + fired["t_seconds"], fault, f"{fired['kind']} {fired['target']}"))
            if fault.duration:
                undo.append((time.monotonic() + fault.duration, fault, undo_after))
        for item in [item for item in undo if time.monotonic() >= item[0]]:
            undo.remove(item)
            _undo(run, item[1], item[2])
            run.undone[item[1]] = time.time()
        crashed = [name for name, alive in fleet.alive().items() if not alive and name not in run.killed]
        if crashed:
            run.failures.append(f"agent {crashed[0]} exited unexpectedly; see {fleet.logs / (crashed[0] + '.log')}")
            return
        if done and not pending and not undo and time.monotonic() - last_check >= 0.5:
            last_check = time.monotonic()
            if _settled(run):
                return
        if time.monotonic() > deadline:
            run.failures.append(f"the run did not settle within {run.options.timeout:g} s")
            return
        time.sleep(0.1)


def _status(observations: Observations) -> str:
    completed = len(observations.delivered("execution.order.filled", "learning"))
    return f"{completed} orders through to learning"


def _settled(run: _Run) -> bool:
    """Whether every pipeline hop has delivered or dead-lettered all it was sent."""
    observations, expected, config = run.tail.observations, run.expected, run.config
    if unforwarded(observations):
        return False  # a handler's result is still in flight
    for topic, group in PIPELINE:
        missing = len(set(observations.sent.get(topic, {})) - observations.delivered(topic, group))
        poison = len(expected.poison.get((topic, group), set()))
        if missing == 0 and poison == 0:
            continue
        letters = dlq_count(run.watermarks, dlq_topic(config.prefix + topic, group))
        if letters < poison or missing > letters - poison:
            return False
    return not (run.scenario.name == "breaker" and not observations.marked("resume"))


def _fire(run: _Run, fault: Fault) -> str:
    stack, fleet, config = run.stack, run.fleet, run.config
    if fault.action == "kill-agent":
        name = f"{fault.target}-1"
        pid = fleet.kill(name)
        run.killed.add(name)
        run.fault("kill", name, f"SIGKILL pid {pid}")
        return name
    if fault.action == "start-agent":
        name = fleet.start(fault.target)
        run.fault("join", name, f"pid {fleet.processes[name].pid} joins group {fault.target} (rebalance)")
        return name
    if fault.action == "kill-broker":
        detail = stack.kill_broker()
        run.fault("kill", "broker", f"SIGKILL {detail}")
        return ""
    if fault.action == "kill-leader":
        metadata = admin_client(stack.bootstrap).list_topics(config.prefix + fault.target, timeout=10)
        leader = metadata.topics[config.prefix + fault.target].partitions[0].leader
        detail = stack.kill_broker(leader)
        run.fault("kill", f"broker {leader}", f"SIGKILL the leader of {fault.target}[0]: {detail}")
        return str(leader)
    if fault.action == "stop-registry":
        detail = stack.stop_registry()
        run.fault("stop", "registry", f"SIGKILL {detail}")
        return ""
    if fault.action == "degrade-agent":
        name = f"{fault.target}-1"
        pid = fleet.signal(name, signal.SIGUSR1)
        run.fault("degrade", name, f"SIGUSR1 pid {pid}: reports FAILING for {config.degrade_seconds:g} s")
        return name
    if fault.action == "inject-poison":
        tags = _inject_poison(run.producer, config)
        run.expected.poison[(fault.target, "risk")] |= tags
        run.fault("poison", fault.target, f"{len(tags)} records: bad magic, unknown schema id, truncated, wrong type")
        return ""
    raise HarnessError(f"unknown fault action {fault.action!r}")


def _undo(run: _Run, fault: Fault, target: str) -> None:
    fleet = run.fleet
    if fault.action == "kill-agent":
        role, instance = target.rsplit("-", 1)
        name = fleet.start(role, int(instance))
        run.killed.discard(name)
        run.fault("restart", name, f"pid {fleet.processes[name].pid}")
    elif fault.action in ("kill-broker", "stop-registry"):
        began = time.monotonic()
        run.stack.restore()
        what = "broker" if fault.action == "kill-broker" else "registry"
        run.fault("restart", what, f"back in {time.monotonic() - began:.1f} s")


def _replay(run: _Run) -> None:
    """Replay the handler failures from risk's DLQ (the fix is 'deployed': replays succeed)."""
    tail, config, producer = run.tail, run.config, run.producer
    source = dlq_topic(config.prefix + SIGNALS, "risk")
    replayed: set[str] = set()
    for reason in ("non-retryable", "exhausted"):
        outcome = replay(producer, run.stack.bootstrap, source, filters=DeadLetterFilter(reason=reason))
        replayed |= {letter.event_id for letter in outcome.replayed if letter.event_id}
        if outcome.failed:
            run.failures.append(f"replay of {reason} dead letters: {len(outcome.failed)} not acknowledged")
    run.fault("replay", "risk", f"{len(replayed)} dead letters replayed to group risk")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tail.poll()
        handled = tail.observations.replayed.get((SIGNALS, "risk"), set())
        downstream = tail.observations.delivered("execution.order.filled", "learning")
        if replayed <= handled and len(downstream) >= len(tail.observations.sent.get("execution.order.filled", {})):
            return
        time.sleep(0.1)
    run.failures.append("replayed dead letters were not all handled within 60 s")


def _stop_agents(run: _Run) -> None:
    """SIGTERM (drain, commit, close) every agent, the breaker last so it consumes the last heartbeats."""
    run.stopped_at = time.time()
    fleet, tail = run.fleet, run.tail
    others = [name for name in fleet.processes if not name.startswith("circuit-breaker")]
    fleet.stop([name for name in others if fleet.processes[name].poll() is None])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        tail.poll()
        sent = {i for i, at in tail.observations.sent.get(HEALTH, {}).items() if at < run.stopped_at}
        if sent <= tail.observations.delivered(HEALTH, "circuit-breaker"):
            break
        time.sleep(0.1)
    fleet.stop([name for name in fleet.processes if name.startswith("circuit-breaker")])


# -- the report ------------------------------------------------------------------------------------
def _dead_letters(run: _Run, config: RunConfig) -> dict[tuple[str, str], list[DeadLetterEntry]]:
    result: dict[tuple[str, str], list[DeadLetterEntry]] = {}
    for topic, _, group in hops():
        name = dlq_topic(config.prefix + topic, group)
        try:
            letters = read_dead_letters(run.stack.bootstrap, name, timeout=30)
        except TradingSystemError:
            continue  # the group never consumed that topic, so it has no DLQ
        result[(topic, group)] = [
            DeadLetterEntry(
                letter.event_id,
                letter.reason,
                (last_header(letter.record.headers, INJECTED_HEADER) or b"").decode() or None,
            )
            for letter in letters
        ]
    return result


def _outcomes(config: RunConfig) -> dict[tuple[str, str], dict[str, float]]:
    totals: dict[tuple[str, str], dict[str, float]] = {}
    for path in (Path(config.directory) / "state").glob("*/stats-*.json"):
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        group = str(payload.get("agent", "")).rsplit("-", 1)[0]
        for topic, outcomes in payload.get("outcomes", {}).items():
            bucket = totals.setdefault((topic, group), {})
            for outcome, value in outcomes.items():
                bucket[outcome] = bucket.get(outcome, 0.0) + float(value)
    return totals


def _report(run: _Run) -> dict[str, Any]:
    config, observations, expected = run.config, run.tail.observations, run.expected
    stopped_at = run.stopped_at or time.time()
    cutoffs = dict.fromkeys((HEALTH, *BREAKER_TOPICS), stopped_at)
    rows, totals, failures = build_ledger(
        observations, hops(), _dead_letters(run, config), expected, _outcomes(config), sent_before=cutoffs
    )
    failures = [*run.failures, *failures, *_scenario_checks(run, observations)]
    quiet = {"sent": 0, "delivered": 0, "dead_lettered": 0}
    rows = [row for row in rows if (row["topic"], row["group"]) in PIPELINE or any(row[name] for name in quiet)]
    pipeline = {(topic, group) for topic, group in PIPELINE}
    for row in rows:
        samples = [hop for at, hop in observations.hop_samples.get((row["topic"], row["group"]), []) if at >= run.t0]
        row["latency"] = reports.latency_stats(samples, HOP_AVERAGE_BUDGET_SECONDS)
    # latency figures leave the warm-up out (its events are in the ledger)
    hop_samples = [hop for key in pipeline for at, hop in observations.hop_samples.get(key, []) if at >= run.t0]
    chain_samples = [chain for at, chain in observations.chain_samples if at >= run.t0]
    marks: list[dict[str, Any]] = [
        {
            "t_seconds": round(float(mark["t"]) - run.t0, 3),
            "kind": str(mark["what"]),
            "target": str(mark.get("target") or mark["source"]),
            "detail": str(mark.get("reason", "")),
        }
        for mark in observations.marks
        if mark.get("what") in ("halt", "resume", "trip", "reset") and run.t0
    ]
    shown = [mark for mark in marks if mark["kind"] in ("trip", "reset") or "market-analysis" in mark["target"]]
    faults = sorted([*run.faults, *shown], key=lambda fault: fault["t_seconds"])
    latency = {
        "hop": reports.latency_stats(hop_samples, HOP_AVERAGE_BUDGET_SECONDS),
        "signal_to_execution": reports.latency_stats(chain_samples, CHAIN_BUDGET_SECONDS),
    }
    return {
        "tradewire_version": _version(),
        "scenario": run.scenario.name,
        "description": run.scenario.description,
        "started_at": datetime.datetime.fromtimestamp(run.t0 or time.time(), datetime.UTC).isoformat(),
        "duration_seconds": round(stopped_at - run.t0, 3) if run.t0 else 0.0,
        "events": config.events,
        "rate": config.rate,
        "brokers": run.scenario.brokers,
        "passed": not failures,
        "failures": failures,
        **totals,
        "hops": rows,
        "rejected_orders": len(observations.sent.get("execution.order.rejected", {})),
        "latency": latency,
        "recovery": _recovery(run, observations, latency, stopped_at),
        "timeline": _timeline(run, observations, faults),
        "samples": {"hop_seconds": hop_samples, "signal_to_execution_seconds": chain_samples},
        "agents": {
            name: f"http://127.0.0.1:{port}/metrics" for name, port in sorted(_metrics_ports(observations).items())
        },
    }


def _recovery(
    run: _Run, observations: Observations, latency: dict[str, Any], stopped_at: float
) -> dict[str, list[dict[str, Any]]]:
    """The delivery gap of each injected fault on each hop it affects, and the scenario's recovery targets."""
    gaps: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    ends = [at for at, _, _ in run.injected[1:]] + ([stopped_at] if run.injected else [])
    for (at, fault, label), window_end in zip(run.injected, ends, strict=True):
        found = fault_gaps(observations, affected_hops(fault.action, fault.target), at, window_end)
        undone = run.undone.get(fault)
        limit = fault.gap_target_seconds
        for (topic, group), gap in found.items():
            back = gap.end - undone if undone is not None and gap.recovered and gap.end > undone else None
            gaps.append(
                {
                    "fault": label,
                    "t_seconds": round(at - run.t0, 3),
                    "hop": f"{topic} -> {group}",
                    "gap_seconds": round(gap.seconds, 3),
                    "from_seconds": round(gap.start - run.t0, 3),
                    "to_seconds": round(gap.end - run.t0, 3),
                    "recovered": gap.recovered,
                    "undone_to_delivery_seconds": None if back is None else round(back, 3),
                    "target_seconds": limit,
                    "ok": None if limit is None else gap.seconds <= limit,
                }
            )
        if limit is not None:
            targets.append(gap_target(label, found, limit).as_json())
    chain_limit = run.scenario.chain_p99_target_seconds
    if chain_limit is not None:
        chain = latency["signal_to_execution"]
        targets.append(latency_target("signal -> execution p99", chain, "p99_seconds", chain_limit).as_json())
    return {"gaps": gaps, "targets": targets}


def _metrics_ports(observations: Observations) -> dict[str, int]:
    """Each agent's metrics port, as its latest start journaled it."""
    return {
        str(mark["agent"]): int(mark["metrics_port"])
        for mark in observations.marked("running")
        if mark.get("metrics_port") is not None
    }


def _timeline(run: _Run, observations: Observations, faults: list[dict[str, Any]]) -> dict[str, Any]:
    """Signals sent and orders through to learning per second, hop and chain latency, and the faults."""
    pipeline = set(PIPELINE)
    hops = [(at - run.t0, hop) for key, samples in observations.hop_samples.items() if key in pipeline
            for at, hop in samples]  # fmt: skip
    completed = observations.hop_samples.get(("execution.order.filled", "learning"), [])
    return reports.timeline(
        sent=[at - run.t0 for at in observations.sent.get(SIGNALS, {}).values()],
        delivered=[at - run.t0 for at, _ in completed],
        hop=hops,
        chain=[(at - run.t0, value) for at, value in observations.chain_samples],
        faults=faults,
    )


def _scenario_checks(run: _Run, observations: Observations) -> Iterator[str]:
    """What the scenario itself must show, beyond the ledger."""
    name = run.scenario.name
    if name == "breaker":
        halts = [mark for mark in observations.marked("halt") if mark["source"].startswith("market-analysis")]
        resumes = [mark for mark in observations.marked("resume") if mark["source"].startswith("market-analysis")]
        if not halts or not resumes:
            yield "breaker: the market was not halted and resumed by the circuit breaker"
            return
        halted_at, resumed_at = float(halts[0]["t"]), float(resumes[-1]["t"])
        during = [at for at in observations.produced.get(SIGNALS, {}).values() if halted_at < at < resumed_at]
        if during:
            yield f"breaker: {len(during)} signal(s) were sent while the system was halted"
    if name == "consumer-crash" and not any(fault["kind"] == "restart" for fault in run.faults):
        yield "consumer-crash: the killed agent was never restarted"
    if name == "poison" and not any(fault["kind"] == "poison" for fault in run.faults):
        yield "poison: no poison was injected"


def _version() -> str:
    try:
        return version("tradewire")
    except PackageNotFoundError:
        return "unknown"


# -- several scenarios ---------------------------------------------------------------------------
NEEDS_OWN_STACK = {"broker-restart", "broker-failover", "registry-outage"}


class Harness:
    """Runs scenarios one after the other on shared stacks (one per broker count); a context manager."""

    def __init__(self, options: HarnessOptions, *, say: Callable[[str], None] = lambda _: None) -> None:
        self.options = options
        self.say = say
        self._stacks = OwnStacks(options)

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the stacks the harness started."""
        self._stacks.close()

    def run(
        self, chosen: str | Scenario, progress: Callable[[int, int, str], None] = lambda *_: None
    ) -> dict[str, Any]:
        """Run one scenario (by name, or a custom one); returns its report (written under the report directory)."""
        if isinstance(chosen, str) and chosen not in SCENARIOS:
            raise HarnessError(f"unknown scenario {chosen!r}; choose from {', '.join(SCENARIOS)}")
        scenario = SCENARIOS[chosen] if isinstance(chosen, str) else chosen
        name = scenario.name
        if self.options.bootstrap and name in NEEDS_OWN_STACK:
            raise HarnessError(
                f"scenario {name} kills the broker or the registry, so it needs the harness's own stack: "
                "run it without --bootstrap"
            )
        stack = self._stacks.get(scenario.brokers, self.say)
        try:
            return run_scenario(scenario, stack, self.options, say=self.say, progress=progress)
        finally:
            if stack.own and any(f.action.startswith("kill-") or f.action == "stop-registry" for f in scenario.faults):
                stack.restore()  # the next scenario starts on a whole cluster


def run_scenarios(
    options: HarnessOptions,
    *,
    say: Callable[[str], None],
    progress: Callable[[str], Callable[[int, int, str], None]],
) -> list[dict[str, Any]]:
    """Run the named scenarios in order; returns their reports."""
    unknown = [name for name in options.scenarios if name not in SCENARIOS]
    if unknown:
        raise HarnessError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    refused = [name for name in options.scenarios if name in NEEDS_OWN_STACK] if options.bootstrap else []
    if refused:  # refused before anything runs
        raise HarnessError(
            f"scenario {refused[0]} kills the broker or the registry, so it needs the harness's own stack: "
            "run it without --bootstrap"
        )
    with Harness(options, say=say) as harness:
        return [harness.run(name, progress(name)) for name in options.scenarios]
