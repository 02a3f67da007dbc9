"""Specification of `tradewire.avro.canonical`: stored JSON, expanded JSON, canonical form, fingerprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import fingerprint as fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form

from tradewire.avro.canonical import dumps, fingerprint, parsing_canonical_form, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.model import AvroType

REPO_ROOT = Path(__file__).resolve().parents[3]
REPO_SCHEMA_TEXTS = {
    path.relative_to(REPO_ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in sorted(REPO_ROOT.glob("schemas/**/*.avsc"))
}
REPO_SCHEMA_PATHS = list(REPO_SCHEMA_TEXTS)

SIDE = {
    "type": "enum",
    "name": "Side",
    "namespace": "tw.common",
    "symbols": ["BUY", "SELL", "UNKNOWN"],
    "default": "UNKNOWN",
}
META = {"type": "record", "name": "Meta", "namespace": "tw.common", "fields": [{"name": "id", "type": "string"}]}

HAND_MADE_SCHEMAS: dict[str, Any] = {
    "nested_named_types_reused": {
        "type": "record",
        "name": "Trade",
        "namespace": "tw",
        "fields": [
            {
                "name": "leg",
                "type": {
                    "type": "record",
                    "name": "Leg",
                    "fields": [{"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 16}}],
                },
            },
            {"name": "legs", "type": {"type": "array", "items": "Leg"}},
            {"name": "by_id", "type": {"type": "map", "values": "tw.Leg"}},
            {"name": "hash", "type": "Hash"},
            {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"], "default": "BUY"}},
            {"name": "maybe_side", "type": ["null", "Side"], "default": None},
        ],
    },
    "recursive_record": {
        "type": "record",
        "name": "Node",
        "namespace": "tw.tree",
        "fields": [
            {"name": "value", "type": "long"},
            {"name": "next", "type": ["null", "Node"], "default": None},
            {"name": "children", "type": {"type": "array", "items": "Node"}, "default": []},
        ],
    },
    "null_namespace_inside_namespace": {
        "type": "record",
        "name": "Outer",
        "namespace": "tw",
        "fields": [
            {
                "name": "free",
                "type": {
                    "type": "record",
                    "name": "Free",
                    "namespace": "",
                    "fields": [
                        {"name": "inner", "type": {"type": "enum", "name": "Inner", "symbols": ["A"]}},
                        {"name": "inner_again", "type": "Inner"},
                    ],
                },
            },
        ],
    },
    "dotted_names_and_other_namespaces": {
        "type": "record",
        "name": "tw.Outer",
        "fields": [
            {
                "name": "thing",
                "type": {
                    "type": "record",
                    "name": "other.Thing",
                    "fields": [{"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A"]}}],
                },
            },
            {"name": "kind", "type": "other.Kind"},
            {"name": "thing_again", "type": "other.Thing"},
        ],
    },
    "logical_types_props_docs_aliases": {
        "type": "record",
        "name": "Priced",
        "namespace": "tw",
        "doc": "Prices with \u00e9 and \u201cquotes\u201d.",
        "aliases": ["OldPriced", "legacy.Priced"],
        "tradewire.topic": "tw.priced",
        "fields": [
            {"name": "px", "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 8}},
            {
                "name": "fx",
                "type": {"type": "fixed", "name": "Fx", "size": 8, "logicalType": "decimal", "precision": 12},
            },
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}, "doc": "An id.", "order": "descending"},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "aliases": ["ts"]},
            {"name": "score", "type": "double", "default": 0.5, "custom": {"k": [1, 2]}},
        ],
    },
    "error_record": {"type": "error", "name": "Oops", "fields": [{"name": "reason", "type": "string"}]},
    "top_level_union": ["null", "string", {"type": "map", "values": {"type": "array", "items": "int"}}],
    "top_level_logical_primitive": {"type": "long", "logicalType": "timestamp-micros"},
}


def _node(texts: dict[str, str], path: str) -> AvroType:
    catalog = Catalog.from_texts(texts)
    assert [] == catalog.problems()
    node = catalog.files[path].node
    assert node is not None
    return node


def _hand_made_node(schema: object) -> AvroType:
    return _node({"schemas/hand.avsc": json.dumps(schema)}, "schemas/hand.avsc")


def _fastavro_pcf(node: AvroType) -> str:
    result: str = to_parsing_canonical_form(to_json(node, expand=True))
    return result


@pytest.mark.parametrize("path", REPO_SCHEMA_PATHS, ids=[Path(p).name for p in REPO_SCHEMA_PATHS])
def test_repo_schema_canonical_form_and_fingerprint_match_fastavro(path: str) -> None:
    """The Parsing Canonical Form and CRC-64-AVRO fingerprint of every repo schema equal fastavro's."""
    node = _node(REPO_SCHEMA_TEXTS, path)
    expected_pcf = _fastavro_pcf(node)
    assert (expected_pcf, fastavro_fingerprint(expected_pcf, "CRC-64-AVRO")) == (
        parsing_canonical_form(node),
        fingerprint(node),
    )


@pytest.mark.parametrize("path", REPO_SCHEMA_PATHS, ids=[Path(p).name for p in REPO_SCHEMA_PATHS])
def test_repo_schema_to_json_equals_the_file_as_written(path: str) -> None:
    """The stored form of a repo schema is exactly the JSON of its file (references to other files by name)."""
    assert json.loads(REPO_SCHEMA_TEXTS[path]) == to_json(_node(REPO_SCHEMA_TEXTS, path))


