"""Generate each class's `to_avro` / `from_avro`: conversion to and from fastavro's dicts.

The dict form is what fastavro reads and writes, so it is how a record crosses schema
versions (fastavro resolves writer to reader). Conversions are emitted as short
statements into `value_*` locals rather than nested expressions, which keeps every
generated line readable and already in the formatter's layout.
"""

from __future__ import annotations

from tradewire.avro.model import Array, AvroType, Enum, Map, Record, Union, deref
from tradewire_codegen.literals import string_literal
from tradewire_codegen.typemap import TypeMapper

__all__ = ["DictRenderer"]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


class DictRenderer:
    """`to_avro` / `from_avro` statements for the fields of one module's records."""

    def __init__(self, mapper: TypeMapper) -> None:
        self.mapper = mapper

    # -- to fastavro -----------------------------------------------------------------------
    def to_avro(self, node: AvroType, value: str) -> tuple[list[str], str]:
        """Statements converting `value`, and the expression holding the result."""
        target = deref(node)
        if not self.mapper.needs_to(target):
            return [], value
        if isinstance(target, Record):
            return [], f"{value}.to_avro()"
        result = self.mapper.fresh("value")
        return self.convert_to(target, value, result), result

    def convert_to(self, target: AvroType, value: str, result: str) -> list[str]:
        """Statements assigning the fastavro form of `value` to `result`."""
        target = deref(target)
        item = self.mapper.fresh("item")
        if isinstance(target, Record):
            return [f"{result} = {value}.to_avro()"]
        if isinstance(target, Array):
            lines, converted = self.to_avro(target.items, item)
            if converted == item and not lines:
                return [f"{result} = list({value})"]
            return [f"{result} = []", f"for {item} in {value}:", *_indent([*lines, f"{result}.append({converted})"])]
        if isinstance(target, Map):
            key = self.mapper.fresh("key")
            lines, converted = self.to_avro(target.values, item)
            return [
                f"{result} = {{}}",
                f"for {key}, {item} in {value}.items():",
                *_indent([*lines, f"{result}[{key}] = {converted}"]),
            ]
        assert isinstance(target, Union)
        branch = self.mapper.optional_branch(target)
        if branch is not None:
            return [
                f"{result} = None",
                f"if {value} is not None:",
                *_indent(self.convert_to(branch, value, result)),
            ]
        records, _, array, map_branch = self.mapper.union_parts(target)
        lines = [f"{result}: Any = {value}"]
        keyword = "if"
        for record in records:
            name = self.mapper.class_name(record)
            converted = f"{value}.to_avro()"
            if len(records) > 1:
                converted = f"({string_literal(record.fullname)}, {converted})"
            lines += [f"{keyword} isinstance({value}, {name}):", f"    {result} = {converted}"]
            keyword = "elif"
        if array is not None:
            lines += [f"{keyword} isinstance({value}, tuple | list):", *_indent(self.convert_to(array, value, result))]
            keyword = "elif"
        if map_branch is not None and self.mapper.needs_to(map_branch):
            lines += [f"{keyword} isinstance({value}, dict):", *_indent(self.convert_to(map_branch, value, result))]
        return lines

    # -- from fastavro ------------------------------------------------------------------------
    def from_avro(self, node: AvroType, value: str) -> tuple[list[str], str]:
        """Statements converting fastavro's `value`, and the expression holding the result."""
        target = deref(node)
        if not self.mapper.needs_from(target):
            return [], value
        if isinstance(target, Record):
            return [], f"{self.mapper.class_name(target)}.from_avro({value})"
        if isinstance(target, Enum):
            return [], f"{self.mapper.class_name(target)}({value})"
        if isinstance(target, Array) and not self.mapper.needs_from(target.items):
            return [], f"tuple({value})"
        result = self.mapper.fresh("value")
        return self.convert_from(target, value, result), result

    def convert_from(self, target: AvroType, value: str, result: str) -> list[str]:
        """Statements assigning the Python form of fastavro's `value` to `result`."""
        target = deref(target)
        item = self.mapper.fresh("item")
        if isinstance(target, Record):
            return [f"{result} = {self.mapper.class_name(target)}.from_avro({value})"]
        if isinstance(target, Enum):
            return [f"{result} = {self.mapper.class_name(target)}({value})"]
        if isinstance(target, Array):
            lines, converted = self.from_avro(target.items, item)
            if not lines:
                return [f"{result} = tuple({converted} for {item} in {value})"]
            collected = self.mapper.fresh("items")
            return [
                f"{collected} = []",
                f"for {item} in {value}:",
                *_indent([*lines, f"{collected}.append({converted})"]),
                f"{result} = tuple({collected})",
            ]
        if isinstance(target, Map):
            key = self.mapper.fresh("key")
            lines, converted = self.from_avro(target.values, item)
            return [
                f"{result} = {{}}",
                f"for {key}, {item} in {value}.items():",
                *_indent([*lines, f"{result}[{key}] = {converted}"]),
            ]
        assert isinstance(target, Union)
        branch = self.mapper.optional_branch(target)
        if branch is not None:
            return [
                f"{result} = None",
                f"if {value} is not None:",
                *_indent(self.convert_from(branch, value, result)),
            ]
        records, enum, array, map_branch = self.mapper.union_parts(target)
        lines = [f"{result}: Any = {value}"]
        keyword = "if"
        if len(records) > 1:
            for record in records:
                name = self.mapper.class_name(record)
                test = f"isinstance({value}, tuple) and {value}[0] == {string_literal(record.fullname)}"
                lines += [f"{keyword} {test}:", f"    {result} = {name}.from_avro({value}[1])"]
                keyword = "elif"
        elif records:
            name = self.mapper.class_name(records[0])
            lines += [f"{keyword} isinstance({value}, dict):", f"    {result} = {name}.from_avro({value})"]
            keyword = "elif"
        if enum is not None:
            name = self.mapper.class_name(enum)
            lines += [f"{keyword} isinstance({value}, str):", f"    {result} = {name}({value})"]
            keyword = "elif"
        if array is not None:
            lines += [f"{keyword} isinstance({value}, list):", *_indent(self.convert_from(array, value, result))]
            keyword = "elif"
        if map_branch is not None and self.mapper.needs_from(map_branch):
            lines += [f"{keyword} isinstance({value}, dict):", *_indent(self.convert_from(map_branch, value, result))]
        return lines
