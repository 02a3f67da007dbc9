"""Generated classes at run time: binary encoding equal to fastavro's, decoding, and contract checks."""

from __future__ import annotations

import dataclasses
import datetime
import io
import uuid
from decimal import Decimal
from typing import Any

import fastavro
import pytest

import showcase_contracts
from showcase_contracts.common import EventMetadata as ShowcaseMetadata
from showcase_contracts.showcase import EmptyNoted, EveryType, Link, Mood, Position
from tradewire import contracts
from tradewire.avro import binary
from tradewire.avro.record import Contract, parsed_schema
from tradewire.contracts import EventMetadata, OrderSide, SignalDirection, SignalGenerated
from tradewire.errors import ContractViolationError, DecodeError

EVENT_CLASSES = [*contracts.EVENTS, EventMetadata, EveryType, EmptyNoted, *showcase_contracts.EVENTS]


def fastavro_bytes(record: Contract) -> bytes:
    """The bytes fastavro's generic writer produces for a record."""
    return record.to_fastavro_bytes()


def fastavro_read(cls: type[Contract], data: bytes) -> Any:
    """The dict fastavro's generic reader produces."""
    return fastavro.schemaless_reader(
        io.BytesIO(data), parsed_schema(cls), None, return_record_name=True, return_record_name_override=True
    )


def a_signal(**changes: Any) -> SignalGenerated:
    """A valid trading signal, with `changes` applied."""
    now = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.UTC)
    values: dict[str, Any] = {
        "metadata": EventMetadata(
            event_id=uuid.UUID(int=1), correlation_id=uuid.UUID(int=2), produced_at=now, source_agent="ma-1"
        ),
        "symbol": "BTC-USD",
        "venue": "coinbase",
        "direction": SignalDirection.LONG,
        "strategy": "momentum",
        "model_version": "1",
        "confidence": Decimal("0.9500"),
        "reference_price": Decimal("50000.12"),
        "horizon_seconds": 60,
        "expires_at": now,
    }
    values.update(changes)
    return SignalGenerated(**values)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_generated_encoder_writes_exactly_what_fastavro_writes(cls: type[Contract], samples: Any) -> None:
    """For seeded random instances, encode() equals fastavro's bytes and both decoders agree."""
    for _ in range(60):
        record = samples.instance(cls)
        data = record.encode()
        assert fastavro_bytes(record) == data
        assert record == cls.decode(data)
        assert record == cls.from_avro(fastavro_read(cls, data))


def test_decoded_values_have_the_python_types_of_the_annotations(samples: Any) -> None:
    """Decoding gives enums, tuples, UTC datetimes and decimals, not raw fastavro values."""
    signal = a_signal(features={"rsi": Decimal("70.5")}, target_price=Decimal("51000"))
    decoded = SignalGenerated.decode(signal.encode())
    assert (SignalDirection.LONG, datetime.UTC, Decimal("51000.00000000")) == (
        decoded.direction,
        decoded.expires_at.tzinfo,
        decoded.target_price,
    )
    assert isinstance(decoded.direction, SignalDirection)
    every = samples.instance(EveryType)
    decoded_every = EveryType.decode(every.encode())
    assert isinstance(decoded_every.tags, tuple)
    assert isinstance(decoded_every.mood, Mood)


def test_partition_key_and_routing_come_from_the_schema() -> None:
    """An event knows its topic, subject and key without the caller naming them."""
    signal = a_signal(symbol="ETH-USD")
    assert ("trading.signals.generated", "trading.signals.generated-value", "symbol", "ETH-USD") == (
        signal.TOPIC,
        signal.SUBJECT,
        signal.KEY_FIELD,
        signal.partition_key(),
    )
    assert SignalGenerated is contracts.BY_TOPIC["trading.signals.generated"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reference_price": 50000.12}, "reference_price must be a decimal.Decimal .* not float"),
        ({"reference_price": Decimal("1.123456789")}, r"reference_price=1.123456789 has more than 8 decimal places"),
        ({"reference_price": Decimal("12345678901")}, r"reference_price=12345678901 has more than 10 digits"),
        ({"confidence": Decimal("NaN")}, "confidence must be a finite decimal"),
        ({"target_price": Decimal("0.000000001")}, "target_price=1E-9 has more than 8 decimal places"),
        ({"expires_at": datetime.datetime(2026, 1, 1)}, "expires_at must be a timezone-aware"),
        ({"features": {"rsi": 70.5}}, "features must be a decimal.Decimal"),
    ],
    ids=["float", "too-many-places", "too-many-digits", "nan", "optional-too-precise", "naive-datetime", "map-float"],
)
def test_contract_violations_are_refused_at_construction(changes: dict[str, Any], message: str) -> None:
    """A value that breaks the contract raises ContractViolationError naming the field."""
    with pytest.raises(ContractViolationError, match=message):
        a_signal(**changes)


