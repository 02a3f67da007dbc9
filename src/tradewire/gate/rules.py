"""Every rule the gate can report, declared as data so that docs and `tradewire rules` agree.

A rule has a stable id, one sentence of purpose, a category and the check it belongs to:
`input` rules fire whenever a schema cannot be read at all (they cannot be switched off),
`lint` rules are house style for contracts, `breaking` rules compare a schema with its
earlier versions under the subject's compatibility level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["RULES", "Rule", "rule", "rules_of"]

Check = Literal["input", "lint", "breaking"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's declaration: id, purpose, category and check."""

    id: str
    purpose: str
    category: str
    check: Check


RULES: tuple[Rule, ...] = (
    # input: the file cannot be used at all
    Rule("INVALID_JSON", "A schema file must be valid JSON, encoded in UTF-8.", "INPUT", "input"),
    Rule(
        "SCHEMA_TOO_LARGE",
        "A schema file is at most 256 KiB, so it fits a registry request and generates a module of sensible size.",
        "INPUT",
        "input",
    ),
    Rule("INVALID_AVRO", "A schema must be valid Avro as Avro Java parses it.", "INPUT", "input"),
    Rule(
        "INVALID_DEFAULT",
        "A field default must match the field's type (the first branch of a union).",
        "INPUT",
        "input",
    ),
    Rule(
        "UNKNOWN_TYPE",
        "Every named type a schema uses must be defined by some schema file.",
        "INPUT",
        "input",
    ),
    Rule(
        "DUPLICATE_TYPE",
        "A named type is defined exactly once across all schema files.",
        "INPUT",
        "input",
    ),
    Rule(
        "REFERENCE_CYCLE",
        "Schema files must not reference each other in a cycle.",
        "INPUT",
        "input",
    ),
    Rule(
        "BASELINE_INVALID",
        "The earlier version a schema is compared with must itself be readable.",
        "INPUT",
        "input",
    ),
    # lint: structure
    Rule(
        "FILE_SINGLE_TYPE",
        "A schema file defines one named type at its top level (one event type per file).",
        "STRUCTURE",
        "lint",
    ),
    Rule(
        "FILE_NAME",
        "An event's file is named after its topic, a shared type's after its name in snake_case.",
        "STRUCTURE",
        "lint",
    ),
    Rule(
        "NAMESPACE",
        "Types live in the namespace <root>.<domain>; shared types in <root>.common.",
        "STRUCTURE",
        "lint",
    ),
    Rule(
        "EVENT_TOPIC",
        "An event declares its Kafka topic (tradewire.topic) as lowercase dotted words.",
        "ROUTING",
        "lint",
    ),
    Rule("TOPIC_UNIQUE", "Each topic carries exactly one event type.", "ROUTING", "lint"),
    Rule(
        "EVENT_KEY",
        "An event declares its partition key (tradewire.key): a required string, uuid or enum field.",
        "ROUTING",
        "lint",
    ),
    Rule(
        "EVENT_METADATA",
        "An event's first field is the shared metadata record, referenced by name.",
        "STRUCTURE",
        "lint",
    ),
    # lint: naming
    Rule(
        "NAME_CASE",
        "Types are PascalCase, fields snake_case, enum symbols UPPER_SNAKE_CASE.",
        "NAMING",
        "lint",
    ),
    Rule(
        "NAME_PYTHON_SAFE",
        "Names must be usable in generated Python: no keywords, no leading underscore, no reserved members.",
        "NAMING",
        "lint",
    ),
    # lint: docs
    Rule("DOC_TYPE", "Every record, enum and fixed has a non-empty doc.", "DOCS", "lint"),
    Rule("DOC_FIELD", "Every field has a non-empty doc.", "DOCS", "lint"),
    # lint: types
    Rule(
        "ENUM_DEFAULT",
        "Every enum declares a default symbol, so readers survive symbols added later.",
        "TYPES",
        "lint",
    ),
    Rule(
        "FLOAT_FOR_MONEY",
        "Prices, quantities and amounts are decimals, never float or double.",
        "TYPES",
        "lint",
    ),
    Rule(
        "DECIMAL_PRECISION_SCALE",
        "A decimal states its precision and scale explicitly, with 0 <= scale <= precision.",
        "TYPES",
        "lint",
    ),
    Rule(
        "LOGICAL_TYPE_VALID",
        "A logical type must fit its underlying type, or readers silently ignore it.",
        "TYPES",
        "lint",
    ),
    Rule(
        "TIMESTAMP_MICROS",
        "Instants (fields named *_at) are long timestamp-micros.",
        "TYPES",
        "lint",
    ),
    Rule(
        "OPTIONAL_DEFAULT_NULL",
        "An optional field is a union whose first branch is null, with default null.",
        "TYPES",
        "lint",
    ),
    # breaking: the wire (Avro resolution)
    Rule(
        "FIELD_ADDED_WITHOUT_DEFAULT",
        "A field added without a default cannot be read from data written before.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "FIELD_REMOVED_WITHOUT_DEFAULT",
        "A field removed that had no default breaks readers of the previous version.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "FIELD_TYPE_CHANGED",
        "A type may only change by Avro promotion (int->long->float->double, string<->bytes).",
        "WIRE",
        "breaking",
    ),
    Rule(
        "ENUM_SYMBOL_REMOVED",
        "Removing an enum symbol breaks reading data that carries it.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "ENUM_SYMBOL_ADDED",
        "Adding a symbol breaks earlier readers whose enum has no default.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "UNION_BRANCH_REMOVED",
        "Removing a union branch breaks reading data written with it.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "UNION_BRANCH_ADDED",
        "Adding a union branch breaks earlier readers, which cannot read it.",
        "WIRE",
        "breaking",
    ),
    Rule("FIXED_SIZE_CHANGED", "A fixed type's size never changes.", "WIRE", "breaking"),
    Rule(
        "NAME_CHANGED",
        "A named type keeps its name, or lists the old full name in its aliases.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "FIELD_ALIAS_AMBIGUOUS",
        "A field's name and aliases match at most one field of the earlier version.",
        "WIRE",
        "breaking",
    ),
    Rule(
        "INCOMPATIBLE",
        "The Apache Avro checker finds the versions incompatible.",
        "WIRE",
        "breaking",
    ),
    # breaking: the contract around the bytes
    Rule(
        "SCHEMA_REMOVED",
        "An event type or shared type is not deleted while agents may still use it.",
        "CONTRACT",
        "breaking",
    ),
    Rule(
        "TOPIC_CHANGED",
        "An event keeps its topic: consumers of the old topic would stop receiving it.",
        "CONTRACT",
        "breaking",
    ),
    Rule(
        "KEY_CHANGED",
        "An event keeps its partition key: changing it breaks per-key ordering across the switch.",
        "CONTRACT",
        "breaking",
    ),
)

_BY_ID = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule:
    """Return the rule with id `rule_id` (KeyError if there is none)."""
    return _BY_ID[rule_id]


def rules_of(check: Check) -> tuple[Rule, ...]:
    """Rules of one check (`input`, `lint` or `breaking`)."""
    return tuple(r for r in RULES if r.check == check)
