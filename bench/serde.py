"""Serde benchmark: tradewire's generated encoders against the usual ways to do the same.

Prints, for one event type and a fixed seeded set of events, encode and decode time per
event (median and p99) for:

* tradewire's generated path (`event.encode()` / `Event.decode(data)`),
* raw fastavro on an equivalent dict (the floor: no objects built on decode),
* dataclasses-avroschema's `serialize()` / `deserialize()` on a model of the same schema,
* confluent-kafka's `AvroSerializer` / `AvroDeserializer` with the same class
  (`to_dict`/`from_dict` hooks, registry calls cached after the first message),

and the ratios against the baselines measured in the same run. Targets: the generated
round trip at least 2x faster than confluent-kafka's pair, and within 1.5x of raw fastavro.

Run: .venv/bin/python bench/serde.py [--events 1000] [--rounds 7] [--json results.json]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import io
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import fastavro
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from dataclasses_avroschema import ModelGenerator

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.record import parsed_schema
from tradewire.contracts import EventMetadata, SignalDirection, SignalGenerated

logging.getLogger("dataclasses_avroschema").setLevel(logging.ERROR)  # it warns about its own API on every render

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = "schemas/trading/trading.signals.generated.avsc"


def seeded_signals(count: int, seed: int = 42) -> list[SignalGenerated]:
    """`count` varied but reproducible trading signals."""
    rng = random.Random(seed)
    start = datetime.datetime(2026, 11, 26, 9, 30, tzinfo=datetime.UTC)
    symbols = ["BTC-USD", "ETH-USD", "SOL-USD", "AAPL", "MSFT", "EUR-USD"]
    signals = []
    for index in range(count):
        produced = start + datetime.timedelta(microseconds=rng.randrange(10**10))
        price = Decimal(rng.randrange(1, 10**12)).scaleb(-rng.randrange(2, 9))
        signals.append(
            SignalGenerated(
                metadata=EventMetadata(
                    event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    correlation_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    causation_id=None if index % 3 else uuid.UUID(int=rng.getrandbits(128), version=4),
                    produced_at=produced,
                    source_agent=f"market-analysis-{rng.randrange(4)}",
                    traceparent=None if index % 2 else f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01",
                ),
                symbol=rng.choice(symbols),
                venue=rng.choice(["coinbase", "kraken", "nasdaq"]),
                direction=rng.choice(list(SignalDirection)),
                strategy=rng.choice(["mean-reversion", "momentum", "breakout"]),
                model_version=f"2026.11.{rng.randrange(30)}",
                confidence=Decimal(rng.randrange(10**4)).scaleb(-4),
                reference_price=price,
                target_price=None if index % 4 == 0 else price + Decimal("1.5"),
                stop_price=None if index % 5 == 0 else max(price - Decimal("1.25"), Decimal(0)),
                horizon_seconds=rng.randrange(1, 3600),
                expires_at=produced + datetime.timedelta(seconds=rng.randrange(1, 3600)),
                features={f"f{k}": Decimal(rng.randrange(10**6)).scaleb(-3) for k in range(rng.randrange(6))},
            )
        )
    return signals


def deep_dict(signal: SignalGenerated) -> dict[str, Any]:
    """The plain dict fastavro writes for a signal (nested records as dicts)."""
    record = signal.to_avro()
    record["metadata"] = dict(record["metadata"])
    return record


class SerdePath:
    """One way to encode and decode, with its per-event timings."""

    def __init__(self, name: str, encode: Callable[[Any], bytes], decode: Callable[[bytes], Any]) -> None:
        self.name = name
        self.encode = encode
        self.decode = decode
        self.encode_ns: list[int] = []
        self.decode_ns: list[int] = []


def measure(path: SerdePath, inputs: list[Any]) -> None:
    """Time encode then decode of every input, one event at a time."""
    clock = time.perf_counter_ns
    encode, decode = path.encode, path.decode
    encoded = []
    gc.disable()
    try:
        for item in inputs:
            start = clock()
            data = encode(item)
            path.encode_ns.append(clock() - start)
            encoded.append(data)
        for data in encoded:
            start = clock()
            decode(data)
            path.decode_ns.append(clock() - start)
    finally:
        gc.enable()


def percentile(values: list[int], fraction: float) -> float:
    """The `fraction` quantile in microseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def dataclasses_avroschema_model(schema: dict[str, Any]) -> Any:
    """dataclasses-avroschema's own model of the schema, rendered by its generator and imported."""
    directory = Path(tempfile.mkdtemp(prefix="tradewire-bench-"))
    (directory / "das_signal_model.py").write_text(ModelGenerator().render(schema=schema), encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        module = importlib.import_module("das_signal_model")
    finally:
        sys.path.remove(str(directory))
    return module.SignalGenerated


def build_paths(signals: list[SignalGenerated]) -> tuple[list[SerdePath], dict[str, list[Any]]]:
    catalog = Catalog.from_directory(ROOT, "schemas")
    node = catalog.files[SCHEMA_FILE].node
    assert node is not None
    expanded = to_json(node, expand=True)
    parsed = parsed_schema(SignalGenerated)

    def fastavro_encode(record: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, record)
        return buffer.getvalue()

    def fastavro_decode(data: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(data), parsed, None)

    model = dataclasses_avroschema_model(expanded)

    client = SchemaRegistryClient.new_client({"url": "mock://tradewire-bench"})
    conf = {"subject.name.strategy.type": "TOPIC"}
    serializer = AvroSerializer(
        client, dumps(expanded), lambda obj, ctx: obj.to_avro(), conf={**conf, "auto.register.schemas": True}
    )
    deserializer = AvroDeserializer(
        client, dumps(expanded), lambda record, ctx: SignalGenerated.from_avro(record), conf=conf
    )
    context = SerializationContext(SignalGenerated.TOPIC, MessageField.VALUE)

    paths = [
        SerdePath("tradewire generated", lambda signal: signal.encode(), SignalGenerated.decode),
        SerdePath("raw fastavro (dict)", fastavro_encode, fastavro_decode),
        SerdePath("dataclasses-avroschema", lambda obj: obj.serialize(), model.deserialize),
        SerdePath(
            "confluent-kafka pair",
            lambda signal: serializer(signal, context),
            lambda data: deserializer(data, context),
        ),
    ]
    inputs = {
        "tradewire generated": signals,
        "raw fastavro (dict)": [deep_dict(s) for s in signals],
        "dataclasses-avroschema": [model.parse_obj(fastavro_decode(s.encode())) for s in signals],
        "confluent-kafka pair": signals,
    }
    for path in paths:  # same bytes everywhere, and everything warmed up (registry cached)
        sample = inputs[path.name][0]
        assert path.encode(sample)[-len(signals[0].encode()) :] == signals[0].encode(), path.name
        path.decode(path.encode(sample))
    return paths, inputs


def versions() -> str:
    names = ["fastavro", "dataclasses-avroschema", "confluent-kafka"]
    libs = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; {libs}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    options = parser.parse_args(argv)
    signals = seeded_signals(options.events)
    paths, inputs = build_paths(signals)
    for _ in range(options.rounds):  # interleaved, so every path sees the same machine noise
        for path in paths:
            measure(path, inputs[path.name])
    rows = {}
    for path in paths:
        rows[path.name] = {
            "encode_p50_us": percentile(path.encode_ns, 0.5),
            "encode_p99_us": percentile(path.encode_ns, 0.99),
            "decode_p50_us": percentile(path.decode_ns, 0.5),
            "decode_p99_us": percentile(path.decode_ns, 0.99),
            "encode_mean_us": statistics.fmean(path.encode_ns) / 1000,
            "decode_mean_us": statistics.fmean(path.decode_ns) / 1000,
        }
        rows[path.name]["round_trip_p50_us"] = rows[path.name]["encode_p50_us"] + rows[path.name]["decode_p50_us"]
    ours = rows["tradewire generated"]["round_trip_p50_us"]
    floor = rows["raw fastavro (dict)"]["round_trip_p50_us"]
    confluent = rows["confluent-kafka pair"]["round_trip_p50_us"]
    title = f"{SignalGenerated.__avro_name__}, {options.events} seeded events x {options.rounds} rounds"
    print(f"tradewire serde benchmark: {title}")
    print(versions())
    print()
    columns = ("path", "enc p50", "enc p99", "dec p50", "dec p99", "rt p50", "vs fastavro", "vs confluent")
    header = f"{columns[0]:<24}" + "".join(f"{c:>9}" for c in columns[1:6]) + f"{columns[6]:>13}{columns[7]:>14}"
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        round_trip = row["round_trip_p50_us"]
        figures = "".join(
            f"{row[key]:>9.2f}"
            for key in ("encode_p50_us", "encode_p99_us", "decode_p50_us", "decode_p99_us", "round_trip_p50_us")
        )
        print(f"{name:<24}{figures}{round_trip / floor:>12.2f}x{round_trip / confluent:>13.2f}x")
    print("(microseconds per event; ratios are round-trip time relative to the baseline, lower is faster)")
    speedup = confluent / ours
    versus_floor = ours / floor
    verdict = {True: "PASS", False: "FAIL"}
    print()
    print(
        f"generated round trip vs confluent-kafka pair: {speedup:.2f}x faster (target >= 2.0x): {verdict[speedup >= 2]}"
    )
    within = verdict[versus_floor <= 1.5]
    print(f"generated round trip vs raw fastavro: {versus_floor:.2f}x the time (target <= 1.5x): {within}")
    if options.json:
        options.json.write_text(
            json.dumps(
                {
                    "versions": versions(),
                    "rows": rows,
                    "speedup_vs_confluent": speedup,
                    "ratio_vs_fastavro": versus_floor,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
