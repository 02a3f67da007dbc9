"""Type annotations that say which Avro type a Python type stands for.

Generated contracts use them where a Python type alone is ambiguous: `int` is an Avro
`long` unless marked `Int32`; `float` is a `double` unless marked `Float32`; a decimal
needs its precision and scale. `tradewire.avro.reflect` reads them back to rebuild the
schema from a class, which is how the generator's output is checked against its source.
"""

from __future__ import annotations

import datetime
import typing
from dataclasses import dataclass
from typing import Annotated, Any, TypeAlias

__all__ = [
    "AvroPrimitive",
    "AvroProps",
    "DecimalSpec",
    "FixedSpec",
    "Float32",
    "Int32",
    "LocalTimestampMicros",
    "LocalTimestampMillis",
    "LogicalType",
    "TimeMillis",
    "TimestampMillis",
    "fixed_spec",
]


@dataclass(frozen=True, slots=True)
class AvroPrimitive:
    """The Avro primitive a Python type stands for, when it is not the default one."""

    name: str


@dataclass(frozen=True, slots=True)
class LogicalType:
    """The Avro logical type a Python type stands for, when it is not the default one."""

    name: str


@dataclass(frozen=True, slots=True)
class DecimalSpec:
    """Precision and scale of a decimal; values with more digits are refused."""

    precision: int
    scale: int


@dataclass(frozen=True, slots=True)
class FixedSpec:
    """A named Avro `fixed` type: bytes of exactly `size` bytes (or a decimal stored in them).

    `props` holds its other schema attributes (a logical type and its parameters included).
    """

    fullname: str
    size: int
    source: str
    doc: str | None = None
    aliases: tuple[str, ...] = ()
    props: tuple[tuple[str, Any], ...] = ()

    def schema(self) -> dict[str, Any]:
        """The standalone schema of this fixed type."""
        space, _, name = self.fullname.rpartition(".")
        out: dict[str, Any] = {"type": "fixed", "name": name, "namespace": space}
        if self.doc is not None:
            out["doc"] = self.doc
        out["size"] = self.size
        out.update(self.props)
        if self.aliases:
            out["aliases"] = list(self.aliases)
        return out


def fixed_spec(alias: Any) -> FixedSpec:
    """The FixedSpec inside the `Annotated` alias of a generated fixed type."""
    for marker in typing.get_args(alias)[1:]:
        if isinstance(marker, FixedSpec):
            return marker
    raise TypeError(f"{alias!r} is not a generated fixed type")


@dataclass(frozen=True, slots=True)
class AvroProps:
    """Extra schema attributes (other than logical-type ones) carried by a type."""

    items: tuple[tuple[str, Any], ...]


Int32: TypeAlias = Annotated[int, AvroPrimitive("int")]
Float32: TypeAlias = Annotated[float, AvroPrimitive("float")]
TimestampMillis: TypeAlias = Annotated[datetime.datetime, LogicalType("timestamp-millis")]
LocalTimestampMicros: TypeAlias = Annotated[datetime.datetime, LogicalType("local-timestamp-micros")]
LocalTimestampMillis: TypeAlias = Annotated[datetime.datetime, LogicalType("local-timestamp-millis")]
TimeMillis: TypeAlias = Annotated[datetime.time, LogicalType("time-millis")]