def test_decimals_with_fewer_places_than_the_scale_are_accepted_and_encoded_exactly() -> None:
    """A price of 1.5 for a scale-8 field encodes as 1.50000000."""
    signal = a_signal(reference_price=Decimal("1.5"))
    assert Decimal("1.50000000") == SignalGenerated.decode(signal.encode()).reference_price


def test_defaults_are_never_shared_between_instances(samples: Any) -> None:
    """Map defaults are fresh per instance and array defaults are immutable tuples."""
    first, second = a_signal(), a_signal()
    assert first.features == second.features == {}
    assert first.features is not second.features
    every = EveryType(**{f.name: getattr(samples.instance(EveryType), f.name) for f in _required(EveryType)})
    assert (("a", "b"), {"x": 1}, ()) == (every.tags, every.counts, every.positions)
    assert isinstance(every.tags, tuple)


def _required(cls: type) -> list[dataclasses.Field[Any]]:
    return [
        f
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def test_python_keywords_are_renamed_but_keep_their_avro_names(samples: Any) -> None:
    """The field `class` is the attribute class_, and the symbol None is the member None_."""
    every = samples.instance(EveryType)
    assert "class" in every.to_avro()
    assert "None" == Mood.None_.value
    assert Mood.None_ == EveryType.decode(dataclasses.replace(every, mood=Mood.None_).encode()).mood


def test_recursive_records_round_trip(samples: Any) -> None:
    """A linked list of records encodes and decodes."""
    chain = Link(value=1, next=Link(value=2, next=Link(value=3)))
    assert chain == Link.from_avro(chain.to_avro())
    event = dataclasses.replace(samples.instance(EveryType), chain=chain)
    assert event == EveryType.decode(event.encode())


def test_truncated_data_is_a_decode_error_at_every_length() -> None:
    """Every strict prefix of a valid encoding raises DecodeError (never IndexError)."""
    data = a_signal(features={"rsi": Decimal("70.5")}).encode()
    for length in range(len(data)):
        with pytest.raises(DecodeError, match=r"not a valid tradewire.trading.SignalGenerated"):
            SignalGenerated.decode(data[:length])


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda data: data + b"\x00", "1 bytes left after the record"),
        (lambda data: b"\xff" * 11 + data, "varint longer than 10 bytes"),
        (lambda data: data[:1] + b"\xff\xfe" + data[3:], "codec can't decode|utf-8"),
    ],
    ids=["trailing-byte", "endless-varint", "invalid-utf8"],
)
def test_corrupt_data_is_a_decode_error(corrupt: Any, message: str) -> None:
    """Corrupt bytes raise DecodeError with a reason."""
    data = ShowcaseMetadata(
        event_id=uuid.UUID(int=5),
        correlation_id=uuid.UUID(int=6),
        produced_at=datetime.datetime.now(datetime.UTC),
        source_agent="x",
    ).encode()
    with pytest.raises(DecodeError, match=message):
        ShowcaseMetadata.decode(corrupt(data))


def test_union_branch_and_enum_index_out_of_range_are_decode_errors() -> None:
    """A union branch or enum symbol number that does not exist is refused."""
    data = bytearray()
    Position(quantity=Decimal("1"), venue=None).avro_write(data)
    data[-1] = 0x08  # branch 4 of a two-branch union
    with pytest.raises(DecodeError, match="union branch 4 does not exist"):
        Position.avro_read(bytes(data), 0)
    side_index = bytes([0x0A])  # symbol 5 of a three-symbol enum
    with pytest.raises(DecodeError, match="OrderSide has no symbol number 5"):
        binary.read_enum(side_index, 0, OrderSide)


def test_a_decimal_wider_than_its_precision_is_a_decode_error() -> None:
    """Bytes holding a decimal with more digits than the schema allows are refused."""
    buffer = bytearray()
    binary.write_bytes(buffer, (10**18).to_bytes(8, "big", signed=True))
    with pytest.raises(DecodeError, match="more than 18 digits"):
        binary.read_decimal(bytes(buffer), 0, 18, 8)


def test_a_block_count_the_data_cannot_hold_is_refused_without_looping() -> None:
    """An array claiming a billion items in a few bytes fails at once."""
    buffer = bytearray()
    binary.write_long(buffer, 10**9)
    with pytest.raises(DecodeError, match="cannot fit in the remaining data"):
        binary.read_count(bytes(buffer), 0, 1)
