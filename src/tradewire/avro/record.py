"""What every generated contract class is built on: base classes and value checks.

Generated classes are frozen, slotted dataclasses with specialised `to_avro` /
`from_avro` methods; this module gives them a common type, the value checks their
`__post_init__` calls, and schemaless Avro encoding through fastavro with the schema
parsed once per class (references resolved through the classes they name).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import io
import json
import os
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

import fastavro

from tradewire.avro.binary import unscaled_decimal
from tradewire.avro.markers import FixedSpec
from tradewire.errors import ContractViolationError, DecodeError

__all__ = [
    "AvroEnum",
    "Contract",
    "Event",
    "EventMetadataLike",
    "Record",
    "check_decimal",
    "check_fixed",
    "check_timestamp",
    "date_from_days",
    "decimal_from_bytes",
    "metadata_factory",
    "new_record",
    "parsed_schema",
    "set_field",
    "timestamp_from_micros",
    "union_from_avro",
    "union_to_avro",
]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_PARSED: dict[type[Any], Any] = {}
_MEMBERS: dict[type[Any], tuple[Any, ...]] = {}


class Record:
    """A generated record: a frozen dataclass that converts to and from fastavro dicts."""

    __slots__ = ()
    __avro_name__: ClassVar[str]
    __avro_source__: ClassVar[str]
    __avro_aliases__: ClassVar[tuple[str, ...]] = ()
    __avro_props__: ClassVar[Mapping[str, Any]] = {}

    def to_avro(self) -> dict[str, Any]:
        """This record as the dict fastavro writes."""
        raise NotImplementedError

    def avro_write(self, buffer: bytearray) -> None:
        """Append this record's Avro binary encoding to `buffer`."""
        raise NotImplementedError

    @classmethod
    def avro_read(cls, data: bytes, pos: int) -> tuple[Self, int]:
        """Read a record at `pos`; return it and the position after it."""
        raise NotImplementedError

    @classmethod
    def from_avro(cls, record: dict[str, Any]) -> Self:
        """Build the record from the dict fastavro reads."""
        raise NotImplementedError


class Contract(Record):
    """A record that is the top-level type of a schema file: it has a schema and a subject."""

    __slots__ = ()
    __avro_schema__: ClassVar[str]
    __avro_fingerprint__: ClassVar[str]
    __avro_references__: ClassVar[tuple[type[Contract] | type[AvroEnum] | FixedSpec, ...]] = ()
    SUBJECT: ClassVar[str]

    def encode(self) -> bytes:
        """Schemaless Avro binary of this record (no registry framing)."""
        buffer = bytearray()
        self.avro_write(buffer)
        return bytes(buffer)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Read a record written with exactly this schema (schemaless Avro binary).

        Raises DecodeError, naming the type, for truncated, corrupt or trailing data and
        for values that break the contract (a decimal with too many digits).
        """
        try:
            record, end = cls.avro_read(data, 0)
        except DecodeError as error:
            raise DecodeError(f"not a valid {cls.__avro_name__}: {error}") from error
        except IndexError:
            raise DecodeError(f"not a valid {cls.__avro_name__}: the data ends early ({len(data)} bytes)") from None
        except (ContractViolationError, UnicodeDecodeError, ValueError, OverflowError) as error:
            raise DecodeError(f"not a valid {cls.__avro_name__}: {error}") from error
        if end != len(data):
            raise DecodeError(f"not a valid {cls.__avro_name__}: {len(data) - end} bytes left after the record")
        return record

    def to_fastavro_bytes(self) -> bytes:
        """The same binary through fastavro's generic writer (for checks and benchmarks)."""
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed_schema(type(self)), self.to_avro())
        return buffer.getvalue()


class Event(Contract):
    """A contract with a topic and a partition key: what agents send and handle."""

    __slots__ = ()
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]
    if TYPE_CHECKING:
        metadata: EventMetadataLike

    def partition_key(self) -> str:
        """The value of the key field as the string Kafka partitions by."""
        raise NotImplementedError


