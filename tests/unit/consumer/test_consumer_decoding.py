"""Decoding untrusted bytes: any framed record either becomes an event or is poison (`DecodeFailure`);
nothing else escapes to the consumer's loop, and nothing kills the process."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import textwrap
from collections import Counter
from typing import Any

import fastavro
import pytest

from conftest import SampleFactory
from tradewire.avro.record import Event
from tradewire.contracts import EVENTS, SignalGenerated
from tradewire.errors import RegistryUnavailableError
from tradewire.serde.deserializer import DecodeFailure, EventDeserializer, reader_schema
from tradewire.serde.wire import frame

EXTRA_FIELD = {"name": "zz_added_later", "type": ["null", "long"], "default": None}
"""What a newer writer version added: its records take fastavro's schema-resolution path."""


class SchemasById:
    """A registry that knows schemas by id (and answers `answer` instead, when set)."""

    def __init__(self) -> None:
        self.texts: dict[int, str] = {}
        self.answer: Any = None

    def schema_by_id(self, schema_id: int) -> tuple[str, tuple[()]]:
        if self.answer is not None:
            return self.answer  # type: ignore[no-any-return]
        return self.texts[schema_id], ()


def with_extra_field(cls: type[Event], *fields: dict[str, Any]) -> dict[str, Any]:
    """The expanded schema of `cls` with `fields` appended (a compatible newer version)."""
    schema: dict[str, Any] = json.loads(reader_schema(cls))
    schema["fields"] = [*schema["fields"], *fields]
    return schema


def fastavro_body(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    """`record` written with `schema` by fastavro."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), record)
    return buffer.getvalue()


def mutate(body: bytes, rng: random.Random) -> bytes:
    """`body` truncated, with bytes overwritten, inserted (long varint runs), appended or a bit flipped."""
    data = bytearray(body)
    operation = rng.randrange(5)
    if operation == 0:
        return bytes(data[: rng.randrange(len(data) + 1)])
    if operation == 1 and data:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif operation == 2:
        at = rng.randrange(len(data) + 1)
        data[at:at] = bytes([rng.choice([0xFF, 0x7F, 0x80, 0x01, 0xFE])] * rng.randrange(1, 12))
    elif operation == 3:
        data += rng.randbytes(rng.randrange(1, 9))
    elif data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def test_fuzzed_events_of_every_contract_either_decode_or_are_poison(samples: SampleFactory) -> None:
    """Seeded truncations and mutations of valid framed events of every contract, through the generated
    decoder (writer = reader) and through fastavro's resolution (a newer writer): each decodes or raises
    DecodeFailure; no other exception (OverflowError, InvalidOperation, ...) escapes."""
    registry = SchemasById()
    deserializer = EventDeserializer(registry, EVENTS)  # type: ignore[arg-type]
    rng = random.Random(20261201)
    escaped: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for index, cls in enumerate(EVENTS):
        same_id, newer_id = 1 + index, 1000 + index
        newer = with_extra_field(cls, EXTRA_FIELD)
        registry.texts[same_id], registry.texts[newer_id] = reader_schema(cls), json.dumps(newer)
        for _ in range(24):
            event = samples.instance(cls)
            bodies = {same_id: event.encode(), newer_id: fastavro_body(newer, {**event.to_avro(), "zz_added_later": 5})}
            for schema_id, body in bodies.items():
                for _ in range(60):
                    try:
                        deserializer(frame(schema_id, mutate(body, rng)), cls.TOPIC)
                    except DecodeFailure:
                        outcomes["poison"] += 1
                    except Exception as error:  # what the test looks for: anything else is a crash of the loop
                        escaped[f"{cls.__name__}: {type(error).__name__}"] += 1
                    else:
                        outcomes["decoded"] += 1
    assert {} == dict(escaped)
    assert outcomes["poison"] > 0 and outcomes["decoded"] > 0


def test_a_timestamp_no_datetime_can_hold_is_poison() -> None:
    """A newer writer's record whose produced_at is 2**62 µs after the epoch (past year 9999) is poison
    (undecodable), not the OverflowError fastavro raises."""
    registry = SchemasById()
    newer = with_extra_field(SignalGenerated, EXTRA_FIELD)
    registry.texts[7] = json.dumps(newer)
    record = SampleFactory(1).instance(SignalGenerated).to_avro()
    record["metadata"]["produced_at"] = 2**62
    body = fastavro_body(newer, {**record, "zz_added_later": None})
    with pytest.raises(DecodeFailure, match=r"^7: OverflowError: ") as caught:
        EventDeserializer(registry, EVENTS)(frame(7, body), SignalGenerated.TOPIC)  # type: ignore[arg-type]
    assert "undecodable" == caught.value.reason


def test_an_answer_from_the_registry_that_is_not_a_schema_means_the_registry_is_unavailable() -> None:
    """A registry (or a proxy in front of it) answering something that is not a schema makes the record wait
    for the registry (RegistryUnavailableError), neither poison nor a crash."""
    registry = SchemasById()
    registry.answer = {"error": "<html>bad gateway</html>"}
    body = SampleFactory(2).instance(SignalGenerated).encode()
    with pytest.raises(RegistryUnavailableError, match=r"answer for schema id 9 is not a schema: ValueError: "):
        EventDeserializer(registry, EVENTS)(frame(9, body), SignalGenerated.TOPIC)  # type: ignore[arg-type]


NESTED = textwrap.dedent(
    """
    import json, sys
    sys.path[:0] = {paths!r}
    from test_consumer_decoding import SchemasById, fastavro_body, with_extra_field, LINKED
    from conftest import SampleFactory
    from tradewire.contracts import EVENTS, SignalGenerated
    from tradewire.serde.deserializer import DecodeFailure, EventDeserializer
    from tradewire.serde.wire import frame

    registry = SchemasById()
    newer = with_extra_field(SignalGenerated, LINKED)
    registry.texts[3] = json.dumps(newer)
    body = fastavro_body(newer, {{**SampleFactory(3).instance(SignalGenerated).to_avro(), "zz_chain": None}})
    nested = body[:-1] + b"\\x02" * {depth} + b"\\x00"  # the last field: a chain {depth} links deep
    try:
        EventDeserializer(registry, EVENTS)(frame(3, nested), SignalGenerated.TOPIC)
    except DecodeFailure as failure:
        print(failure.reason, str(failure).split(":")[1].strip())
    """
)

LINKED = {
    "name": "zz_chain",
    "type": ["null", {"type": "record", "name": "Link", "fields": [{"name": "next", "type": ["null", "Link"]}]}],
    "default": None,
}
"""A recursive field a newer writer added: a linked list."""


def test_deeply_nested_data_of_a_recursive_writer_schema_is_poison_and_does_not_kill_the_process() -> None:
    """A newer writer schema with a recursive type, and a record nesting it 100 000 deep (one byte a level):
    poison (RecursionError), where fastavro's compiled reader would overflow the C stack and kill the
    consumer's process on every restart. Run in a child process, so that a crash is a failure here."""
    paths = [str(path) for path in (__import__("pathlib").Path(__file__).parent, *sys.path)]
    script = NESTED.format(paths=paths, depth=100_000)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert (0, "undecodable RecursionError\n") == (completed.returncode, completed.stdout), completed.stderr
