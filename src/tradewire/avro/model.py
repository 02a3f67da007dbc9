"""The in-memory model of an Avro schema, every node remembering where it was written.

Parsing (`tradewire.avro.parse`) turns `.avsc` JSON into these nodes; the gate, the
code generator and the canonical forms all walk them. A node's `origin` names the file
and the JSON pointer of the text it came from, so any finding can be located.
Named types are shared objects: a reference by name (`Ref`) points at the very node
where the type is defined, possibly in another file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "NO_DEFAULT",
    "PRIMITIVES",
    "Array",
    "AvroType",
    "Enum",
    "Field",
    "Fixed",
    "Map",
    "Named",
    "Origin",
    "Primitive",
    "Record",
    "Ref",
    "Union",
    "deref",
]

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


class _NoDefault:
    """Marks a field without a default (distinct from a default of `null`)."""

    _instance: ClassVar[_NoDefault | None] = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a node was written: a repository-relative file path and a JSON pointer."""

    file: str
    pointer: str


@dataclass(eq=False, slots=True)
class AvroType:
    """Base of every schema node."""

    origin: Origin

    @property
    def type_name(self) -> str:
        """The Avro type keyword of this node (`record`, `long`, `union`, …)."""
        raise NotImplementedError


@dataclass(eq=False, slots=True)
class Primitive(AvroType):
    """A primitive type, possibly annotated with a (valid) logical type."""

    name: str
    logical: str | None = None
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        return self.name

    @property
    def precision(self) -> int | None:
        """Decimal precision, when this is a decimal."""
        value = self.props.get("precision")
        return value if self.logical == "decimal" and isinstance(value, int) else None

    @property
    def scale(self) -> int:
        """Decimal scale (0 when absent, as the Avro specification says)."""
        value = self.props.get("scale", 0)
        return value if isinstance(value, int) else 0


@dataclass(eq=False, slots=True)
class Named(AvroType):
    """A record, enum or fixed: a type with a full name."""

    fullname: str
    doc: str | None = None
    aliases: tuple[str, ...] = ()
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The unqualified name."""
        return self.fullname.rpartition(".")[2]

    @property
    def namespace(self) -> str:
        """The namespace ('' for the null namespace)."""
        return self.fullname.rpartition(".")[0]


@dataclass(eq=False, slots=True)
class Field:
    """One field of a record."""

    name: str
    type: AvroType
    origin: Origin
    doc: str | None = None
    default: Any = NO_DEFAULT
    aliases: tuple[str, ...] = ()
    order: str = "ascending"
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def has_default(self) -> bool:
        """Whether the field declares a default (a `null` default counts)."""
        return self.default is not NO_DEFAULT


@dataclass(eq=False, slots=True)
class Record(Named):
    """A record (or the legacy `error`, which Java treats as a record)."""

    fields: list[Field] = field(default_factory=list)
    is_error: bool = False

    @property
    def type_name(self) -> str:
        return "record"

    def field_named(self, name: str) -> Field | None:
        """Return the field called `name`, if any."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None


@dataclass(eq=False, slots=True)
class Enum(Named):
    """An enumeration with an optional default symbol for readers that meet an unknown one."""

    symbols: tuple[str, ...] = ()
    default: str | None = None

    @property
    def type_name(self) -> str:
        return "enum"


@dataclass(eq=False, slots=True)
class Fixed(Named):
    """A fixed-size byte string, possibly a decimal."""

    size: int = 0
    logical: str | None = None

    @property
    def type_name(self) -> str:
        return "fixed"

    @property
    def precision(self) -> int | None:
        """Decimal precision, when this is a decimal."""
        value = self.props.get("precision")
        return value if self.logical == "decimal" and isinstance(value, int) else None

    @property
    def scale(self) -> int:
        """Decimal scale (0 when absent)."""
        value = self.props.get("scale", 0)
        return value if isinstance(value, int) else 0


@dataclass(eq=False, slots=True)
class Array(AvroType):
    """An array of `items`."""

    items: AvroType
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        return "array"


@dataclass(eq=False, slots=True)
class Map(AvroType):
    """A map from strings to `values`."""

    values: AvroType
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        return "map"


@dataclass(eq=False, slots=True)
class Union(AvroType):
    """A union of branches; the first branch is the type of a field default."""

    branches: list[AvroType]

    @property
    def type_name(self) -> str:
        return "union"


@dataclass(eq=False, slots=True)
class Ref(AvroType):
    """A use of a named type by name; `target` is the node where it is defined."""

    target: Named

    @property
    def type_name(self) -> str:
        return self.target.type_name


def deref(node: AvroType) -> AvroType:
    """Return the definition behind a reference, or the node itself."""
    return node.target if isinstance(node, Ref) else node
