"""Turn the JSON of one `.avsc` file into `tradewire.avro.model` nodes, Java-strictly.

The rules follow Avro Java's `Schema.Parser` (which Confluent runs on registration):
valid names, namespace inheritance, no duplicate names or union branches, default
values that match their type (Java rejects bad defaults on new schemas with 42201).
Logical types that do not fit their underlying type are kept as plain types, as Java
does, and reported as non-fatal problems so that lint can name them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tradewire.avro.model import (
    NO_DEFAULT,
    PRIMITIVES,
    Array,
    AvroType,
    Enum,
    Field,
    Fixed,
    Map,
    Named,
    Origin,
    Primitive,
    Record,
    Ref,
    Union,
    deref,
)
from tradewire.avro.sourcemap import join_pointer

__all__ = [
    "NAME_PATTERN",
    "InvalidSchema",
    "Problem",
    "SchemaParser",
    "is_valid_default",
    "qualify",
]

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_SCHEMA_RESERVED = frozenset(
    {
        "doc",
        "fields",
        "items",
        "name",
        "namespace",
        "size",
        "symbols",
        "values",
        "type",
        "aliases",
        "default",
    }
)
_FIELD_RESERVED = frozenset({"default", "doc", "name", "order", "type", "aliases"})
_LOGICAL_BASES: dict[str, tuple[str, ...]] = {
    "decimal": ("bytes", "fixed"),
    "uuid": ("string", "fixed"),
    "date": ("int",),
    "time-millis": ("int",),
    "time-micros": ("long",),
    "timestamp-millis": ("long",),
    "timestamp-micros": ("long",),
    "timestamp-nanos": ("long",),
    "local-timestamp-millis": ("long",),
    "local-timestamp-micros": ("long",),
    "local-timestamp-nanos": ("long",),
    "duration": ("fixed",),
}

UnionDefaultRule = Literal["first", "any"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a schema, located at a node; `fatal` problems make it unusable."""

    rule: str
    origin: Origin
    message: str
    fatal: bool = True
    primary: bool = True
    """False for a consequence of another file's problem (reported there, not again here)."""


class InvalidSchema(Exception):  # noqa: N818 - internal control flow, carries a Problem
    """Raised inside the parser to stop at the first fatal problem of a file."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def qualify(name: str, namespace: str) -> str:
    """Return the full name of `name` seen from `namespace`."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


