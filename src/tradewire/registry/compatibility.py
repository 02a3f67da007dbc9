"""Confluent's seven compatibility levels over Avro Java's reader/writer rules, with its verbose messages.

* BACKWARD: the new schema reads data written with the old one (reader = new, writer = old).
* FORWARD: the old schema reads data written with the new one (reader = old, writer = new).
* FULL: both. NONE: nothing is checked.
* Plain levels check the latest live version only; `_TRANSITIVE` levels check every live
  (not soft-deleted) version, newest first, and stop at the first that fails, reporting
  only its messages (Confluent's `SchemaValidatorBuilder.validateAll`).

Messages have Confluent's shape: per incompatibility
`{errorType:'…', description:'…', additionalInfo:'…'}` (Confluent's `Difference`, with
"new"/"old" in the places its format string puts them), then `{oldSchemaVersion: N}` and
`{oldSchema: '…'}`, and finally `{validateFields: 'false', compatibility: 'LEVEL'}`. For
FULL the forward messages come first and the old schema is appended only after backward
messages, as in Confluent. Paths are JSON pointers into the reader's schema.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from tradewire.avro.compat import Incompatibility, Kind, check_compatibility
from tradewire.avro.model import Array, AvroType, Map, Origin, Record, Ref, Union, deref
from tradewire.registry import codes
from tradewire.registry.records import AVRO

__all__ = ["CompatibilityLevel", "PreviousSchema", "check", "parse_level", "versions_to_check"]

_T = TypeVar("_T")
_MAX_OLD_SCHEMA_CHARS = 10 * 1024
_UNEXPECTED = "Unexpected exception during compatibility check"


class CompatibilityLevel(enum.StrEnum):
    """A Confluent compatibility level."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        """Whether every live version is checked, not only the latest."""
        return self.name.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """Whether the new schema must read the old schemas' data."""
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """Whether the old schemas must read the new schema's data."""
        return self.name.startswith(("FORWARD", "FULL"))


def parse_level(value: object) -> CompatibilityLevel:
    """A level from its name, in any case; 42203 for anything else."""
    if isinstance(value, str):
        try:
            return CompatibilityLevel(value.strip().upper())
        except ValueError:
            pass
    raise codes.invalid_compatibility_level()


@dataclass(frozen=True, slots=True)
class PreviousSchema:
    """A registered version to check against; `node` is `None` when it is not a usable Avro schema."""

    version: int
    schema: str
    node: AvroType | None
    schema_type: str = AVRO
    problem: str = ""


def versions_to_check(level: CompatibilityLevel, live_versions: Sequence[_T]) -> list[_T]:
    """Which of the live versions (oldest first) a level checks, in the order it checks them."""
    if level is CompatibilityLevel.NONE:
        return []
    newest_first = list(reversed(live_versions))
    return newest_first if level.transitive else newest_first[:1]


def check(
    level: CompatibilityLevel,
    new: AvroType,
    previous: Sequence[PreviousSchema],
    *,
    validate_fields: bool = False,
) -> list[str]:
    """Messages of the first previous schema (in the given order) `new` is incompatible with; [] if none."""
    if level is CompatibilityLevel.NONE:
        return []
    for old in previous:
        messages = _check_one(level, new, old)
        if messages:
            messages.append(f"{{validateFields: '{str(validate_fields).lower()}', compatibility: '{level}'}}")
            return messages
    return []


def _check_one(level: CompatibilityLevel, new: AvroType, old: PreviousSchema) -> list[str]:
    messages: list[str] = []
    if level.forward:
        messages.extend(_direction(old, new, reader_is_new=False, append_old=not level.backward))
    if level.backward:
        messages.extend(_direction(old, new, reader_is_new=True, append_old=True))
    return messages


def _direction(old: PreviousSchema, new: AvroType, *, reader_is_new: bool, append_old: bool) -> list[str]:
    reader_label, writer_label = ("new", "old") if reader_is_new else ("old", "new")
    if old.schema_type != AVRO:
        messages = ["Incompatible because of different schema type"]
    elif old.node is None:
        messages = [f"{_UNEXPECTED}: {old.problem}"]
    else:
        reader, writer = (new, old.node) if reader_is_new else (old.node, new)
        messages = _differences(reader, writer, reader_label, writer_label)
    if messages and append_old:
        messages.append(f"{{oldSchemaVersion: {old.version}}}")
        if len(old.schema) <= _MAX_OLD_SCHEMA_CHARS:
            messages.append(f"{{oldSchema: '{old.schema}'}}")
        else:
            truncated = old.schema[:_MAX_OLD_SCHEMA_CHARS]
            messages.append(f"{{oldSchema: <truncated to {_MAX_OLD_SCHEMA_CHARS} characters> '{truncated}'}}")
    return messages


