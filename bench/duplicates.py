"""Duplicate-window benchmark: how many events a consumer killed with SIGKILL hands to its handler
twice, and what the dedup flush interval (`ConsumerSettings.dedup_flush_seconds`) costs.

Dedup suppresses a redelivered event whose id the idempotency store already holds, but ids
become durable only `dedup_flush_seconds` after their handler ran: a process killed within that
window forgets them and handles them again after its restart. This script measures it:

* a backlog of `--events` seeded signals on a 2-partition topic (Kafka and the dev registry
  started on free ports by this script);
* per flush interval and round, a consumer process whose handler appends the event id to a
  file (like the harness journal, before it returns) is SIGKILLed once a third of the backlog is
  handled, and restarted; "handled twice" is the lines beyond the distinct ids once all are in;
* per flush interval, a run without a kill: events handled per second over the whole backlog
  (the cost: more store commits and thread handoffs per record as the interval shrinks). The
  default, 0.05 s, is the baseline of the same run.

Run: .venv/bin/python bench/duplicates.py [--events 3000] [--rounds 3] [--flush 0.05 --flush 0.01 --flush 0]
     [--work-ms 0]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal as signals
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from tradewire.contracts import EventMetadata, SignalDirection, SignalGenerated
from tradewire.devstack.processes import free_port_block
from tradewire.devstack.stack import DevStack, StackOptions
from tradewire.producer import Producer
from tradewire.settings import ProducerSettings

REPO = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, sys, time
from tradewire.consumer import Consumer
from tradewire.contracts import SignalGenerated
from tradewire.settings import ConsumerSettings
settings, out, work = json.loads(sys.argv[1]), open(sys.argv[2], "a", buffering=1), float(sys.argv[3])
consumer = Consumer(ConsumerSettings(**settings))
@consumer.handler(SignalGenerated)
def record(signal, ctx):
    if work:
        time.sleep(work)
    out.write(f"{signal.metadata.event_id} {time.time()}\n")
consumer.run()
"""


def signal(index: int) -> SignalGenerated:
    now = datetime.datetime.now(datetime.UTC)
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"tradewire-bench-duplicates/{index}")
    return SignalGenerated(
        metadata=EventMetadata(event_id=event_id, correlation_id=event_id, produced_at=now, source_agent="bench"),
        symbol=f"S{index % 20}",
        venue="bench",
        direction=SignalDirection.LONG,
        strategy="momentum",
        model_version="1",
        confidence=Decimal("0.5"),
        reference_price=Decimal(index + 1),
        horizon_seconds=60,
        expires_at=now,
    )


@contextmanager
def stack(state: Path) -> Iterator[tuple[str, str]]:
    base = free_port_block(3)
    dev = DevStack(StackOptions(REPO, kafka_port=base, registry_port=base + 2, state_root=state))
    try:
        status = dev.up()
        assert status.registry_url is not None
        yield status.bootstrap, status.registry_url
    finally:
        dev.down(wipe=True)


def lines(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            rows.append((parts[0], float(parts[1])))
    return rows


def wait_until(path: Path, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len({event for event, _ in lines(path)}) < count:
        if time.monotonic() > deadline:
            log = path.parent / "consumer.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{path}: {len(lines(path))} of {count} events after {timeout:g} s\n{tail}")
        time.sleep(0.05)


def run_consumer(settings: dict[str, object], out: Path, work: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", CHILD, json.dumps(settings), str(out), str(work)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with (out.parent / "consumer.log").open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signals.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flush", type=float, action="append", dest="flushes")
    parser.add_argument("--work-ms", type=float, default=0.0, help="handler work per event (a sleep)")
    options = parser.parse_args(argv)
    flushes = options.flushes or [0.05, 0.01, 0.0]
    work = options.work_ms / 1000
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"tradewire {metadata.version('tradewire')}, confluent-kafka {metadata.version('confluent-kafka')} "
        f"(librdkafka {confluent_kafka.libversion()[0]}), load average {os.getloadavg()[0]:.2f}; "
        f"{options.events} events, handler work {options.work_ms:g} ms"
    )
    with (
        tempfile.TemporaryDirectory(prefix="tradewire-duplicates-") as temporary,
        stack(Path(temporary) / "stack") as (bootstrap, registry),
    ):
        prefix = f"b{uuid.uuid4().hex[:8]}."
        admin = AdminClient({"bootstrap.servers": bootstrap})  # alive until the futures resolve
        for future in admin.create_topics([NewTopic(prefix + SignalGenerated.TOPIC, 2, 1)]).values():
            future.result(30)
        producer = Producer(
            ProducerSettings(
                bootstrap_servers=bootstrap, registry_url=registry, agent="bench", auto_register=True,
                topic_prefix=prefix,
            )
        )  # fmt: skip
        for index in range(options.events):
            producer.send(signal(index))
        assert producer.flush(60) == 0
        producer.close()
        print("| dedup_flush_seconds | handled twice after a SIGKILL (per round) | median | events/s without a kill |")
        print("| ---: | --- | ---: | ---: |")

        def consumer_settings(folder: Path, flush: float) -> dict[str, object]:
            """A fresh group's consumer settings, its state in `folder`, flushing every `flush` seconds."""
            return {
                "bootstrap_servers": bootstrap, "registry_url": registry, "agent": "bench",
                "group": f"g{uuid.uuid4().hex[:8]}", "topic_prefix": prefix, "state_dir": str(folder),
                "dedup_flush_seconds": flush,
            }  # fmt: skip

        baseline = None
        for flush in flushes:
            twice = []
            for round_ in range(options.rounds):
                folder = Path(temporary) / f"flush-{flush}-{round_}"
                settings = consumer_settings(folder, flush)
                out = folder / "handled.txt"
                first = run_consumer(settings, out, work)
                wait_until(out, options.events // 3, 300)
                first.kill()
                first.wait(10)
                second = run_consumer(settings, out, work)
                wait_until(out, options.events, 300)
                stop(second)
                handled = lines(out)
                twice.append(len(handled) - len({event for event, _ in handled}))
            folder = Path(temporary) / f"flush-{flush}-clean"
            settings = consumer_settings(folder, flush)
            out = folder / "handled.txt"
            clean = run_consumer(settings, out, work)
            wait_until(out, options.events, 300)
            stop(clean)
            times = sorted(at for _, at in lines(out))
            rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
            baseline = baseline or rate
            print(
                f"| {flush:g} | {', '.join(map(str, twice))} | {statistics.median(twice):g} | "
                f"{rate:,.0f} ({rate / baseline:.2f}x) |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
