"""How Avro names become Python names in generated contracts, and which cannot.

Shared by the code generator (which applies it) and lint (which warns before codegen
would have to rename or refuse). Avro names are already restricted to
`[A-Za-z_][A-Za-z0-9_]*`, so no name can carry code; what remains is clashing with
Python keywords, private-name mangling and the members generated classes define.
"""

from __future__ import annotations

import builtins
import keyword

__all__ = [
    "RESERVED_FIELD_NAMES",
    "RESERVED_TYPE_NAMES",
    "enum_member_name",
    "field_attribute_name",
    "python_name_problem",
]

# Members every generated record or event defines (fields may not shadow them).
RESERVED_FIELD_NAMES = frozenset({"to_avro", "from_avro", "partition_key", "encode", "decode", "replace", "mro"})
# Names generated modules use unqualified, which a generated class may not shadow.
RESERVED_TYPE_NAMES = frozenset(
    {"Annotated", "Any", "ClassVar", "Self", "Event", "Record", "TypeAlias"}
    | {name for name in dir(builtins) if not name.startswith("_")}
)


def python_name_problem(kind: str, name: str) -> str | None:
    """Why `name` cannot be used as-is in generated Python, or None.

    `kind` is `type`, `field` or `symbol`. Keywords are a problem (codegen renames them
    with a trailing underscore); the other problems make codegen refuse the schema.
    """
    if keyword.iskeyword(name):
        return f"{kind} {name!r} is a Python keyword (generated code calls it {name}_)"
    if name.startswith("_"):
        return f"{kind} {name!r} starts with an underscore, which Python treats as private"
    if kind == "field" and name in RESERVED_FIELD_NAMES:
        return f"field {name!r} would shadow the generated method of the same name"
    if kind == "type" and name in RESERVED_TYPE_NAMES:
        return f"type {name!r} would shadow a Python builtin or a name generated modules use"
    if kind == "symbol" and name in ("name", "value", "avro_index", "by_index"):
        return f"enum symbol {name!r} would shadow the Enum attribute of the same name"
    return None


def field_attribute_name(avro_name: str) -> str:
    """The Python attribute for an Avro field (keywords gain a trailing underscore)."""
    return f"{avro_name}_" if keyword.iskeyword(avro_name) else avro_name


def enum_member_name(symbol: str) -> str:
    """The Python enum member for an Avro symbol (keywords gain a trailing underscore)."""
    return f"{symbol}_" if keyword.iskeyword(symbol) else symbol
