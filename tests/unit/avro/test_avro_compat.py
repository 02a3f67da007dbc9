"""Specification of `tradewire.avro.compat`: Java's reader/writer compatibility, every result located."""

from __future__ import annotations

import json
from typing import Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from avro.errors import AvroRuntimeException

from tradewire.avro.canonical import to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.compat import Incompatibility, Kind, check_compatibility, is_compatible
from tradewire.avro.model import AvroType, Origin

OLD_PATH = "schemas/old/trade.avsc"
NEW_PATH = "schemas/new/trade.avsc"


def _trade(*fields: dict[str, Any], name: str = "Trade", namespace: str = "tw", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": namespace, **extra, "fields": list(fields)}


def _field(name: str, field_type: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": field_type, **extra}


def _enum(symbols: list[str], name: str = "Side", **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": symbols, **extra}


def _leg(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "Leg", "fields": list(fields)}


def _node(schema: Any, path: str) -> AvroType:
    catalog = Catalog.from_texts({path: json.dumps(schema)})
    assert [] == catalog.problems()
    node = catalog.files[path].node
    assert node is not None
    return node


def _apache_compatible(reader: AvroType, writer: AvroType) -> bool:
    result = ReaderWriterCompatibilityChecker().get_compatibility(  # type: ignore[no-untyped-call]
        reader=avro.schema.parse(json.dumps(to_json(reader, expand=True))),
        writer=avro.schema.parse(json.dumps(to_json(writer, expand=True))),
    )
    return SchemaCompatibilityType.compatible == result.compatibility


ID = _field("id", "string")
NODE = {
    "type": "record",
    "name": "Node",
    "fields": [_field("value", "int"), _field("next", ["null", "Node"], default=None)],
}

# id: (old schema, new schema, new reads old (backward), old reads new (forward))
PAIRS: dict[str, tuple[Any, Any, bool, bool]] = {
    "identical": (_trade(ID), _trade(ID), True, True),
    "field_added_with_default": (_trade(ID), _trade(ID, _field("venue", "string", default="")), True, True),
    "field_added_without_default": (_trade(ID), _trade(ID, _field("venue", "string")), False, True),
    "field_removed_with_default": (_trade(ID, _field("venue", "string", default="")), _trade(ID), True, True),
    "field_removed_without_default": (_trade(ID, _field("venue", "string")), _trade(ID), True, False),
    "int_to_long": (_trade(_field("q", "int")), _trade(_field("q", "long")), True, False),
    "long_to_float": (_trade(_field("q", "long")), _trade(_field("q", "float")), True, False),
    "float_to_double": (_trade(_field("q", "float")), _trade(_field("q", "double")), True, False),
    "int_to_double": (_trade(_field("q", "int")), _trade(_field("q", "double")), True, False),
    "long_to_int": (_trade(_field("q", "long")), _trade(_field("q", "int")), False, True),
    "string_to_bytes": (_trade(_field("q", "string")), _trade(_field("q", "bytes")), True, True),
    "int_to_string": (_trade(_field("q", "int")), _trade(_field("q", "string")), False, False),
    "boolean_to_int": (_trade(_field("q", "boolean")), _trade(_field("q", "int")), False, False),
    "bytes_to_fixed": (
        _trade(_field("q", "bytes")),
        _trade(_field("q", {"type": "fixed", "name": "Q", "size": 8})),
        False,
        False,
    ),
    "string_to_enum": (_trade(_field("q", "string")), _trade(_field("q", _enum(["A"]))), False, False),
    "enum_symbol_added_without_default": (
        _trade(_field("side", _enum(["BUY", "SELL"]))),
        _trade(_field("side", _enum(["BUY", "SELL", "HOLD"]))),
        True,
        False,
    ),
    "enum_symbol_added_with_default": (
        _trade(_field("side", _enum(["BUY", "SELL", "UNKNOWN"], default="UNKNOWN"))),
        _trade(_field("side", _enum(["BUY", "SELL", "HOLD", "UNKNOWN"], default="UNKNOWN"))),
        True,
        True,
    ),
    "enum_symbol_removed_without_default": (
        _trade(_field("side", _enum(["BUY", "SELL", "HOLD"]))),
        _trade(_field("side", _enum(["BUY", "SELL"]))),
        False,
        True,
    ),
    "enum_symbol_removed_with_default": (
        _trade(_field("side", _enum(["BUY", "SELL", "HOLD", "UNKNOWN"], default="UNKNOWN"))),
        _trade(_field("side", _enum(["BUY", "SELL", "UNKNOWN"], default="UNKNOWN"))),
        True,
        True,
    ),
    "enum_field_added_with_only_an_enum_default": (
        _trade(ID),
        _trade(ID, _field("side", _enum(["BUY", "UNKNOWN"], default="UNKNOWN"))),
        False,
        True,
    ),
    "union_widened": (
        _trade(_field("v", ["null", "string"], default=None)),
        _trade(_field("v", ["null", "string", "long"], default=None)),
        True,
        False,
    ),
    "union_narrowed": (
        _trade(_field("v", ["null", "string", "long"], default=None)),
        _trade(_field("v", ["null", "string"], default=None)),
        False,
        True,
    ),
    "union_branch_promoted": (
        _trade(_field("v", ["null", "int"], default=None)),
        _trade(_field("v", ["null", "long"], default=None)),
        True,
        False,
    ),
    "plain_to_union_containing_it": (
        _trade(_field("v", "string")),
        _trade(_field("v", ["null", "string"], default=None)),
        True,
        False,
    ),
    "union_to_plain_branch": (
        _trade(_field("v", ["null", "string"], default=None)),
        _trade(_field("v", "string")),
        False,
        True,
    ),
    "single_branch_union_to_plain": (_trade(_field("v", ["string"])), _trade(_field("v", "string")), True, True),
    "fixed_size_changed": (
        _trade(_field("h", {"type": "fixed", "name": "Hash", "size": 16})),
        _trade(_field("h", {"type": "fixed", "name": "Hash", "size": 8})),
        False,
        False,
    ),
    "record_renamed_without_alias": (_trade(ID), _trade(ID, name="Deal"), False, False),
    # Aliases are written relative to the type's namespace (as Java does), so these aliases name
    # another namespace to stay fully qualified for the Python port, which does not qualify them.
    "record_moved_and_renamed_with_qualified_alias": (
        _trade(ID),
        _trade(ID, name="Deal", namespace="tw.v2", aliases=["tw.Trade"]),
        True,
        False,
    ),
    "enum_moved_and_renamed_with_qualified_alias": (
        _trade(_field("side", _enum(["BUY"]))),
        _trade(_field("side", _enum(["BUY"], name="Direction", namespace="tw.enums", aliases=["tw.Side"]))),
        True,
        False,
    ),
    "fixed_renamed_without_alias": (
        _trade(_field("h", {"type": "fixed", "name": "Hash", "size": 4})),
        _trade(_field("h", {"type": "fixed", "name": "Digest", "size": 4})),
        False,
        False,
    ),
    "namespace_only_change": (_trade(ID), _trade(ID, namespace="tw.v2"), True, True),
    "field_renamed_with_alias": (
        _trade(_field("px", "double")),
        _trade(_field("price", "double", aliases=["px"])),
        True,
        False,
    ),
    "field_renamed_without_alias": (_trade(_field("px", "double")), _trade(_field("price", "double")), False, False),
    "nested_field_added_without_default": (
        _trade(_field("leg", _leg(_field("px", "double")))),
        _trade(_field("leg", _leg(_field("px", "double"), _field("qty", "double")))),
        False,
        True,
    ),
    "nested_field_added_with_default": (
        _trade(_field("leg", _leg(_field("px", "double")))),
        _trade(_field("leg", _leg(_field("px", "double"), _field("qty", "double", default=0.0)))),
        True,
        True,
    ),
    "array_of_records_field_added_without_default": (
        _trade(_field("legs", {"type": "array", "items": _leg(_field("px", "double"))})),
        _trade(_field("legs", {"type": "array", "items": _leg(_field("px", "double"), _field("qty", "long"))})),
        False,
        True,
    ),
    "map_of_records_field_removed_without_default": (
        _trade(_field("legs", {"type": "map", "values": _leg(_field("px", "double"), _field("qty", "long"))})),
        _trade(_field("legs", {"type": "map", "values": _leg(_field("px", "double"))})),
        True,
        False,
    ),
    "array_items_promoted": (
        _trade(_field("xs", {"type": "array", "items": "int"})),
        _trade(_field("xs", {"type": "array", "items": "long"})),
        True,
        False,
    ),
    "map_to_array": (
        _trade(_field("xs", {"type": "map", "values": "int"})),
        _trade(_field("xs", {"type": "array", "items": "int"})),
        False,
        False,
    ),
    "recursive_field_added_with_default": (
        _trade(_field("head", NODE)),
        _trade(_field("head", {**NODE, "fields": [*NODE["fields"], _field("label", "string", default="")]})),
        True,
        True,
    ),
    "recursive_field_added_without_default": (
        _trade(_field("head", NODE)),
        _trade(_field("head", {**NODE, "fields": [*NODE["fields"], _field("label", "string")]})),
        False,
        True,
    ),
}

DIRECTIONS = ["new_reads_old", "old_reads_new"]
PAIR_CASES = [
    pytest.param(old, new, direction, backward if direction == DIRECTIONS[0] else forward, id=f"{pair_id}-{direction}")
    for pair_id, (old, new, backward, forward) in PAIRS.items()
    for direction in DIRECTIONS
]


@pytest.mark.parametrize(("old", "new", "direction", "expected"), PAIR_CASES)
def test_verdict_matches_the_apache_checker(old: Any, new: Any, direction: str, expected: bool) -> None:
    """For each old/new pair and direction, compatibility is the declared verdict, as the Apache checker says."""
    old_node, new_node = _node(old, OLD_PATH), _node(new, NEW_PATH)
    reader, writer = (new_node, old_node) if direction == "new_reads_old" else (old_node, new_node)
    assert (expected, expected) == (_apache_compatible(reader, writer), check_compatibility(reader, writer) == [])


def _located(reader_schema: Any, writer_schema: Any) -> list[tuple[Kind, Origin, Origin, tuple[str, ...]]]:
    found = check_compatibility(_node(reader_schema, NEW_PATH), _node(writer_schema, OLD_PATH))
    return [(item.kind, item.reader, item.writer, item.path) for item in found]


def test_type_change_is_located_at_both_field_types() -> None:
    """A field whose type cannot be promoted is TYPE_MISMATCH at /fields/N/type in both files."""
    assert [
        (Kind.TYPE_MISMATCH, Origin(NEW_PATH, "/fields/1/type"), Origin(OLD_PATH, "/fields/1/type"), ("q",))
    ] == _located(_trade(ID, _field("q", "int")), _trade(ID, _field("q", "string")))


def test_missing_default_is_located_at_the_reader_field_and_writer_fields() -> None:
    """A new reader field without default is READER_FIELD_MISSING_DEFAULT_VALUE at the field and the writer's fields."""
    assert [
        (
            Kind.READER_FIELD_MISSING_DEFAULT_VALUE,
            Origin(NEW_PATH, "/fields/2"),
            Origin(OLD_PATH, "/fields"),
            ("venue",),
        )
    ] == _located(_trade(ID, _field("q", "int"), _field("venue", "string")), _trade(ID, _field("q", "int")))


def test_missing_enum_symbols_are_located_at_both_symbol_lists() -> None:
    """A reader enum without a writer symbol and without default is MISSING_ENUM_SYMBOLS at both 'symbols'."""
    found = check_compatibility(
        _node(_trade(ID, _field("side", _enum(["BUY"]))), NEW_PATH),
        _node(_trade(ID, _field("side", _enum(["BUY", "SELL", "HOLD"]))), OLD_PATH),
    )
    assert [
        Incompatibility(
            Kind.MISSING_ENUM_SYMBOLS,
            Origin(NEW_PATH, "/fields/1/type/symbols"),
            Origin(OLD_PATH, "/fields/1/type/symbols"),
            ("side",),
            "enum tw.Side lacks symbol(s) HOLD, SELL and declares no default",
            "HOLD, SELL",
        )
    ] == found


def test_fixed_size_change_is_located_at_both_sizes() -> None:
    """Fixed types of different sizes are FIXED_SIZE_MISMATCH at both 'size' attributes."""
    assert [
        (
            Kind.FIXED_SIZE_MISMATCH,
            Origin(NEW_PATH, "/fields/0/type/size"),
            Origin(OLD_PATH, "/fields/0/type/size"),
            ("h",),
        )
    ] == _located(
        _trade(_field("h", {"type": "fixed", "name": "Hash", "size": 8})),
        _trade(_field("h", {"type": "fixed", "name": "Hash", "size": 16})),
    )


def test_rename_without_alias_is_located_at_both_names() -> None:
    """A renamed record without a matching alias is NAME_MISMATCH at both '/name' attributes."""
    assert [(Kind.NAME_MISMATCH, Origin(NEW_PATH, "/name"), Origin(OLD_PATH, "/name"), ())] == _located(
        _trade(ID, name="Deal"), _trade(ID)
    )


def test_missing_union_branch_is_located_at_the_reader_union_and_the_writer_branch() -> None:
    """A writer branch the reader union cannot read is MISSING_UNION_BRANCH at the reader union and that branch."""
    assert [
        (Kind.MISSING_UNION_BRANCH, Origin(NEW_PATH, "/fields/0/type"), Origin(OLD_PATH, "/fields/0/type/2"), ("v",))
    ] == _located(
        _trade(_field("v", ["null", "int"], default=None)),
        _trade(_field("v", ["null", "int", "string"], default=None)),
    )


def test_nested_problems_carry_the_field_path_from_the_top_record() -> None:
    """An incompatibility inside a nested record names the chain of reader field names leading to it."""
    assert [
        (
            Kind.READER_FIELD_MISSING_DEFAULT_VALUE,
            Origin(NEW_PATH, "/fields/0/type/items/fields/1"),
            Origin(OLD_PATH, "/fields/0/type/items/fields"),
            ("legs", "qty"),
        )
    ] == _located(
        _trade(_field("legs", {"type": "array", "items": _leg(_field("px", "double"), _field("qty", "long"))})),
        _trade(_field("legs", {"type": "array", "items": _leg(_field("px", "double"))})),
    )


def test_every_incompatibility_of_a_record_is_reported() -> None:
    """Checking does not stop at the first problem: each incompatible field is listed, in reader field order."""
    kinds = [
        item.kind
        for item in check_compatibility(
            _node(_trade(_field("a", "int"), _field("b", "string"), _field("c", "long")), NEW_PATH),
            _node(_trade(_field("a", "string"), _field("b", "boolean")), OLD_PATH),
        )
    ]
    assert [Kind.TYPE_MISMATCH, Kind.TYPE_MISMATCH, Kind.READER_FIELD_MISSING_DEFAULT_VALUE] == kinds


def test_is_compatible_is_the_absence_of_incompatibilities() -> None:
    """is_compatible is True exactly when check_compatibility returns no incompatibility."""
    old, new = _node(_trade(ID), OLD_PATH), _node(_trade(ID, _field("venue", "string")), NEW_PATH)
    assert (False, True) == (is_compatible(new, old), is_compatible(old, new))


# -- deliberate divergences from the Apache Python port (which differs from Java) ----------


@pytest.mark.parametrize("alias", ["Trade", "tw.Trade"], ids=["unqualified", "qualified_same_namespace"])
def test_unqualified_alias_resolves_against_the_namespace_unlike_the_python_port(alias: str) -> None:
    """A renamed tw.Deal aliased 'Trade' matches the old tw.Trade (Java); the Python port only matches
    fully-qualified aliases, so the expanded form it is fed writes aliases in full."""
    reader = _node(_trade(ID, name="Deal", aliases=[alias]), NEW_PATH)
    writer = _node(_trade(ID), OLD_PATH)
    assert ([], ["tw.Trade"], ["Trade"], True) == (
        check_compatibility(reader, writer),
        to_json(reader, expand=True)["aliases"],
        to_json(reader)["aliases"],
        _apache_compatible(reader, writer),
    )
    as_written = ReaderWriterCompatibilityChecker().get_compatibility(  # type: ignore[no-untyped-call]
        reader=avro.schema.parse(json.dumps(to_json(reader))),
        writer=avro.schema.parse(json.dumps(to_json(writer, expand=True))),
    )
    assert SchemaCompatibilityType.incompatible == as_written.compatibility


def test_error_records_are_compared_as_records_unlike_the_python_port() -> None:
    """'error' types are records (Java); the Python port cannot compare them at all."""
    old = _node({"type": "error", "name": "Oops", "fields": [ID]}, OLD_PATH)
    new = _node({"type": "error", "name": "Oops", "fields": [ID, _field("code", "int")]}, NEW_PATH)
    assert ([], [Kind.READER_FIELD_MISSING_DEFAULT_VALUE]) == (
        check_compatibility(old, new),
        [item.kind for item in check_compatibility(new, old)],
    )
    with pytest.raises(AvroRuntimeException, match="Unknown schema type: error"):
        _apache_compatible(old, new)


def test_error_and_record_of_the_same_name_are_compatible() -> None:
    """An 'error' and a 'record' with the same name and fields read each other, as both are Java records."""
    old = _node({"type": "error", "name": "Oops", "fields": [ID]}, OLD_PATH)
    new = _node({"type": "record", "name": "Oops", "fields": [ID]}, NEW_PATH)
    assert ([], []) == (check_compatibility(old, new), check_compatibility(new, old))


def test_reader_field_matching_two_writer_fields_is_ambiguous_unlike_the_python_port() -> None:
    """A reader field whose name and aliases match two writer fields is AMBIGUOUS_FIELD_ALIAS; the port picks one."""
    reader = _node(_trade(_field("px", "double", aliases=["price"])), NEW_PATH)
    writer = _node(_trade(_field("px", "double"), _field("price", "double")), OLD_PATH)
    assert (
        [
            Incompatibility(
                Kind.AMBIGUOUS_FIELD_ALIAS,
                Origin(NEW_PATH, "/fields/0"),
                Origin(OLD_PATH, ""),
                ("px",),
                "field 'px' matches writer fields px, price by name or alias",
                "px",
            )
        ],
        True,
    ) == (check_compatibility(reader, writer), _apache_compatible(reader, writer))
