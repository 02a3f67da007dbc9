"""Group membership benchmark: how soon a consumer killed with SIGKILL and restarted gets its
partitions back, per group protocol and membership, against a broker this script starts.

Variants (each a lone consumer of a 3-partition topic fed every 10 ms, librdkafka configured as
`ConsumerSettings.librdkafka()` configures it, plus auto-commit so a restart resumes at once):

* classic-dynamic: the classic protocol, no group.instance.id (tradewire before 0.2: the baseline);
* classic-static: the classic protocol with a group.instance.id (tradewire's default now);
* consumer-dynamic, consumer-static: the KIP-848 protocol (`group.protocol=consumer`), whose
  session timeout is the broker's (`group.consumer.session.timeout.ms`, 45 s by default).

Per round: the consumer runs, is SIGKILLed, is restarted 1 s later with the same configuration;
printed are the times from the restart to its assignment and to its first record, and the gap
(last record of the killed process to the first of the new one). A restart that gets nothing within
`--wait` seconds shows the error it got. Two trade-offs are measured the same way: a member of a
two-member group stopped for good with SIGTERM (how long until the other one gets its partitions),
and a second live member with the same instance id (what happens to each).

Run: .venv/bin/python bench/membership.py [--rounds 3] [--wait 60] [--variant classic-static ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from tradewire.devstack.processes import free_port_block
from tradewire.devstack.stack import DevStack, StackOptions
from tradewire.settings import ConsumerSettings

REPO = Path(__file__).resolve().parent.parent
VARIANTS = ("classic-dynamic", "classic-static", "consumer-dynamic", "consumer-static")
CHILD = r"""
import json, signal, sys, time, confluent_kafka
config, out, topic = json.loads(sys.argv[1]), open(sys.argv[2], "a", buffering=1), sys.argv[3]
def note(kind, **fields): out.write(json.dumps({"k": kind, "t": time.time(), **fields}) + "\n")
consumer = confluent_kafka.Consumer(config)
running = [True]
signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
consumer.subscribe([topic], on_assign=lambda c, ps: note("assign", parts=[p.partition for p in ps]),
                   on_revoke=lambda c, ps: note("revoke", parts=[p.partition for p in ps]))
note("start")
while running[0]:
    message = consumer.poll(0.05)
    if message is None:
        continue
    if message.error():
        note("error", text=message.error().str())
        if message.error().code() == confluent_kafka.KafkaError._FATAL:
            break
        continue
    note("record", partition=message.partition())
consumer.close()
note("closed")
"""


def config_for(variant: str, bootstrap: str, group: str, instance: str) -> dict[str, Any]:
    protocol, membership = variant.split("-")
    settings = ConsumerSettings(
        bootstrap_servers=bootstrap,
        group=group,
        agent="bench",
        instance_id=instance,
        membership="static" if membership == "static" else "dynamic",
    )
    config = {key: value for key, value in settings.librdkafka().items() if key != "logger"}
    config.update({"enable.auto.commit": True, "auto.commit.interval.ms": 200, "auto.offset.reset": "latest"})
    if protocol == "consumer":
        for key in ("partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms"):
            config.pop(key)
        config["group.protocol"] = "consumer"
    return config


class Feed:
    """Writes a record to each partition of a topic in turn, every 10 ms, until closed."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 1})
        self.topic = topic
        self.partitions = partitions
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        index = 0
        while not self.stopping.wait(0.01):
            self.producer.produce(self.topic, b"x", partition=index % self.partitions)
            self.producer.poll(0)
            index += 1

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.producer.flush(10)


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def first(path: Path, kind: str, after: float = 0.0) -> dict[str, Any] | None:
    return next((e for e in events(path) if e["k"] == kind and e["t"] >= after and e.get("parts", [1])), None)


def wait_for(path: Path, kind: str, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = first(path, kind)
        if found is not None or any(e["k"] == "error" for e in events(path)):
            return found
        time.sleep(0.02)
    return None


def spawn(config: dict[str, Any], out: Path, topic: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config), str(out), topic])


def finish(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # alive until the futures resolve
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(30)


def kill_and_restart(bootstrap: str, variant: str, work: Path, rounds: int, wait: float) -> list[dict[str, Any]]:
    """Rounds of SIGKILL + restart 1 s later, same configuration; the figures of each."""
    topic, group = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{variant}-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 3)
    config = config_for(variant, bootstrap, group, "bench-1")
    feed = Feed(bootstrap, topic, 3)
    results: list[dict[str, Any]] = []
    try:
        for round_ in range(rounds):
            before, after = work / f"{variant}-{round_}-a.jsonl", work / f"{variant}-{round_}-b.jsonl"
            killed = spawn(config, before, topic)
            if wait_for(before, "record", wait) is None:
                killed.kill()
                errors = [e["text"] for e in events(before) if e["k"] == "error"]
                results.append({"note": f"refused: {errors[0][:100]}" if errors else "never consumed"})
                continue
            time.sleep(2.0)
            killed.kill()
            killed.wait(10)
            time.sleep(1.0)
            restarted_at = time.time()
            restarted = spawn(config, after, topic)
            record = wait_for(after, "record", wait)
            assigned = first(after, "assign")
            last = max((e["t"] for e in events(before) if e["k"] == "record"), default=restarted_at)
            errors = [e["text"] for e in events(after) if e["k"] == "error"]
            results.append(
                {
                    "assigned_seconds": None if assigned is None else assigned["t"] - restarted_at,
                    "first_record_seconds": None if record is None else record["t"] - restarted_at,
                    "gap_seconds": None if record is None else record["t"] - last,
                    "note": "" if record is not None else (f"refused: {errors[0][:100]}" if errors else "nothing"),
                }
            )
            finish(restarted)
            time.sleep(1.0)
    finally:
        feed.close()
    return results


