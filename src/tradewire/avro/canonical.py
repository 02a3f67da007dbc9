"""Schema forms: the normalised JSON we store and register, the expanded form, fingerprints.

* `to_json(node, expand=False)` writes a schema as a Confluent registry stores it: compact,
  keys in Avro Java's `Schema.toString()` order, named types from other files referenced
  by name (they become schema references), each named type of this file defined once.
* `to_json(node, expand=True)` inlines every named type at its first use, which gives a
  self-contained schema for fastavro, the Apache checker and fingerprints.
* `fingerprint(node)` is the CRC-64-AVRO of the Parsing Canonical Form of the expanded schema.
"""

from __future__ import annotations

import json
from typing import Any

from fastavro.schema import fingerprint as _fastavro_fingerprint

from tradewire.avro.model import (
    Array,
    AvroType,
    Enum,
    Field,
    Fixed,
    Map,
    Named,
    Primitive,
    Record,
    Ref,
    Union,
)

__all__ = ["dumps", "fingerprint", "parsing_canonical_form", "to_json"]


def dumps(value: Any) -> str:
    """Compact JSON text, the way the registry stores schemas."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_json(node: AvroType, *, expand: bool = False) -> Any:
    """Return the JSON value of `node` (see the module docstring for the two forms)."""
    return _Writer(node.origin.file, expand).write(node, "")


def parsing_canonical_form(node: AvroType) -> str:
    """The Avro specification's Parsing Canonical Form (full names, only the attributes
    that matter for parsing, in the specified order, no whitespace)."""
    return dumps(_pcf(node, set()))


def fingerprint(node: AvroType) -> str:
    """CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical Form, as 16 hex digits."""
    result: str = _fastavro_fingerprint(parsing_canonical_form(node), "CRC-64-AVRO")
    return result


class _Writer:
    def __init__(self, home_file: str, expand: bool) -> None:
        self.home_file = home_file
        self.expand = expand
        self.written: set[str] = set()

    def write(self, node: AvroType, namespace: str) -> Any:
        if isinstance(node, Ref):
            target = node.target
            if target.fullname in self.written or not (self.expand or target.origin.file == self.home_file):
                return self.reference(target, namespace)
            return self.named(target, namespace)
        if isinstance(node, Named):
            if node.fullname in self.written:
                return self.reference(node, namespace)
            return self.named(node, namespace)
        if isinstance(node, Primitive):
            if not node.props:
                return node.name
            return {"type": node.name, **node.props}
        if isinstance(node, Array):
            return {"type": "array", "items": self.write(node.items, namespace), **node.props}
        if isinstance(node, Map):
            return {"type": "map", "values": self.write(node.values, namespace), **node.props}
        if isinstance(node, Union):
            return [self.write(branch, namespace) for branch in node.branches]
        raise TypeError(f"unknown schema node {node!r}")

    def reference(self, target: Named, namespace: str) -> str:
        return target.name if target.namespace == namespace and namespace else target.fullname

    def named(self, node: Named, namespace: str) -> dict[str, Any]:
        self.written.add(node.fullname)
        out: dict[str, Any] = {"type": node.type_name, "name": node.name}
        if isinstance(node, Record) and node.is_error:
            out["type"] = "error"
        if node.namespace != namespace:
            out["namespace"] = node.namespace
        if node.doc is not None:
            out["doc"] = node.doc
        if isinstance(node, Record):
            out["fields"] = [self.field(item, node.namespace) for item in node.fields]
        elif isinstance(node, Enum):
            out["symbols"] = list(node.symbols)
        elif isinstance(node, Fixed):
            out["size"] = node.size
        out.update(node.props)
        if node.aliases:
            # Java writes aliases relative to the namespace; the expanded form (read by fastavro and
            # the Apache Python checker, which only match full names) keeps them fully qualified
            out["aliases"] = list(node.aliases) if self.expand else [_relative(a, node.namespace) for a in node.aliases]
        if isinstance(node, Enum) and node.default is not None:
            out["default"] = node.default
        return out

    def field(self, item: Field, namespace: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": item.name, "type": self.write(item.type, namespace)}
        if item.doc is not None:
            out["doc"] = item.doc
        if item.has_default:
            out["default"] = item.default
        if item.order != "ascending":
            out["order"] = item.order
        if item.aliases:
            out["aliases"] = list(item.aliases)
        out.update(item.props)
        return out


def _relative(fullname: str, namespace: str) -> str:
    space, _, name = fullname.rpartition(".")
    return name if space == namespace else fullname


def _pcf(node: AvroType, written: set[str]) -> Any:
    if isinstance(node, Ref):
        node = node.target
    if isinstance(node, Primitive):
        return node.name
    if isinstance(node, Array):
        return {"type": "array", "items": _pcf(node.items, written)}
    if isinstance(node, Map):
        return {"type": "map", "values": _pcf(node.values, written)}
    if isinstance(node, Union):
        return [_pcf(branch, written) for branch in node.branches]
    if isinstance(node, Named):
        if node.fullname in written:
            return node.fullname
        written.add(node.fullname)
        out: dict[str, Any] = {"name": node.fullname, "type": node.type_name}
        if isinstance(node, Record):
            out["fields"] = [{"name": f.name, "type": _pcf(f.type, written)} for f in node.fields]
        elif isinstance(node, Enum):
            out["symbols"] = list(node.symbols)
        elif isinstance(node, Fixed):
            out["size"] = node.size
        return out
    raise TypeError(f"unknown schema node {node!r}")
