"""Generate each class's specialised Avro binary writer and reader.

The statements call `tradewire.avro.binary` primitives field by field, in schema
order, so encoding and decoding need neither a schema walk nor an intermediate dict.
"""

from __future__ import annotations

from tradewire.avro.model import Array, AvroType, Enum, Fixed, Map, Primitive, Record, Union, deref
from tradewire.errors import CodegenError
from tradewire_codegen.literals import string_literal
from tradewire_codegen.typemap import TypeMapper

__all__ = ["WireRenderer"]

_PRIMITIVE_WRITERS = {
    "int": "write_int",
    "long": "write_long",
    "float": "write_float",
    "double": "write_double",
    "string": "write_string",
    "bytes": "write_bytes",
}
_PRIMITIVE_READERS = {
    "boolean": "read_boolean",
    "int": "read_long",
    "long": "read_long",
    "float": "read_float",
    "double": "read_double",
    "string": "read_string",
    "bytes": "read_bytes",
}
_LOGICAL = {
    "uuid": ("write_uuid", "read_uuid"),
    "timestamp-micros": ("write_timestamp_micros", "read_timestamp_micros"),
    "timestamp-millis": ("write_timestamp_millis", "read_timestamp_millis"),
    "local-timestamp-micros": ("write_local_timestamp_micros", "read_local_timestamp_micros"),
    "local-timestamp-millis": ("write_local_timestamp_millis", "read_local_timestamp_millis"),
    "date": ("write_date", "read_date"),
    "time-micros": ("write_time_micros", "read_time_micros"),
    "time-millis": ("write_time_millis", "read_time_millis"),
}


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _is_null(node: AvroType) -> bool:
    return isinstance(node, Primitive) and node.name == "null"


