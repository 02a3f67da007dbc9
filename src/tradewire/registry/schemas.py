"""Registry-side Avro: a schema string plus its references, parsed into a model node.

A registered schema may use named types of other registered schemas, named by its
references `(name, subject, version)`. The referenced schemas (recursively: references of
references) and the new schema are parsed together as virtual files of one
`tradewire.avro.catalog.Catalog` (`registry:<subject>/v<version>` and `registry:new`), so
names cross files exactly as in the repository's own schemas. Unions may default to any
branch, as in Avro 1.12 (which current Confluent releases bundle).

The registry stores and returns the normalised form, Avro Java's compact
`Schema.toString()` (referenced types by name), so whitespace and attribute order do not
make a new schema; "the same schema" is the same (schema type, normalised text, references).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.model import AvroType
from tradewire.avro.parse import Problem
from tradewire.registry import codes
from tradewire.registry.client import SchemaReference
from tradewire.registry.records import AVRO, SchemaIdentity, SchemaVersion, reference_from_json
from tradewire.registry.remote import registry_path

__all__ = [
    "NEW_SCHEMA_PATH",
    "ParsedSchema",
    "ReferenceResolver",
    "SchemaRequest",
    "check_schema_type",
    "parse_schema",
    "parse_stored",
]

NEW_SCHEMA_PATH = "registry:new"

ReferenceResolver = Callable[[str, int], SchemaVersion | None]
"""Finds a stored version by (subject, version), soft-deleted ones included; `-1` means the latest."""


@dataclass(frozen=True, slots=True)
class ParsedSchema:
    """A valid schema: its model node, its normalised text and its resolved references."""

    node: AvroType
    schema: str
    references: tuple[SchemaReference, ...] = ()
    schema_type: str = AVRO

    @property
    def identity(self) -> SchemaIdentity:
        """What makes two schemas the same schema."""
        return (self.schema_type, self.schema, self.references)


@dataclass(frozen=True, slots=True)
class SchemaRequest:
    """The body of register, lookup and compatibility requests (unknown properties ignored)."""

    schema: str
    schema_type: str = AVRO
    references: tuple[SchemaReference, ...] = ()
    id: int | None = None
    version: int | None = None

    @classmethod
    def from_json(cls, body: Any) -> SchemaRequest:
        """Read a request body: 400 when it is not an object, 42201 for an empty schema or unsupported type."""
        if not isinstance(body, dict):
            raise codes.bad_request(f"Expected a JSON object as the request body, got {type(body).__name__}")
        schema = body.get("schema")
        if schema is not None and not isinstance(schema, str):
            raise codes.bad_request("'schema' must be a string holding the schema's JSON")
        if not schema:
            raise codes.invalid_schema("Empty schema")
        schema_type = check_schema_type(body.get("schemaType"))
        raw_references = body.get("references")
        if raw_references is None:
            raw_references = []
        if not isinstance(raw_references, list):
            raise codes.bad_request("'references' must be an array")
        try:
            references = tuple(reference_from_json(item) for item in raw_references)
        except ValueError as error:
            raise codes.invalid_schema(f"Invalid schema: {error}") from error
        return cls(schema, schema_type, references, _optional_int(body, "id"), _optional_int(body, "version"))


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise codes.bad_request(f"'{name}' must be an integer")
    return value


def check_schema_type(value: object) -> str:
    """The schema type of a request (`AVRO` when absent); 42201 for any other type."""
    if value is None or (isinstance(value, str) and value.upper() == AVRO):
        return AVRO
    raise codes.invalid_schema(f"Invalid schema type {value}")


def parse_schema(
    text: str,
    references: Sequence[SchemaReference],
    resolve: ReferenceResolver,
    *,
    path: str = NEW_SCHEMA_PATH,
) -> ParsedSchema:
    """Parse `text` with everything its references (recursively) define; 42201 naming the first problem."""
    texts: dict[str, str] = {path: text}
    resolved: list[SchemaReference] = []
    for reference in references:
        stored = _resolve(reference, resolve)
        resolved.append(SchemaReference(reference.name, reference.subject, stored.version))
        _collect(stored, resolve, texts)
    catalog = Catalog.from_texts(texts, union_default="any")
    problems = sorted(catalog.problems(include_warnings=False), key=lambda problem: problem.origin.file != path)
    node = catalog.files[path].node
    if problems or node is None:
        raise codes.invalid_schema(f"Invalid schema: {_describe(problems[0], path) if problems else 'unusable'}")
    return ParsedSchema(node, dumps(to_json(node)), tuple(resolved))


def parse_stored(stored: SchemaVersion, resolve: ReferenceResolver) -> ParsedSchema:
    """Parse a registered version (as the reader or writer of a compatibility check)."""
    if stored.schema_type != AVRO:
        raise codes.invalid_schema(f"Invalid schema type {stored.schema_type}")
    return parse_schema(stored.schema, stored.references, resolve, path=registry_path(stored.subject, stored.version))


def _resolve(reference: SchemaReference, resolve: ReferenceResolver) -> SchemaVersion:
    stored = resolve(reference.subject, reference.version)
    if stored is None:
        raise codes.invalid_schema(
            f'Invalid schema: No schema reference found for subject "{reference.subject}" '
            f"and version {reference.version}"
        )
    if stored.schema_type != AVRO:
        raise codes.invalid_schema(
            f"Invalid schema: reference {reference.name!r} is a {stored.schema_type} schema, not an Avro one"
        )
    return stored


def _collect(stored: SchemaVersion, resolve: ReferenceResolver, texts: dict[str, str]) -> None:
    """Add a referenced version and everything it references (without recursion: chains may be long)."""
    pending = [stored]
    while pending:
        current = pending.pop()
        path = registry_path(current.subject, current.version)
        if path in texts:
            continue
        texts[path] = current.schema
        pending.extend(_resolve(reference, resolve) for reference in current.references)


def _describe(problem: Problem, path: str) -> str:
    where = problem.origin.pointer or "/"
    if problem.origin.file == path:
        return f"{problem.message} (at {where})"
    return f"{problem.message} (at {where} in the referenced schema {problem.origin.file})"