def stopped_for_good(bootstrap: str, variant: str, work: Path, wait: float) -> dict[str, Any]:
    """Two members; one is stopped with SIGTERM and not restarted: how long until the other has every partition."""
    topic, group = f"bench-{uuid.uuid4().hex[:8]}", f"bench-stop-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 4)
    feed = Feed(bootstrap, topic, 4)
    stays, leaves = work / f"stop-{variant}-stays.jsonl", work / f"stop-{variant}-leaves.jsonl"
    staying = spawn(config_for(variant, bootstrap, group, "bench-1"), stays, topic)
    try:
        wait_for(stays, "record", wait)
        leaving = spawn(config_for(variant, bootstrap, group, "bench-2"), leaves, topic)
        wait_for(leaves, "record", wait)
        time.sleep(2.0)
        stopped_at = time.time()
        finish(leaving)
        deadline = time.monotonic() + wait
        owned: set[int] = set()
        taken_at = None
        while time.monotonic() < deadline and taken_at is None:
            owned = set()
            for event in events(stays):
                if event["k"] == "assign":
                    owned |= set(event["parts"])
                elif event["k"] == "revoke":
                    owned -= set(event["parts"])
                if owned == {0, 1, 2, 3} and event["t"] > stopped_at:
                    taken_at = event["t"]
                    break
            time.sleep(0.05)
        return {"seconds": None if taken_at is None else taken_at - stopped_at}
    finally:
        finish(staying)
        feed.close()


def duplicate_instance(bootstrap: str, variant: str, work: Path, wait: float) -> dict[str, str]:
    """Two live members with one instance id: what each of them reports."""
    topic, group = f"bench-{uuid.uuid4().hex[:8]}", f"bench-dup-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 1)
    config = config_for(variant, bootstrap, group, "bench-1")
    feed = Feed(bootstrap, topic, 1)
    older_out, newer_out = work / f"dup-{variant}-older.jsonl", work / f"dup-{variant}-newer.jsonl"
    older = spawn(config, older_out, topic)
    try:
        wait_for(older_out, "record", wait)
        newer = spawn(config, newer_out, topic)
        time.sleep(8.0)
        finish(newer)
    finally:
        finish(older)
        feed.close()

    def outcome(path: Path) -> str:
        errors = [e["text"] for e in events(path) if e["k"] == "error"]
        records = sum(1 for e in events(path) if e["k"] == "record")
        return errors[0] if errors else f"consumed {records} records, no error"

    return {"older": outcome(older_out), "newer": outcome(newer_out)}


@contextmanager
def broker(state: Path) -> Iterator[str]:
    base = free_port_block(3)
    stack = DevStack(StackOptions(REPO, kafka_port=base, registry_port=base + 2, registry=False, state_root=state))
    try:
        yield stack.up().bootstrap
    finally:
        stack.down(wipe=True)


def _fmt(values: list[float | None]) -> str:
    known = [value for value in values if value is not None]
    if not known:
        return "—"
    return f"{statistics.median(known):.2f} ({', '.join(f'{v:.2f}' for v in known)})"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wait", type=float, default=60.0, help="longest wait for a restarted consumer (seconds)")
    parser.add_argument("--variant", action="append", choices=VARIANTS, dest="variants")
    parser.add_argument("--bootstrap", default=None, help="use this broker instead of starting one")
    options = parser.parse_args(argv)
    variants = options.variants or list(VARIANTS)
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"confluent-kafka {metadata.version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]}), "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="tradewire-membership-") as temporary:
        work = Path(temporary)
        stack = broker(work / "stack") if options.bootstrap is None else _given(options.bootstrap)
        with stack as bootstrap:
            print("| variant | restart -> assigned s | restart -> first record s | gap s | note |")
            print("| --- | ---: | ---: | ---: | --- |")
            for variant in variants:
                results = kill_and_restart(bootstrap, variant, work, options.rounds, options.wait)
                notes = sorted({result["note"] for result in results if result["note"]})
                print(
                    f"| {variant} | {_fmt([r.get('assigned_seconds') for r in results])} | "
                    f"{_fmt([r.get('first_record_seconds') for r in results])} | "
                    f"{_fmt([r.get('gap_seconds') for r in results])} | {'; '.join(notes)} |"
                )
            print()
            print("| variant | a member stopped for good (SIGTERM): the other has its partitions after s |")
            print("| --- | ---: |")
            for variant in variants:
                taken = stopped_for_good(bootstrap, variant, work, options.wait)["seconds"]
                print(f"| {variant} | {'—' if taken is None else f'{taken:.2f}'} |")
            print()
            print("| variant | two live members with one instance id: the older | the newer |")
            print("| --- | --- | --- |")
            for variant in [v for v in variants if v.endswith("static")]:
                outcome = duplicate_instance(bootstrap, variant, work, options.wait)
                print(f"| {variant} | {outcome['older']} | {outcome['newer']} |")
    return 0


@contextmanager
def _given(bootstrap: str) -> Iterator[str]:
    yield bootstrap


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