class EventMetadataLike(Protocol):
    """What the runtime reads from an event's shared metadata record."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def correlation_id(self) -> uuid.UUID: ...
    @property
    def causation_id(self) -> uuid.UUID | None: ...
    @property
    def produced_at(self) -> datetime.datetime: ...
    @property
    def source_agent(self) -> str: ...
    @property
    def traceparent(self) -> str | None: ...


class AvroEnum(enum.StrEnum):
    """A generated enum: members are the Avro symbols, their values the symbol strings.

    `avro_index` is a member's position in the schema, which the binary encoding uses.
    """

    __avro_name__: ClassVar[str]
    __avro_source__: ClassVar[str]
    __avro_default__: ClassVar[str | None]
    __avro_schema__: ClassVar[str]  # set on enums that are the top-level type of a schema file
    __avro_fingerprint__: ClassVar[str]
    avro_index: int

    def __init__(self, *args: object) -> None:
        self.avro_index = len(type(self)._member_names_)

    @classmethod
    def by_index(cls) -> tuple[Self, ...]:
        """Members in schema order (cached)."""
        members = _MEMBERS.get(cls)
        if members is None:
            members = _MEMBERS[cls] = tuple(cls)
        return members


def parsed_schema(cls: type[Any]) -> Any:
    """The fastavro-parsed schema of a contract class, its references parsed first (cached)."""
    cached = _PARSED.get(cls)
    if cached is not None:
        return cached
    named: dict[str, Any] = {}
    seen: set[Any] = set()

    def parse(contract: Any) -> Any:
        if isinstance(contract, FixedSpec):
            return fastavro.parse_schema(contract.schema(), named_schemas=named)
        for reference in contract.__avro_references__ if issubclass(contract, Contract) else ():
            if reference not in seen:
                seen.add(reference)
                parse(reference)
        return fastavro.parse_schema(json.loads(contract.__avro_schema__), named_schemas=named)

    parsed = _PARSED[cls] = parse(cls)
    return parsed


new_record = object.__new__
"""Allocate a record without running `__init__` (decoders set fields already validated)."""

set_field = object.__setattr__
"""Set a field of a frozen record being decoded."""


def metadata_factory(cls: type[Any]) -> Callable[[], Any]:
    """The default factory of an event's `metadata` field: a fresh event id, the event as
    the root of its own chain, produced now; the producer stamps the rest when it sends."""

    def fresh() -> Any:
        event_id = uuid.uuid4()
        return cls(
            event_id=event_id,
            correlation_id=event_id,
            produced_at=datetime.datetime.now(datetime.UTC),
            source_agent=os.environ.get("TRADEWIRE_AGENT", "unstamped"),
        )

    return fresh


def check_decimal(value: Any, precision: int, scale: int, name: str) -> None:
    """Refuse a value that is not a Decimal fitting `precision` digits with `scale` decimals."""
    unscaled_decimal(value, precision, scale, name)


def check_timestamp(value: Any, name: str) -> None:
    """Refuse a naive datetime: an instant must say it is UTC (or another zone)."""
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise ContractViolationError(f"{name} must be a timezone-aware datetime.datetime, not {value!r}")


def check_fixed(value: Any, size: int, name: str) -> None:
    """Refuse bytes of the wrong length for a fixed type."""
    if not isinstance(value, bytes) or len(value) != size:
        raise ContractViolationError(f"{name} must be exactly {size} bytes")


def union_to_avro(value: Any) -> Any:
    """Convert a value for a union with several record branches (fastavro's `(name, dict)` notation)."""
    if isinstance(value, Record):
        return (value.__avro_name__, value.to_avro())
    return value


def union_from_avro(value: Any, records: Mapping[str, type[Record]]) -> Any:
    """Convert a value read from a union with several record branches (`(name, dict)` tuples)."""
    if isinstance(value, tuple):
        return records[value[0]].from_avro(value[1])
    if isinstance(value, dict) and len(records) == 1:
        return next(iter(records.values())).from_avro(value)
    return value


def timestamp_from_micros(micros: int) -> datetime.datetime:
    """The UTC instant `micros` microseconds after the epoch (for defaults)."""
    return _EPOCH + datetime.timedelta(microseconds=micros)


def date_from_days(days: int) -> datetime.date:
    """The date `days` days after 1970-01-01 (for defaults)."""
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=days)


def decimal_from_bytes(raw: str, scale: int) -> decimal.Decimal:
    """The decimal an Avro JSON default encodes (big-endian two's complement, ISO-8859-1 string)."""
    unscaled = int.from_bytes(raw.encode("latin-1"), "big", signed=True)
    return decimal.Decimal(unscaled).scaleb(-scale)