def _differences(reader: AvroType, writer: AvroType, reader_label: str, writer_label: str) -> list[str]:
    found = check_compatibility(reader, writer)
    for incompatibility in found:
        if incompatibility.kind is Kind.AMBIGUOUS_FIELD_ALIAS:
            # Avro Java throws here; Confluent reports the exception instead of the differences.
            return [
                f"{_UNEXPECTED}: Reader record field {incompatibility.subject} matches multiple fields "
                "in writer record schema"
            ]
    nodes = _Nodes(_index(reader), _index(writer))
    return [_difference(item, nodes, reader_label, writer_label) for item in found]


@dataclass(frozen=True, slots=True)
class _Nodes:
    reader: dict[Origin, AvroType]
    writer: dict[Origin, AvroType]


def _difference(item: Incompatibility, nodes: _Nodes, reader_label: str, writer_label: str) -> str:
    path = item.reader.pointer or "/"
    info = _additional_info(item, nodes)
    descriptions = {
        Kind.FIXED_SIZE_MISMATCH: f"The size of FIXED type field at path '{path}' in the {reader_label} "
        f"schema does not match with the {writer_label} schema",
        Kind.TYPE_MISMATCH: f"The type (path '{path}') of a field in the {reader_label} schema does "
        f"not match with the {writer_label} schema",
        Kind.NAME_MISMATCH: f"The name of the schema has changed (path '{path}')",
        Kind.MISSING_ENUM_SYMBOLS: f"The {reader_label} schema is missing enum symbols '{info}' at path "
        f"'{path}' in the {writer_label} schema",
        Kind.MISSING_UNION_BRANCH: f"The {reader_label} schema is missing a type inside a union field at "
        f"path '{path}' in the {writer_label} schema",
        Kind.READER_FIELD_MISSING_DEFAULT_VALUE: f"The field '{info}' at path '{path}' in the "
        f"{reader_label} schema has no default value and is missing in the {writer_label} schema",
    }
    return f"{{errorType:'{item.kind}', description:'{descriptions.get(item.kind, '')}', additionalInfo:'{info}'}}"


def _additional_info(item: Incompatibility, nodes: _Nodes) -> str:
    """Avro Java's incompatibility message (`Incompatibility.getMessage()`)."""
    if item.kind is Kind.READER_FIELD_MISSING_DEFAULT_VALUE:
        return item.subject
    if item.kind is Kind.NAME_MISMATCH:
        return f"expected: {item.subject}"
    if item.kind is Kind.MISSING_ENUM_SYMBOLS:
        return f"[{item.subject}]"
    if item.kind is Kind.FIXED_SIZE_MISMATCH:
        reader, writer = _node(nodes.reader, item.reader, strip=True), _node(nodes.writer, item.writer, strip=True)
        if reader is not None and writer is not None:
            return f"expected: {getattr(writer, 'size', '?')}, found: {getattr(reader, 'size', '?')}"
    if item.kind is Kind.TYPE_MISMATCH:
        reader, writer = _node(nodes.reader, item.reader), _node(nodes.writer, item.writer)
        if reader is not None and writer is not None:
            return f"reader type: {_java_type(reader)} not compatible with writer type: {_java_type(writer)}"
    if item.kind is Kind.MISSING_UNION_BRANCH:
        writer = _node(nodes.writer, item.writer)
        if writer is not None:
            return f"reader union lacking writer type: {_java_type(writer)}"
    return item.message


def _java_type(node: AvroType) -> str:
    return deref(node).type_name.upper()


def _node(nodes: dict[Origin, AvroType], origin: Origin, *, strip: bool = False) -> AvroType | None:
    if strip:
        origin = Origin(origin.file, origin.pointer.rpartition("/")[0])
    return nodes.get(origin)


def _index(root: AvroType) -> dict[Origin, AvroType]:
    """Every node reachable from `root`, by origin (named types from other files included)."""
    nodes: dict[Origin, AvroType] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        if node.origin in nodes:
            continue
        nodes[node.origin] = node
        if isinstance(node, Ref):
            pending.append(node.target)
        elif isinstance(node, Record):
            pending.extend(field.type for field in node.fields)
        elif isinstance(node, Array):
            pending.append(node.items)
        elif isinstance(node, Map):
            pending.append(node.values)
        elif isinstance(node, Union):
            pending.extend(node.branches)
    return nodes