@pytest.mark.parametrize("path", REPO_SCHEMA_PATHS, ids=[Path(p).name for p in REPO_SCHEMA_PATHS])
def test_repo_schema_to_json_reparses_to_the_same_json(path: str) -> None:
    """Writing a repo schema with to_json and parsing it again among the other files gives the same JSON."""
    written = to_json(_node(REPO_SCHEMA_TEXTS, path))
    reparsed = _node({**REPO_SCHEMA_TEXTS, path: dumps(written)}, path)
    assert written == to_json(reparsed)


@pytest.mark.parametrize("path", REPO_SCHEMA_PATHS, ids=[Path(p).name for p in REPO_SCHEMA_PATHS])
def test_repo_schema_expanded_json_is_self_contained_and_stable(path: str) -> None:
    """The expanded form parses on its own and expands to itself, with the same fingerprint."""
    node = _node(REPO_SCHEMA_TEXTS, path)
    expanded = to_json(node, expand=True)
    alone = _hand_made_node(expanded)
    assert (expanded, fingerprint(node)) == (to_json(alone, expand=True), fingerprint(alone))


@pytest.mark.parametrize("schema", HAND_MADE_SCHEMAS.values(), ids=HAND_MADE_SCHEMAS.keys())
def test_hand_made_canonical_form_and_fingerprint_match_fastavro(schema: object) -> None:
    """Nested, reused, recursive and namespaced types get fastavro's canonical form and fingerprint."""
    node = _hand_made_node(schema)
    expected_pcf = _fastavro_pcf(node)
    assert (expected_pcf, fastavro_fingerprint(expected_pcf, "CRC-64-AVRO")) == (
        parsing_canonical_form(node),
        fingerprint(node),
    )


@pytest.mark.parametrize("schema", HAND_MADE_SCHEMAS.values(), ids=HAND_MADE_SCHEMAS.keys())
def test_hand_made_to_json_is_idempotent(schema: object) -> None:
    """to_json of a schema parsed from to_json output is the same JSON value."""
    written = to_json(_hand_made_node(schema))
    assert written == to_json(_hand_made_node(written))


def test_to_json_writes_nested_names_relative_to_their_namespace() -> None:
    """A dotted name is split into name and namespace, and inner references use the shortest unambiguous name."""
    written = to_json(_hand_made_node(HAND_MADE_SCHEMAS["dotted_names_and_other_namespaces"]))
    assert {
        "type": "record",
        "name": "Outer",
        "namespace": "tw",
        "fields": [
            {
                "name": "thing",
                "type": {
                    "type": "record",
                    "name": "Thing",
                    "namespace": "other",
                    "fields": [{"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A"]}}],
                },
            },
            {"name": "kind", "type": "other.Kind"},
            {"name": "thing_again", "type": "other.Thing"},
        ],
    } == written


def test_canonical_form_strips_everything_but_parsing_attributes() -> None:
    """The canonical form keeps full names, types, fields, symbols and sizes only, without whitespace."""
    node = _hand_made_node(HAND_MADE_SCHEMAS["logical_types_props_docs_aliases"])
    assert (
        '{"name":"tw.Priced","type":"record","fields":[{"name":"px","type":"bytes"},'
        '{"name":"fx","type":{"name":"tw.Fx","type":"fixed","size":8}},{"name":"id","type":"string"},'
        '{"name":"at","type":"long"},{"name":"score","type":"double"}]}'
    ) == parsing_canonical_form(node)


CROSS_FILE_TEXTS = {
    "schemas/common/side.avsc": json.dumps(SIDE),
    "schemas/common/meta.avsc": json.dumps(META),
    "schemas/exec/fill.avsc": json.dumps(
        {
            "type": "record",
            "name": "Fill",
            "namespace": "tw.exec",
            "fields": [
                {"name": "meta", "type": "tw.common.Meta"},
                {"name": "side", "type": "tw.common.Side"},
                {"name": "closing_side", "type": ["null", "tw.common.Side"], "default": None},
            ],
        }
    ),
}


def test_to_json_refers_to_types_of_other_files_by_full_name() -> None:
    """In the stored form, named types defined in other files stay references (they become schema references)."""
    node = _node(CROSS_FILE_TEXTS, "schemas/exec/fill.avsc")
    assert json.loads(CROSS_FILE_TEXTS["schemas/exec/fill.avsc"]) == to_json(node)


def test_expanded_json_inlines_each_named_type_once_at_first_use() -> None:
    """The expanded form defines every other-file type where it is first used and names it afterwards."""
    node = _node(CROSS_FILE_TEXTS, "schemas/exec/fill.avsc")
    assert {
        "type": "record",
        "name": "Fill",
        "namespace": "tw.exec",
        "fields": [
            {"name": "meta", "type": {**META, "fields": [{"name": "id", "type": "string"}]}},
            {"name": "side", "type": SIDE},
            {"name": "closing_side", "type": ["null", "tw.common.Side"], "default": None},
        ],
    } == to_json(node, expand=True)


def test_dumps_is_compact_and_keeps_non_ascii_characters() -> None:
    """dumps writes no whitespace and leaves non-ASCII characters unescaped, as the registry stores them."""
    assert '{"doc":"café ✓","n":[1,2.5,null]}' == dumps({"doc": "café ✓", "n": [1, 2.5, None]})


def test_error_records_keep_their_type_in_stored_json_but_are_records_in_the_canonical_form() -> None:
    """An 'error' stays 'error' in to_json and is a 'record' in the Parsing Canonical Form, as in Java."""
    node = _hand_made_node(HAND_MADE_SCHEMAS["error_record"])
    assert ("error", '{"name":"Oops","type":"record","fields":[{"name":"reason","type":"string"}]}') == (
        to_json(node)["type"],
        parsing_canonical_form(node),
    )