class WireRenderer:
    """Writer and reader statements for the fields of one module's records."""

    def __init__(self, mapper: TypeMapper) -> None:
        self.mapper = mapper

    def binary(self) -> str:
        self.mapper.use(runtime=("binary",))
        return "_binary"

    # -- sizes ------------------------------------------------------------------------
    def min_size(self, node: AvroType, seen: frozenset[int] = frozenset()) -> int:
        """The fewest bytes a value of `node` encodes to (bounds block counts when reading)."""
        target = deref(node)
        if id(target) in seen:
            return 0
        if isinstance(target, Primitive):
            return {"null": 0, "float": 4, "double": 8}.get(target.name, 1)
        if isinstance(target, Fixed):
            return target.size
        if isinstance(target, Record):
            return sum(self.min_size(f.type, seen | {id(target)}) for f in target.fields)
        return 1

    # -- writing ----------------------------------------------------------------------
    def write(self, node: AvroType, value: str, label: str, depth: int = 0) -> list[str]:
        """Statements appending the encoding of `value` to `buffer`."""
        target = deref(node)
        binary = self.binary()
        if isinstance(target, Primitive):
            if target.name == "null":
                return []
            if target.name == "boolean":
                return [f"buffer.append(1 if {value} else 0)"]
            if target.logical == "decimal":
                return [f"{binary}.write_decimal(buffer, {value}, {target.precision}, {target.scale})"]
            if target.logical in _LOGICAL:
                return [f"{binary}.{_LOGICAL[target.logical][0]}(buffer, {value})"]
            return [f"{binary}.{_PRIMITIVE_WRITERS[target.name]}(buffer, {value})"]
        if isinstance(target, Fixed):
            if target.logical == "decimal":
                args = f"{target.precision}, {target.scale}, {target.size}"
                return [f"{binary}.write_decimal_fixed(buffer, {value}, {args})"]
            return [f"{binary}.write_fixed(buffer, {value}, {target.size})"]
        if isinstance(target, Enum):
            if len(target.symbols) <= 64:
                return [f"buffer.append({value}.avro_index << 1)"]
            return [f"{binary}.write_enum(buffer, {value})"]
        if isinstance(target, Record):
            return [f"{value}.avro_write(buffer)"]
        item = self.mapper.fresh("item")
        if isinstance(target, Array):
            inner = self.write(target.items, item, label, depth + 1)
            return [
                f"if {value}:",
                f"    {binary}.write_long(buffer, len({value}))",
                f"    for {item} in {value}:",
                *_indent(_indent(inner or ["pass"])),
                "buffer.append(0)",
            ]
        if isinstance(target, Map):
            key = self.mapper.fresh("key")
            inner = self.write(target.values, item, label, depth + 1)
            return [
                f"if {value}:",
                f"    {binary}.write_long(buffer, len({value}))",
                f"    for {key}, {item} in {value}.items():",
                f"        {binary}.write_string(buffer, {key})",
                *_indent(_indent(inner)),
                "buffer.append(0)",
            ]
        if isinstance(target, Union):
            return self.write_union(target, value, label, depth)
        raise CodegenError(f"cannot encode {target.type_name}")

    def write_union(self, union: Union, value: str, label: str, depth: int) -> list[str]:
        lines: list[str] = []
        nulls = [i for i, b in enumerate(union.branches) if _is_null(b)]
        others = [(i, b) for i, b in enumerate(union.branches) if not _is_null(b)]
        keyword = "if"
        if nulls:
            lines += [f"if {value} is None:", f"    buffer.append({nulls[0] << 1})"]
            keyword = "elif"
        if len(others) == 1 and nulls:
            index, branch = others[0]
            body = [f"buffer.append({index << 1})", *self.write(branch, value, label, depth)]
            return [*lines, "else:", *_indent(body)]
        for index, branch in others:
            test = self.isinstance_test(branch, value)
            body = [f"buffer.append({index << 1})" if index < 64 else f"{self.binary()}.write_long(buffer, {index})"]
            body += self.write(branch, value, label, depth)
            lines += [f"{keyword} {test}:", *_indent(body)]
            keyword = "elif"
        lines += ["else:", f"    raise {self.binary()}.union_mismatch({value}, {string_literal(label)})"]
        return lines

    def isinstance_test(self, node: AvroType, value: str) -> str:
        """A test that `value` belongs to union branch `node`."""
        target = deref(node)
        if isinstance(target, (Record, Enum)):
            return f"isinstance({value}, {self.mapper.class_name(target)})"
        if isinstance(target, Array):
            return f"isinstance({value}, tuple | list)"
        if isinstance(target, Map):
            return f"isinstance({value}, dict)"
        if isinstance(target, Fixed):
            if target.logical == "decimal":
                self.mapper.use("decimal")
                return f"isinstance({value}, _decimal.Decimal)"
            return f"isinstance({value}, bytes)"
        assert isinstance(target, Primitive)
        if target.logical == "decimal":
            self.mapper.use("decimal")
            return f"isinstance({value}, _decimal.Decimal)"
        if target.logical == "uuid":
            self.mapper.use("uuid")
            return f"isinstance({value}, _uuid.UUID)"
        if target.logical in (
            "timestamp-micros",
            "timestamp-millis",
            "local-timestamp-micros",
            "local-timestamp-millis",
        ):
            self.mapper.use("datetime")
            return f"isinstance({value}, _datetime.datetime)"
        if target.logical == "date":
            self.mapper.use("datetime")
            return f"isinstance({value}, _datetime.date) and not isinstance({value}, _datetime.datetime)"
        if target.logical in ("time-micros", "time-millis"):
            self.mapper.use("datetime")
            return f"isinstance({value}, _datetime.time)"
        return {
            "boolean": f"isinstance({value}, bool)",
            "int": f"isinstance({value}, int) and not isinstance({value}, bool)",
            "long": f"isinstance({value}, int) and not isinstance({value}, bool)",
            "float": f"isinstance({value}, float)",
            "double": f"isinstance({value}, float)",
            "string": f"isinstance({value}, str)",
            "bytes": f"isinstance({value}, bytes)",
        }[target.name]

    # -- reading ----------------------------------------------------------------------------
    def read(self, node: AvroType, variable: str, depth: int = 0) -> list[str]:
        """Statements reading a value of `node` at `pos` into `variable` (advancing `pos`)."""
        target = deref(node)
        binary = self.binary()
        if isinstance(target, Primitive):
            if target.name == "null":
                return [f"{variable} = None"]
            if target.logical == "decimal":
                return [f"{variable}, pos = {binary}.read_decimal(data, pos, {target.precision}, {target.scale})"]
            if target.logical in _LOGICAL:
                return [f"{variable}, pos = {binary}.{_LOGICAL[target.logical][1]}(data, pos)"]
            return [f"{variable}, pos = {binary}.{_PRIMITIVE_READERS[target.name]}(data, pos)"]
        if isinstance(target, Fixed):
            if target.logical == "decimal":
                args = f"{target.precision}, {target.scale}, {target.size}"
                return [f"{variable}, pos = {binary}.read_decimal_fixed(data, pos, {args})"]
            return [f"{variable}, pos = {binary}.read_fixed(data, pos, {target.size})"]
        if isinstance(target, Enum):
            return [f"{variable}, pos = {binary}.read_enum(data, pos, {self.mapper.class_name(target)})"]
        if isinstance(target, Record):
            return [f"{variable}, pos = {self.mapper.class_name(target)}.avro_read(data, pos)"]
        item, count, items = self.mapper.fresh("item"), self.mapper.fresh("count"), self.mapper.fresh("items")
        size = self.min_size(target.items if isinstance(target, Array) else target)
        if isinstance(target, Array):
            annotation = self.mapper.annotation(target.items)
            return [
                f"{items}: list[{annotation}] = []",
                f"{count}, pos = {binary}.read_count(data, pos, {size})",
                f"while {count}:",
                f"    for _ in range({count}):",
                *_indent(_indent(self.read(target.items, item, depth + 1))),
                f"        {items}.append({item})",
                f"    {count}, pos = {binary}.read_count(data, pos, {size})",
                f"{variable} = tuple({items})",
            ]
        if isinstance(target, Map):
            key = self.mapper.fresh("key")
            annotation = self.mapper.annotation(target.values)
            size = 1 + self.min_size(target.values)
            return [
                f"{items}: dict[str, {annotation}] = {{}}",
                f"{count}, pos = {binary}.read_count(data, pos, {size})",
                f"while {count}:",
                f"    for _ in range({count}):",
                f"        {key}, pos = {binary}.read_string(data, pos)",
                *_indent(_indent(self.read(target.values, item, depth + 1))),
                f"        {items}[{key}] = {item}",
                f"    {count}, pos = {binary}.read_count(data, pos, {size})",
                f"{variable} = {items}",
            ]
        if isinstance(target, Union):
            branch = self.mapper.fresh("branch")
            lines = [
                f"{variable}: {self.mapper.annotation(target)}",
                f"{branch}, pos = {binary}.read_branch(data, pos, {len(target.branches)})",
            ]
            for index, option in enumerate(target.branches):
                keyword = "if" if index == 0 else "elif"
                body = self.read(option, variable, depth + 1)
                if index == len(target.branches) - 1 and index > 0:
                    lines += ["else:", *_indent(body)]
                else:
                    lines += [f"{keyword} {branch} == {index}:", *_indent(body)]
            return lines
        raise CodegenError(f"cannot decode {target.type_name}")
