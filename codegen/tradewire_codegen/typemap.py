"""How each Avro type becomes Python: annotation, conversions, checks and defaults.

One `TypeMapper` serves one generated module; it records which imports and private
type aliases the module needs while it renders annotations and expressions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tradewire.avro.binary import MAX_DECIMAL_PRECISION
from tradewire.avro.model import (
    Array,
    AvroType,
    Enum,
    Fixed,
    Map,
    Named,
    Primitive,
    Record,
    Ref,
    Union,
    deref,
)
from tradewire.avro.pynames import enum_member_name
from tradewire.errors import CodegenError
from tradewire_codegen.literals import bytes_literal, string_literal

__all__ = ["Imports", "PyName", "TypeMapper", "json_literal"]

_PRIMITIVE_ANNOTATIONS = {
    "null": "None",
    "boolean": "bool",
    "int": "_markers.Int32",
    "long": "int",
    "float": "_markers.Float32",
    "double": "float",
    "string": "str",
    "bytes": "bytes",
}
# (base, logical) -> (annotation, stdlib module it needs, whether it needs tradewire.avro.markers)
_LOGICAL_ANNOTATIONS: dict[tuple[str, str], tuple[str, str | None, bool]] = {
    ("string", "uuid"): ("_uuid.UUID", "uuid", False),
    ("long", "timestamp-micros"): ("_datetime.datetime", "datetime", False),
    ("long", "timestamp-millis"): ("_markers.TimestampMillis", None, True),
    ("long", "local-timestamp-micros"): ("_markers.LocalTimestampMicros", None, True),
    ("long", "local-timestamp-millis"): ("_markers.LocalTimestampMillis", None, True),
    ("int", "date"): ("_datetime.date", "datetime", False),
    ("long", "time-micros"): ("_datetime.time", "datetime", False),
    ("int", "time-millis"): ("_markers.TimeMillis", None, True),
}
_AWARE = ("timestamp-micros", "timestamp-millis")


@dataclass(frozen=True, slots=True)
class PyName:
    """Where a generated Python name lives, and the schema file its type comes from."""

    module: str
    name: str
    source: str
    top: bool
    fixed: bool = False


@dataclass
class Imports:
    """What a generated module imports."""

    stdlib: set[str] = field(default_factory=set)
    typing: set[str] = field(default_factory=set)
    runtime: set[str] = field(default_factory=set)
    classes: dict[str, set[str]] = field(default_factory=dict)


class TypeMapper:
    """Renders types of one module (`module` is its dotted name)."""

    def __init__(self, module: str, names: dict[str, PyName]) -> None:
        self.module = module
        self.names = names
        self.imports = Imports()
        self.aliases: dict[str, str] = {}
        self._counter = 0

    def fresh(self, prefix: str) -> str:
        """A local variable name not used before in the current method."""
        self._counter += 1
        return f"{prefix}{self._counter}"

    def reset_names(self) -> None:
        """Start numbering local names afresh (at the start of each generated method)."""
        self._counter = 0

    # -- names ---------------------------------------------------------------------
    def class_name(self, named: Named) -> str:
        """The Python name of a generated class (or alias), importing it when it lives elsewhere."""
        return self.class_name_by_fullname(named.fullname)

    def class_name_by_fullname(self, fullname: str) -> str:
        """Like `class_name`, by full name."""
        target = self.names[fullname]
        if target.module != self.module:
            self.imports.classes.setdefault(target.module, set()).add(target.name)
        return target.name

    def use(self, *stdlib: str, typing: tuple[str, ...] = (), runtime: tuple[str, ...] = ()) -> None:
        """Note imports an expression needs."""
        self.imports.stdlib.update(stdlib)
        self.imports.typing.update(typing)
        self.imports.runtime.update(runtime)

    def decimal_alias(self, precision: int, scale: int) -> str:
        """A private module-level alias for `Annotated[Decimal, DecimalSpec(p, s)]`."""
        name = f"_Decimal{precision}_{scale}"
        if name not in self.aliases:
            self.use("decimal", typing=("Annotated", "TypeAlias"), runtime=("markers",))
            self.aliases[name] = f"Annotated[_decimal.Decimal, _markers.DecimalSpec({precision}, {scale})]"
        return name

    def props_marker(self, props: dict[str, Any]) -> str:
        """An `AvroProps` marker for extra schema attributes."""
        self.use(runtime=("markers",))
        items = ", ".join(f"({string_literal(k)}, {json_literal(v)})" for k, v in props.items())
        return f"_markers.AvroProps(({items},))"

    # -- annotations -------------------------------------------------------------------
    def annotation(self, node: AvroType) -> str:
        """The Python type annotation of `node`."""
        if isinstance(node, Ref):
            return self.class_name(node.target)
        if isinstance(node, (Record, Enum)):
            return self.class_name(node)
        if isinstance(node, Fixed):
            return self.class_name(node)
        if isinstance(node, Primitive):
            return self.primitive_annotation(node)
        if isinstance(node, Array):
            return f"tuple[{self.annotation(node.items)}, ...]"
        if isinstance(node, Map):
            return f"dict[str, {self.annotation(node.values)}]"
        if isinstance(node, Union):
            return " | ".join(self.annotation(branch) for branch in node.branches)
        raise CodegenError(f"unsupported schema node {node!r}")

    def primitive_annotation(self, node: Primitive) -> str:
        base = _PRIMITIVE_ANNOTATIONS[node.name]
        if base.startswith("_markers."):
            self.use(runtime=("markers",))
        extra = {k: v for k, v in node.props.items() if k not in _logical_keys(node)}
        if node.logical == "decimal":
            precision, scale = node.precision, node.scale
            assert precision is not None
            if precision > MAX_DECIMAL_PRECISION:
                raise CodegenError(f"decimals of more than {MAX_DECIMAL_PRECISION} digits are not supported")
            annotation = self.decimal_alias(precision, scale)
        elif node.logical is not None and (node.name, node.logical) in _LOGICAL_ANNOTATIONS:
            annotation, module, markers = _LOGICAL_ANNOTATIONS[(node.name, node.logical)]
            self.use(*((module,) if module else ()), runtime=("markers",) if markers else ())
        elif node.logical is not None:
            self.use(typing=("Annotated",), runtime=("markers",))
            annotation = f"Annotated[{base}, _markers.LogicalType({string_literal(node.logical)})]"
        else:
            annotation = base
        if not extra:
            return annotation
        self.use(typing=("Annotated",))
        if annotation.startswith("Annotated["):
            return annotation[:-1] + ", " + self.props_marker(extra) + "]"
        return f"Annotated[{annotation}, {self.props_marker(extra)}]"

    def fixed_alias(self, fixed: Fixed, source: str) -> list[str]:
        """The lines of the right-hand side of the module-level alias for a fixed type."""
        self.use(typing=("Annotated", "TypeAlias"), runtime=("markers",))
        args = [string_literal(fixed.fullname), str(fixed.size), string_literal(source)]
        if fixed.doc is not None:
            args.append(f"doc={string_literal(fixed.doc)}")
        if fixed.aliases:
            aliases = [string_literal(a) for a in fixed.aliases]
            args.append(f"aliases=({aliases[0]},)" if len(aliases) == 1 else f"aliases=({', '.join(aliases)})")
        if fixed.props:
            props = [f"({string_literal(k)}, {json_literal(v)})" for k, v in fixed.props.items()]
            args.append(f"props=({props[0]},)" if len(props) == 1 else f"props=({', '.join(props)})")
        spec = "\n".join(["_markers.FixedSpec(", *(f"    {arg}," for arg in args), ")"])
        markers = [spec]
        if fixed.logical == "decimal":
            self.use("decimal")
            assert fixed.precision is not None
            if fixed.precision > MAX_DECIMAL_PRECISION:
                raise CodegenError(f"decimals of more than {MAX_DECIMAL_PRECISION} digits are not supported")
            markers.append(f"_markers.DecimalSpec({fixed.precision}, {fixed.scale})")
            base = "_decimal.Decimal"
        else:
            base = "bytes"
        body = "\n".join(
            f"{line}," if index == len(lines) - 1 else line
            for marker in [base, *markers]
            for lines in [marker.split("\n")]
            for index, line in enumerate(lines)
        )
        return ["Annotated[", *(f"    {line}" for line in body.split("\n")), "]"]

    # -- conversions ------------------------------------------------------------------------
    def needs_to(self, node: AvroType) -> bool:
        """Whether a value of `node` needs converting for fastavro."""
        target = deref(node)
        if isinstance(target, Record):
            return True
        if isinstance(target, Array):
            return self.needs_to(target.items)
        if isinstance(target, Map):
            return self.needs_to(target.values)
        if isinstance(target, Union):
            # fastavro reads a tuple inside a union as (branch name, value): arrays go as lists
            return any(self.needs_to(b) or isinstance(deref(b), Array) for b in target.branches)
        return False

    def needs_from(self, node: AvroType) -> bool:
        """Whether a value fastavro read for `node` needs converting to its Python type."""
        target = deref(node)
        if isinstance(target, (Record, Enum)):
            return True
        if isinstance(target, Array):
            return True
        if isinstance(target, Map):
            return self.needs_from(target.values)
        if isinstance(target, Union):
            return any(self.needs_from(b) for b in target.branches)
        return False

    def optional_branch(self, union: Union) -> AvroType | None:
        """The non-null branch of a `[null, T]` (or `[T, null]`) union, else None."""
        non_null = [b for b in union.branches if not (isinstance(b, Primitive) and b.name == "null")]
        if len(non_null) == 1 and len(union.branches) == 2:
            return non_null[0]
        return None

    def union_parts(self, union: Union) -> tuple[list[Record], Enum | None, Array | None, Map | None]:
        """Record, enum, array and map branches of a union; refuses unions that fastavro's
        values cannot tell apart (two enums, an enum and a string, a map and a record)."""
        branches = [deref(b) for b in union.branches]
        records = [b for b in branches if isinstance(b, Record)]
        enums = [b for b in branches if isinstance(b, Enum)]
        strings = [b for b in branches if isinstance(b, Primitive) and b.name == "string"]
        arrays = [b for b in branches if isinstance(b, Array)]
        maps = [b for b in branches if isinstance(b, Map)]
        if len(enums) > 1 or (enums and strings):
            raise CodegenError("a union of an enum with another enum or a string cannot be decoded unambiguously")
        if maps and len(records) == 1:
            raise CodegenError("a union of a map and a record cannot be decoded unambiguously")
        return records, (enums[0] if enums else None), (arrays[0] if arrays else None), (maps[0] if maps else None)

    # -- checks ----------------------------------------------------------------------------
    def checks(self, node: AvroType, value: str, label: str, depth: int = 0) -> list[str]:
        """Statements (relative indentation by 4 spaces per level) validating `value`."""
        target = deref(node)
        if isinstance(target, Primitive) and target.logical == "decimal" and target.precision is not None:
            self.use(runtime=("record",))
            return [f"_record.check_decimal({value}, {target.precision}, {target.scale}, {string_literal(label)})"]
        if isinstance(target, Primitive) and target.logical in _AWARE:
            self.use(runtime=("record",))
            return [f"_record.check_timestamp({value}, {string_literal(label)})"]
        if isinstance(target, Fixed):
            self.use(runtime=("record",))
            if target.logical == "decimal" and target.precision is not None:
                return [f"_record.check_decimal({value}, {target.precision}, {target.scale}, {string_literal(label)})"]
            return [f"_record.check_fixed({value}, {target.size}, {string_literal(label)})"]
        if isinstance(target, Array):
            item = self.fresh("item")
            inner = self.checks(target.items, item, label, depth + 1)
            return [f"for {item} in {value}:", *("    " + line for line in inner)] if inner else []
        if isinstance(target, Map):
            item = self.fresh("item")
            inner = self.checks(target.values, item, label, depth + 1)
            return [f"for {item} in {value}.values():", *("    " + line for line in inner)] if inner else []
        if isinstance(target, Union):
            branch = self.optional_branch(target)
            if branch is None:
                return []
            inner = self.checks(branch, value, label, depth)
            return [f"if {value} is not None:", *("    " + line for line in inner)] if inner else []
        return []

    # -- defaults --------------------------------------------------------------------------
    def default(self, node: AvroType, value: Any, where: str) -> tuple[str, str]:
        """`("default", expr)` or `("default_factory", expr)` for a field default."""
        target = deref(node)
        if isinstance(target, Union):
            return self.default(target.branches[0], value, where)
        if value is None:
            return "default", "None"
        if isinstance(target, Enum):
            return "default", f"{self.class_name(target)}.{enum_member_name(value)}"
        if isinstance(target, Primitive):
            return self.primitive_default(target, value, where)
        if isinstance(target, Fixed):
            if target.logical == "decimal":
                self.use(runtime=("record",))
                return "default", f"_record.decimal_from_bytes({string_literal(value)}, {target.scale})"
            return "default", bytes_literal(value.encode("latin-1"))
        if isinstance(target, Array):
            if not value:
                return "default", "()"
            items = [self.default(target.items, item, where) for item in value]
            if any(kind != "default" for kind, _ in items):
                raise CodegenError(f"{where}: this array default is not supported by codegen")
            exprs = [expr for _, expr in items]
            return "default", f"({exprs[0]},)" if len(exprs) == 1 else f"({', '.join(exprs)})"
        if isinstance(target, Map):
            if not value:
                return "default_factory", "dict"
            entries = [(key, self.default(target.values, item, where)) for key, item in value.items()]
            if any(kind != "default" for _, (kind, _) in entries):
                raise CodegenError(f"{where}: this map default is not supported by codegen")
            body = ", ".join(f"{string_literal(key)}: {expr}" for key, (_, expr) in entries)
            return "default_factory", f"lambda: {{{body}}}"
        raise CodegenError(f"{where}: defaults of type {target.type_name} are not supported by codegen")

    def primitive_default(self, node: Primitive, value: Any, where: str) -> tuple[str, str]:
        if node.logical == "decimal":
            self.use(runtime=("record",))
            return "default", f"_record.decimal_from_bytes({string_literal(value)}, {node.scale})"
        if node.logical == "uuid":
            self.use("uuid")
            return "default", f"_uuid.UUID({string_literal(value)})"
        if node.logical in _AWARE and node.logical == "timestamp-micros":
            self.use(runtime=("record",))
            return "default", f"_record.timestamp_from_micros({value})"
        if node.logical == "date":
            self.use(runtime=("record",))
            return "default", f"_record.date_from_days({value})"
        if node.logical is not None and node.logical not in ("timestamp-nanos", "local-timestamp-nanos"):
            raise CodegenError(f"{where}: defaults of logical type {node.logical} are not supported by codegen")
        if node.name == "bytes":
            return "default", bytes_literal(value.encode("latin-1"))
        if node.name in ("float", "double"):
            return "default", repr(float(value))
        return "default", json_literal(value)


def _logical_keys(node: Primitive | Fixed) -> set[str]:
    if node.logical == "decimal":
        return {"logicalType", "precision", "scale"}
    return {"logicalType"} if node.logical else set()


def json_literal(value: Any) -> str:
    """A Python literal for a JSON value."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, list):
        return "[" + ", ".join(json_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{string_literal(k)}: {json_literal(v)}" for k, v in value.items()) + "}"
    raise CodegenError(f"cannot write {json.dumps(value)} as a Python literal")
