"""Rebuild an Avro schema from a generated Python class: the class -> schema direction.

The generator turns schemas into classes; this module turns classes back into schemas
using only what Python sees (type hints, `Annotated` markers, dataclass fields and
defaults, docstrings). Tests require `schema_of(cls)` to equal the source schema, which
proves the generated types, defaults and docs say exactly what the contract says.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import inspect
import types
import typing
import uuid
from typing import Any

from tradewire.avro.markers import AvroPrimitive, AvroProps, DecimalSpec, FixedSpec, LogicalType
from tradewire.avro.record import AvroEnum, Record

__all__ = ["schema_of"]

_NONE = type(None)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def schema_of(cls: type[Record] | type[AvroEnum]) -> Any:
    """The schema JSON value of a generated record or enum class, as its file would hold it."""
    return _Reflector(cls.__avro_source__).named(cls, "")


def _doc(cls: type[Any]) -> str | None:
    if "__avro_doc__" in cls.__dict__:
        value: str | None = cls.__dict__["__avro_doc__"]
        return value
    return inspect.cleandoc(cls.__doc__) if cls.__doc__ else None


def _relative(fullname: str, namespace: str) -> str:
    space, _, name = fullname.rpartition(".")
    return name if space == namespace and namespace else fullname


class _Reflector:
    def __init__(self, home: str) -> None:
        self.home = home
        self.written: set[str] = set()

    def named(self, cls: type[Any], namespace: str) -> Any:
        fullname: str = cls.__avro_name__
        if fullname in self.written or cls.__avro_source__ != self.home:
            return _relative(fullname, namespace)
        self.written.add(fullname)
        space, _, name = fullname.rpartition(".")
        kind = "enum" if issubclass(cls, enum.Enum) else "record"
        out: dict[str, Any] = {"type": kind, "name": name}
        if space != namespace:
            out["namespace"] = space
        doc = _doc(cls)
        if doc is not None:
            out["doc"] = doc
        if kind == "record":
            hints = typing.get_type_hints(cls, include_extras=True)
            out["fields"] = [self.field(item, hints[item.name], space) for item in dataclasses.fields(cls)]
        else:
            out["symbols"] = [member.value for member in cls]
        out.update(getattr(cls, "__avro_props__", {}))
        if cls.__avro_aliases__ if hasattr(cls, "__avro_aliases__") else ():
            out["aliases"] = [_relative(alias, space) for alias in cls.__avro_aliases__]
        if kind == "enum" and cls.__avro_default__ is not None:
            out["default"] = cls.__avro_default__
        return out

    def field(self, item: dataclasses.Field[Any], hint: Any, namespace: str) -> dict[str, Any]:
        meta = item.metadata
        out: dict[str, Any] = {"name": meta.get("avro_name", item.name), "type": self.type(hint, namespace)}
        if "doc" in meta:
            out["doc"] = meta["doc"]
        if meta.get("runtime_default"):
            pass  # filled in at run time (an event's metadata), not a schema default
        elif item.default is not dataclasses.MISSING:
            out["default"] = _json_default(item.default, hint)
        elif item.default_factory is not dataclasses.MISSING:
            out["default"] = _json_default(item.default_factory(), hint)
        if meta.get("order", "ascending") != "ascending":
            out["order"] = meta["order"]
        if meta.get("aliases"):
            out["aliases"] = list(meta["aliases"])
        out.update(meta.get("props", {}))
        return out

    def type(self, hint: Any, namespace: str) -> Any:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            base, *markers = typing.get_args(hint)
            return self.annotated(base, markers, namespace)
        if origin in (typing.Union, types.UnionType):
            return [self.type(branch, namespace) for branch in typing.get_args(hint)]
        if origin is tuple or origin is list:
            return {"type": "array", "items": self.type(typing.get_args(hint)[0], namespace)}
        if origin is dict:
            return {"type": "map", "values": self.type(typing.get_args(hint)[1], namespace)}
        if hint is None or hint is _NONE:
            return "null"
        if isinstance(hint, type) and (issubclass(hint, Record) or issubclass(hint, AvroEnum)):
            return self.named(hint, namespace)
        simple = {
            bool: "boolean",
            int: "long",
            float: "double",
            str: "string",
            bytes: "bytes",
        }.get(hint)
        if simple is not None:
            return simple
        logical = {
            uuid.UUID: ("string", "uuid"),
            datetime.datetime: ("long", "timestamp-micros"),
            datetime.date: ("int", "date"),
            datetime.time: ("long", "time-micros"),
        }.get(hint)
        if logical is not None:
            return {"type": logical[0], "logicalType": logical[1]}
        raise TypeError(f"no Avro type for Python type {hint!r}")

    def annotated(self, base: Any, markers: list[Any], namespace: str) -> Any:
        fixed = next((m for m in markers if isinstance(m, FixedSpec)), None)
        spec = next((m for m in markers if isinstance(m, DecimalSpec)), None)
        primitive = next((m for m in markers if isinstance(m, AvroPrimitive)), None)
        logical = next((m for m in markers if isinstance(m, LogicalType)), None)
        extra = next((m for m in markers if isinstance(m, AvroProps)), None)
        props: dict[str, Any] = {}
        if spec is not None:
            props = {"logicalType": "decimal", "precision": spec.precision, "scale": spec.scale}
        elif logical is not None:
            props = {"logicalType": logical.name}
        if extra is not None:
            props.update(extra.items)
        if fixed is not None:
            return self.fixed(fixed, namespace)
        if primitive is not None:
            name = primitive.name
        elif spec is not None:
            name = "bytes"
        elif logical is not None:
            name = "int" if logical.name in ("time-millis", "date") else "long"
        else:
            plain = self.type(base, namespace)
            if not props:
                return plain
            if isinstance(plain, dict):
                return {**plain, **props}
            name = plain
        return {"type": name, **props} if props else name

    def fixed(self, fixed: FixedSpec, namespace: str) -> Any:
        if fixed.fullname in self.written or fixed.source != self.home:
            return _relative(fixed.fullname, namespace)
        self.written.add(fixed.fullname)
        space, _, name = fixed.fullname.rpartition(".")
        out: dict[str, Any] = {"type": "fixed", "name": name}
        if space != namespace:
            out["namespace"] = space
        if fixed.doc is not None:
            out["doc"] = fixed.doc
        out["size"] = fixed.size
        out.update(fixed.props)
        if fixed.aliases:
            out["aliases"] = [_relative(alias, space) for alias in fixed.aliases]
        return out


def _json_default(value: Any, hint: Any) -> Any:
    """The JSON form of a Python default, as the schema states it."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = typing.get_args(hint)[0]
    spec = None
    if typing.get_origin(hint) is typing.Annotated:
        spec = next((m for m in typing.get_args(hint)[1:] if isinstance(m, DecimalSpec)), None)
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        item_hint = typing.get_args(typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint)
        return [_json_default(item, item_hint[0] if item_hint else Any) for item in value]
    if isinstance(value, dict):
        args = typing.get_args(hint)
        return {key: _json_default(item, args[1] if len(args) == 2 else Any) for key, item in value.items()}
    if isinstance(value, decimal.Decimal) and spec is not None:
        unscaled = int(value.scaleb(spec.scale))
        length = max(1, (unscaled.bit_length() + 8) // 8)
        return unscaled.to_bytes(length, "big", signed=True).decode("latin-1")
    if isinstance(value, datetime.datetime):
        return (value - _EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(value, datetime.date):
        return (value - datetime.date(1970, 1, 1)).days
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, Record):
        return value.to_avro()
    raise TypeError(f"cannot express default {value!r} in JSON")