class SchemaParser:
    """Parses the JSON value of one file into model nodes.

    `lookup` resolves full names defined in *other* files (the catalog supplies it);
    names defined in this file are resolved from the file itself, so recursive types work.
    """

    def __init__(
        self,
        path: str,
        lookup: Callable[[str, Origin], Named | None],
        union_default: UnionDefaultRule = "first",
    ) -> None:
        self.path = path
        self.lookup = lookup
        self.union_default = union_default
        self.defined: dict[str, Named] = {}
        self.warnings: list[Problem] = []

    # -- helpers -----------------------------------------------------------------
    def origin(self, pointer: str) -> Origin:
        return Origin(self.path, pointer)

    def invalid(self, pointer: str, message: str, rule: str = "INVALID_AVRO") -> InvalidSchema:
        return InvalidSchema(Problem(rule, self.origin(pointer), message))

    def check_name(self, name: Any, pointer: str, what: str) -> str:
        if not isinstance(name, str) or not name:
            raise self.invalid(pointer, f"{what} must be a non-empty string")
        for part in name.split("."):
            if not NAME_PATTERN.match(part):
                raise self.invalid(pointer, f"{what} {name!r} is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)")
        return name

    def check_namespace(self, namespace: Any, pointer: str) -> str:
        if namespace is None or namespace == "":
            return ""
        if not isinstance(namespace, str):
            raise self.invalid(pointer, "namespace must be a string")
        for part in namespace.split("."):
            if not NAME_PATTERN.match(part):
                raise self.invalid(pointer, f"namespace {namespace!r} is not a valid Avro namespace")
        return namespace

    def check_doc(self, value: dict[str, Any], pointer: str) -> str | None:
        doc = value.get("doc")
        if doc is not None and not isinstance(doc, str):
            raise self.invalid(join_pointer(pointer, "doc"), "doc must be a string")
        return doc

    # -- entry point ---------------------------------------------------------------
    def parse(self, value: Any, pointer: str = "", namespace: str = "") -> AvroType:
        """Parse any schema JSON value at `pointer`."""
        if isinstance(value, str):
            return self.named_or_primitive(value, pointer, namespace)
        if isinstance(value, list):
            return self.union(value, pointer, namespace)
        if isinstance(value, dict):
            return self.complex(value, pointer, namespace)
        raise self.invalid(pointer, f"a schema must be a string, an object or an array, not {value!r}")

    def named_or_primitive(self, name: str, pointer: str, namespace: str) -> AvroType:
        if name in PRIMITIVES:
            return Primitive(self.origin(pointer), name)
        if name in ("record", "error", "enum", "fixed", "array", "map"):
            raise self.invalid(pointer, f"'{name}' must be written as an object with its attributes")
        candidates = [qualify(name, namespace)]
        if candidates[0] != name:
            candidates.append(name)
        for fullname in candidates:
            target = self.defined.get(fullname) or self.lookup(fullname, self.origin(pointer))
            if target is not None:
                return Ref(self.origin(pointer), target)
        raise self.invalid(
            pointer,
            f"unknown type {name!r}: no schema file defines {candidates[0]!r}",
            "UNKNOWN_TYPE",
        )

    def union(self, branches: list[Any], pointer: str, namespace: str) -> Union:
        parsed: list[AvroType] = []
        seen: set[str] = set()
        for index, branch in enumerate(branches):
            branch_pointer = join_pointer(pointer, index)
            node = self.parse(branch, branch_pointer, namespace)
            target = deref(node)
            if isinstance(target, Union):
                raise self.invalid(branch_pointer, "unions may not immediately contain other unions")
            key = target.fullname if isinstance(target, Named) else target.type_name
            if key in seen:
                raise self.invalid(branch_pointer, f"union contains {key!r} more than once")
            seen.add(key)
            parsed.append(node)
        if not parsed:
            raise self.invalid(pointer, "a union needs at least one branch")
        return Union(self.origin(pointer), parsed)

    def complex(self, value: dict[str, Any], pointer: str, namespace: str) -> AvroType:
        if "type" not in value:
            raise self.invalid(pointer, "a schema object needs a 'type'")
        kind = value["type"]
        type_pointer = join_pointer(pointer, "type")
        if kind in ("record", "error"):
            return self.record(value, pointer, namespace)
        if kind == "enum":
            return self.enum(value, pointer, namespace)
        if kind == "fixed":
            return self.fixed(value, pointer, namespace)
        if kind == "array":
            if "items" not in value:
                raise self.invalid(pointer, "an array needs 'items'")
            items = self.parse(value["items"], join_pointer(pointer, "items"), namespace)
            return Array(self.origin(pointer), items, self.props(value, _SCHEMA_RESERVED))
        if kind == "map":
            if "values" not in value:
                raise self.invalid(pointer, "a map needs 'values'")
            values = self.parse(value["values"], join_pointer(pointer, "values"), namespace)
            return Map(self.origin(pointer), values, self.props(value, _SCHEMA_RESERVED))
        if kind in PRIMITIVES:
            props = self.props(value, _SCHEMA_RESERVED)
            logical = self.logical_type(kind, props, pointer)
            if not props:
                return Primitive(self.origin(pointer), kind)
            return Primitive(self.origin(pointer), kind, logical, props)
        if isinstance(kind, (dict, list)):
            return self.parse(kind, type_pointer, namespace)
        if isinstance(kind, str):
            return self.named_or_primitive(kind, type_pointer, namespace)
        raise self.invalid(type_pointer, f"unknown schema type {kind!r}")

    def props(self, value: dict[str, Any], reserved: frozenset[str]) -> dict[str, Any]:
        return {key: item for key, item in value.items() if key not in reserved}

    def logical_type(self, base: str, props: dict[str, Any], pointer: str, size: int = 0) -> str | None:
        logical = props.get("logicalType")
        if logical is None:
            return None
        where = join_pointer(pointer, "logicalType")
        if not isinstance(logical, str):
            raise self.invalid(where, "logicalType must be a string")
        bases = _LOGICAL_BASES.get(logical)
        if bases is None:
            return None  # unknown logical types are ignored, as every Avro implementation does
        if base not in bases:
            self.warn(where, f"logical type {logical!r} does not apply to {base!r}; readers ignore it")
            return None
        if logical == "decimal":
            return self.decimal(props, pointer, base, size)
        if logical == "uuid" and base == "fixed" and size != 16:
            self.warn(where, "a uuid on fixed needs size 16; readers ignore the logical type")
            return None
        if logical == "duration" and size != 12:
            self.warn(where, "a duration needs a fixed of size 12; readers ignore the logical type")
            return None
        return logical

    def decimal(self, props: dict[str, Any], pointer: str, base: str, size: int) -> str | None:
        precision, scale = props.get("precision"), props.get("scale", 0)
        if isinstance(precision, bool) or not isinstance(precision, int) or precision <= 0:
            self.warn(
                join_pointer(pointer, "precision"),
                "a decimal needs an integer precision > 0",
                "DECIMAL_PRECISION_SCALE",
            )
            return None
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 0:
            self.warn(
                join_pointer(pointer, "scale"),
                "a decimal scale must be an integer >= 0",
                "DECIMAL_PRECISION_SCALE",
            )
            return None
        if scale > precision:
            self.warn(
                join_pointer(pointer, "scale"),
                f"decimal scale {scale} exceeds precision {precision}",
                "DECIMAL_PRECISION_SCALE",
            )
            return None
        if base == "fixed":
            max_precision = _fixed_digits(size)
            if precision > max_precision:
                self.warn(
                    join_pointer(pointer, "precision"),
                    f"fixed({size}) holds at most {max_precision} decimal digits, not {precision}",
                    "DECIMAL_PRECISION_SCALE",
                )
                return None
        return "decimal"

    def warn(self, pointer: str, message: str, rule: str = "LOGICAL_TYPE_VALID") -> None:
        self.warnings.append(Problem(rule, self.origin(pointer), message, fatal=False))

    # -- named types ------------------------------------------------------------
    def define(self, value: dict[str, Any], pointer: str, namespace: str) -> tuple[str, str | None]:
        name = self.check_name(value.get("name"), join_pointer(pointer, "name"), "name")
        if "." in name:
            fullname = name
        elif value.get("namespace") is not None:  # null or absent: inherit, as Avro Java does
            space = self.check_namespace(value["namespace"], join_pointer(pointer, "namespace"))
            fullname = qualify(name, space)
        else:
            fullname = qualify(name, namespace)
        if fullname.rpartition(".")[2] in PRIMITIVES:
            raise self.invalid(join_pointer(pointer, "name"), f"{fullname!r} redefines a primitive type")
        if fullname in self.defined:
            raise self.invalid(
                join_pointer(pointer, "name"),
                f"type {fullname!r} is defined twice",
                "DUPLICATE_TYPE",
            )
        return fullname, self.check_doc(value, pointer)

    def aliases(self, value: dict[str, Any], pointer: str, namespace: str, named: bool) -> tuple[str, ...]:
        aliases = value.get("aliases", [])
        where = join_pointer(pointer, "aliases")
        if not isinstance(aliases, list):
            raise self.invalid(where, "aliases must be an array of names")
        result = []
        for index, alias in enumerate(aliases):
            self.check_name(alias, join_pointer(where, index), "alias")
            result.append(qualify(alias, namespace) if named else alias)
        return tuple(result)

    def record(self, value: dict[str, Any], pointer: str, namespace: str) -> Record:
        fullname, doc = self.define(value, pointer, namespace)
        space = fullname.rpartition(".")[0]
        record = Record(
            self.origin(pointer),
            fullname,
            doc,
            self.aliases(value, pointer, space, named=True),
            self.props(value, _SCHEMA_RESERVED),
            is_error=value["type"] == "error",
        )
        self.defined[fullname] = record
        fields = value.get("fields")
        fields_pointer = join_pointer(pointer, "fields")
        if not isinstance(fields, list):
            raise self.invalid(
                pointer if "fields" not in value else fields_pointer,
                "a record needs a 'fields' array",
            )
        names: set[str] = set()
        for index, field_value in enumerate(fields):
            field_pointer = join_pointer(fields_pointer, index)
            parsed = self.field(field_value, field_pointer, space)
            if parsed.name in names:
                raise self.invalid(join_pointer(field_pointer, "name"), f"field {parsed.name!r} appears twice")
            names.add(parsed.name)
            record.fields.append(parsed)
        return record

    def field(self, value: Any, pointer: str, namespace: str) -> Field:
        if not isinstance(value, dict):
            raise self.invalid(pointer, "a field must be an object")
        name = self.check_name(value.get("name"), join_pointer(pointer, "name"), "field name")
        if "." in name:
            raise self.invalid(join_pointer(pointer, "name"), f"field name {name!r} may not contain '.'")
        if "type" not in value:
            raise self.invalid(pointer, f"field {name!r} needs a 'type'")
        field_type = self.parse(value["type"], join_pointer(pointer, "type"), namespace)
        order = value.get("order", "ascending")
        if order not in ("ascending", "descending", "ignore"):
            raise self.invalid(join_pointer(pointer, "order"), "order must be ascending, descending or ignore")
        default = value.get("default", NO_DEFAULT)
        if default is not NO_DEFAULT and not is_valid_default(field_type, default, self.union_default):
            raise self.invalid(
                join_pointer(pointer, "default"),
                f"default {default!r} of field {name!r} does not match its type {_describe(field_type)}"
                + (" (a union default must match the first branch)" if isinstance(field_type, Union) else ""),
                "INVALID_DEFAULT",
            )
        return Field(
            name,
            field_type,
            self.origin(pointer),
            self.check_doc(value, pointer),
            default,
            self.aliases(value, pointer, namespace, named=False),
            order,
            self.props(value, _FIELD_RESERVED),
        )

    def enum(self, value: dict[str, Any], pointer: str, namespace: str) -> Enum:
        fullname, doc = self.define(value, pointer, namespace)
        symbols = value.get("symbols")
        where = join_pointer(pointer, "symbols")
        if not isinstance(symbols, list):
            raise self.invalid(pointer if "symbols" not in value else where, "an enum needs a 'symbols' array")
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            self.check_name(symbol, join_pointer(where, index), "enum symbol")
            if "." in symbol:
                raise self.invalid(join_pointer(where, index), f"enum symbol {symbol!r} may not contain '.'")
            if symbol in seen:
                raise self.invalid(join_pointer(where, index), f"enum symbol {symbol!r} appears twice")
            seen.add(symbol)
        default = value.get("default")
        if default is not None and (not isinstance(default, str) or default not in seen):
            raise self.invalid(
                join_pointer(pointer, "default"),
                f"enum default {default!r} is not one of the symbols",
            )
        enum = Enum(
            self.origin(pointer),
            fullname,
            doc,
            self.aliases(value, pointer, fullname.rpartition(".")[0], named=True),
            self.props(value, _SCHEMA_RESERVED),
            tuple(symbols),
            default,
        )
        self.defined[fullname] = enum
        return enum

    def fixed(self, value: dict[str, Any], pointer: str, namespace: str) -> Fixed:
        fullname, doc = self.define(value, pointer, namespace)
        size = value.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise self.invalid(
                join_pointer(pointer, "size") if "size" in value else pointer,
                "a fixed needs an integer 'size' >= 0",
            )
        props = self.props(value, _SCHEMA_RESERVED)
        fixed = Fixed(
            self.origin(pointer),
            fullname,
            doc,
            self.aliases(value, pointer, fullname.rpartition(".")[0], named=True),
            props,
            size,
            self.logical_type("fixed", props, pointer, size),
        )
        self.defined[fullname] = fixed
        return fixed


