"""Broker-restart benchmark: after a broker killed with SIGKILL is back, how soon do a producer and a
consumer configured like tradewire's deliver again, per reconnect/retry backoff.

A broker started by this script (one KRaft node, free loopback ports) is SIGKILLed, left down for
`--down` seconds, and started again (`tradewire dev up`: the broker's own restart time is printed
too). Meanwhile a producer sends a record every 20 ms (librdkafka configured by
`ProducerSettings.librdkafka()`) and a consumer of the same topic polls (`ConsumerSettings`).
Per variant and round: the broker's restart time, and from the moment the broker answers again
to the producer's first acknowledgement and to the consumer's first record sent after the restart.

Variants: a dynamic group member with librdkafka's default reconnect backoff (10 s at most:
tradewire before, the baseline), the same with tradewire's 1 s, a static member with 1 s
(tradewire now), and a static member with every backoff at 250 ms or less. A broker down longer
than the session timeout (10 s) makes the consumer give up its membership; a dynamic member's
rejoin then waits for the group to expire its old self, a static one takes its place at once.

Run: .venv/bin/python bench/reconnect.py [--rounds 3] [--down 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from tradewire.devstack.processes import free_port_block
from tradewire.devstack.stack import DevStack, StackOptions
from tradewire.settings import ConsumerSettings, ProducerSettings

REPO = Path(__file__).resolve().parent.parent
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "before: dynamic member, reconnect max 10 s (librdkafka default)": (
        "dynamic",
        {"reconnect.backoff.max.ms": 10_000},
    ),
    "dynamic member, reconnect max 1 s": ("dynamic", {}),
    "now: static member, reconnect max 1 s (tradewire defaults)": ("static", {}),
    "static member, reconnect/retry max 250 ms, fetch error backoff 100 ms": (
        "static",
        {"reconnect.backoff.max.ms": 250, "retry.backoff.max.ms": 250, "fetch.error.backoff.ms": 100},
    ),
}
"""(consumer membership, librdkafka keys on top of the settings') per variant."""


class Clients:
    """A producer sending every 20 ms and a consumer reading the topic; both note when things happen."""

    def __init__(self, bootstrap: str, topic: str, membership: str, extra: dict[str, Any]) -> None:
        producer_config = ProducerSettings(bootstrap_servers=bootstrap, agent="bench").librdkafka()
        producer_config.pop("logger")
        producer_config.update({key: value for key, value in extra.items() if not key.startswith("fetch.")})
        consumer_config = ConsumerSettings(
            bootstrap_servers=bootstrap,
            agent="bench",
            group=f"bench-{uuid.uuid4().hex[:8]}",
            membership="static" if membership == "static" else "dynamic",
        ).librdkafka()
        consumer_config.pop("logger")
        consumer_config.update(extra)
        consumer_config.update({"enable.auto.commit": True, "auto.offset.reset": "latest"})
        self.producer = confluent_kafka.Producer({**producer_config, "log_level": 0})
        self.consumer = confluent_kafka.Consumer({**consumer_config, "log_level": 0})
        self.consumer.subscribe([topic])
        self.topic = topic
        self.acks: list[tuple[float, float]] = []
        """(acknowledged at, sent at)"""
        self.records: list[tuple[float, float]] = []
        """(consumed at, sent at)"""
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._produce), threading.Thread(target=self._consume)]
        for thread in self.threads:
            thread.start()

    def _produce(self) -> None:
        while not self.stopping.wait(0.02):
            sent = time.time()
            self.producer.produce(self.topic, str(sent).encode(), on_delivery=self._acked)
            self.producer.poll(0)
        self.producer.flush(10)

    def _acked(self, error: confluent_kafka.KafkaError | None, message: confluent_kafka.Message) -> None:
        if error is None:
            self.acks.append((time.time(), float(message.value() or b"0")))

    def _consume(self) -> None:
        while not self.stopping.is_set():
            message = self.consumer.poll(0.05)
            if message is not None and message.error() is None:
                self.records.append((time.time(), float(message.value() or b"0")))
        self.consumer.close()

    def close(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--down", type=float, default=2.0, help="seconds the broker stays down before its restart")
    options = parser.parse_args(argv)
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"confluent-kafka {metadata.version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]}), "
        f"load average {os.getloadavg()[0]:.2f}; broker down {options.down:g} s, then restarted"
    )
    with tempfile.TemporaryDirectory(prefix="tradewire-reconnect-") as temporary:
        base = free_port_block(3)
        stack = DevStack(
            StackOptions(REPO, kafka_port=base, registry_port=base + 2, registry=False, state_root=Path(temporary))
        )
        bootstrap = stack.up().bootstrap
        try:
            print("| variant | broker restart s | back -> producer ack s | back -> consumer record s |")
            print("| --- | ---: | ---: | ---: |")
            for name, (membership, extra) in VARIANTS.items():
                restarts, acks, records = [], [], []
                for _ in range(options.rounds):
                    topic = f"bench-{uuid.uuid4().hex[:8]}"
                    admin = AdminClient({"bootstrap.servers": bootstrap})
                    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
                        future.result(30)
                    clients = Clients(bootstrap, topic, membership, extra)
                    try:
                        deadline = time.monotonic() + 30
                        while not clients.records and time.monotonic() < deadline:
                            time.sleep(0.05)
                        time.sleep(1.0)
                        for node in stack.nodes():
                            node.kill()
                        killed = time.time()
                        time.sleep(options.down)
                        began = time.time()
                        stack.up()
                        back = time.time()
                        restarts.append(back - began)
                        deadline = time.monotonic() + 60
                        while time.monotonic() < deadline:
                            late = [at for at, sent in clients.records if sent > killed]
                            if late and any(at > back for at, _ in clients.acks):
                                break
                            time.sleep(0.02)
                        acks.append(min((at for at, _ in clients.acks if at > back), default=float("nan")) - back)
                        records.append(min((at for at, sent in clients.records if sent > killed), default=back) - back)
                    finally:
                        clients.close()
                print(f"| {name} | {statistics.median(restarts):.2f} | {_summary(acks)} | {_summary(records)} |")
        finally:
            stack.down(wipe=True)
    return 0


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({', '.join(f'{value:.2f}' for value in values)})"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