def _fixed_digits(size: int) -> int:
    """How many decimal digits a fixed of `size` bytes holds (Java's formula, without huge integers)."""
    if size <= 0:
        return 0
    if size <= 64:
        return math.floor(math.log10(2 ** (8 * size - 1) - 1))
    return math.floor((8 * size - 1) * math.log10(2))


def _describe(node: AvroType) -> str:
    target = deref(node)
    if isinstance(target, Named):
        return f"{target.type_name} {target.fullname}"
    if isinstance(target, Union):
        return "[" + ", ".join(_describe(branch) for branch in target.branches) + "]"
    return target.type_name


def is_valid_default(node: AvroType, value: Any, union_rule: UnionDefaultRule = "first") -> bool:
    """Whether a JSON default `value` is valid for the schema `node` (Avro Java's rules)."""
    target = deref(node)
    if isinstance(target, Primitive):
        return _primitive_default_ok(target.name, value)
    if isinstance(target, Enum):
        return isinstance(value, str) and value in target.symbols
    if isinstance(target, Fixed):
        return isinstance(value, str) and len(value) == target.size and all(ord(c) < 256 for c in value)
    if isinstance(target, Array):
        return isinstance(value, list) and all(is_valid_default(target.items, item, union_rule) for item in value)
    if isinstance(target, Map):
        return isinstance(value, dict) and all(
            is_valid_default(target.values, item, union_rule) for item in value.values()
        )
    if isinstance(target, Union):
        branches = target.branches[:1] if union_rule == "first" else target.branches
        return any(is_valid_default(branch, value, union_rule) for branch in branches)
    if isinstance(target, Record):
        if not isinstance(value, dict):
            return False
        for record_field in target.fields:
            if record_field.name in value:
                if not is_valid_default(record_field.type, value[record_field.name], union_rule):
                    return False
            elif not record_field.has_default:
                return False
        return True
    return False


def _primitive_default_ok(kind: str, value: Any) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("int", "long"):
        low, high = _INT_RANGE if kind == "int" else _LONG_RANGE
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bytes":
        return isinstance(value, str) and all(ord(c) < 256 for c in value)
    return isinstance(value, str)
