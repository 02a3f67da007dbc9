"""Specification of the strict Avro parser and the multi-file catalog (`parse.py`, `catalog.py`)."""

from __future__ import annotations

import json

import pytest

from tradewire.avro.catalog import Catalog
from tradewire.avro.model import Array, Enum, Fixed, Map, Origin, Primitive, Record, Ref, Union
from tradewire.avro.parse import UnionDefaultRule
from tradewire.avro.sourcemap import Position

SCHEMA_PATH = "schemas/test/subject.avsc"


def _single(text: str, union_default: UnionDefaultRule = "first") -> Catalog:
    return Catalog.from_texts({SCHEMA_PATH: text}, union_default)


def _record(*fields: str) -> str:
    """A record tw.Trade with the given field JSON texts, on one line."""
    return '{"type": "record", "name": "Trade", "namespace": "tw", "fields": [' + ", ".join(fields) + "]}"


def _problem_summary(catalog: Catalog) -> list[tuple[str, str, str, Position, bool]]:
    return [
        (problem.rule, problem.origin.file, problem.origin.pointer, catalog.locate(problem.origin), problem.fatal)
        for problem in catalog.problems()
    ]


# -- valid schemas -----------------------------------------------------------------


def test_nested_named_types_inherit_the_enclosing_namespace() -> None:
    """Records, enums and fixed types defined inside a record take its namespace unless they name their own."""
    catalog = _single(
        _record(
            '{"name": "leg", "type": {"type": "record", "name": "Leg", "fields": []}}',
            '{"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}}',
            '{"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 16}}',
            '{"name": "free", "type": {"type": "record", "name": "Free", "namespace": "", "fields": []}}',
            '{"name": "other", "type": {"type": "enum", "name": "x.y.Other", "namespace": "ignored", '
            '"symbols": ["A"]}}',
            '{"name": "again", "type": "Leg"}',
        )
    )
    assert ([], ["Free", "tw.Hash", "tw.Leg", "tw.Side", "tw.Trade", "x.y.Other"]) == (
        catalog.problems(),
        sorted(catalog.types),
    )


def test_a_nested_type_inside_a_null_namespace_type_resolves_by_short_name() -> None:
    """Types nested in a type with the explicit namespace "" stay in the null namespace."""
    catalog = _single(
        _record(
            '{"name": "free", "type": {"type": "record", "name": "Free", "namespace": "", "fields": ['
            '{"name": "inner", "type": {"type": "enum", "name": "Inner", "symbols": ["A"]}}]}}',
            '{"name": "inner_again", "type": "Inner"}',
        )
    )
    assert ([], ["Free", "Inner", "tw.Trade"]) == (catalog.problems(), sorted(catalog.types))


def test_parsed_nodes_keep_types_defaults_and_logical_types() -> None:
    """The model holds each field's type node, default, order, and valid logical types."""
    catalog = _single(
        _record(
            '{"name": "tags", "type": {"type": "array", "items": "string"}, "default": []}',
            '{"name": "attrs", "type": {"type": "map", "values": "long"}, "order": "ignore"}',
            '{"name": "note", "type": ["null", "string"], "default": null}',
            '{"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "UNKNOWN"], '
            '"default": "UNKNOWN"}}',
            '{"name": "px", "type": {"type": "fixed", "name": "Px", "size": 8, "logicalType": "decimal", '
            '"precision": 18, "scale": 4}}',
            '{"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}}',
            '{"name": "next", "type": ["null", "Trade"], "default": null}',
        )
    )
    trade = catalog.files[SCHEMA_PATH].top
    assert isinstance(trade, Record)
    tags, attrs, note, side, px, at, next_trade = trade.fields
    assert isinstance(tags.type, Array) and isinstance(attrs.type, Map) and isinstance(note.type, Union)
    assert isinstance(side.type, Enum) and isinstance(px.type, Fixed) and isinstance(at.type, Primitive)
    next_branch = next_trade.type.branches[1] if isinstance(next_trade.type, Union) else None
    assert isinstance(next_branch, Ref)
    assert (
        [],
        [],
        "ignore",
        None,
        ("UNKNOWN", ("BUY", "UNKNOWN")),
        (8, "decimal", 18, 4),
        "timestamp-micros",
        trade,
    ) == (
        catalog.problems(),
        tags.default,
        attrs.order,
        note.default,
        (side.type.default, side.type.symbols),
        (px.type.size, px.type.logical, px.type.precision, px.type.scale),
        at.type.logical,
        next_branch.target,
    )


def test_unknown_logical_types_are_ignored_silently() -> None:
    """A logical type no Avro implementation knows is neither applied nor reported."""
    catalog = _single(_record('{"name": "a", "type": {"type": "string", "logicalType": "ip-address"}}'))
    trade = catalog.files[SCHEMA_PATH].top
    assert isinstance(trade, Record) and isinstance(trade.fields[0].type, Primitive)
    assert ([], None) == (catalog.problems(), trade.fields[0].type.logical)


def test_union_default_any_accepts_a_default_matching_a_later_branch() -> None:
    """With union_default='any', a null-first union may default to a value of its second branch."""
    text = _record('{"name": "qty", "type": ["null", "int"], "default": 1}')
    assert ([], ["INVALID_DEFAULT"]) == (
        _single(text, "any").problems(),
        [problem.rule for problem in _single(text).problems()],
    )


@pytest.mark.parametrize(
    "value",
    [-(2**31), 2**31 - 1],
    ids=["int_minimum", "int_maximum"],
)
def test_int_defaults_at_the_32_bit_bounds_are_valid(value: int) -> None:
    """The smallest and largest 32-bit integers are valid int defaults."""
    assert [] == _single(_record(f'{{"name": "qty", "type": "int", "default": {value}}}')).problems()


# -- fatal problems ------------------------------------------------------------------

FATAL_CASES = {
    # id: (text, rule, pointer, marker where the position must be, message fragment)
    "invalid_json": ('{"type": "record",, }', "INVALID_JSON", "", ", }", "invalid JSON: expected a double-quoted"),
    "bad_record_name": (
        '{"type": "record", "name": "9Lives", "fields": []}',
        "INVALID_AVRO",
        "/name",
        '"9Lives"',
        "name '9Lives' is not a valid Avro name",
    ),
    "bad_namespace": (
        '{"type": "record", "name": "R", "namespace": "a..b", "fields": []}',
        "INVALID_AVRO",
        "/namespace",
        '"a..b"',
        "namespace 'a..b' is not a valid Avro namespace",
    ),
    "primitive_redefined": (
        '{"type": "record", "name": "int", "fields": []}',
        "INVALID_AVRO",
        "/name",
        '"int"',
        "'int' redefines a primitive type",
    ),
    "missing_type": ('{"name": "R", "fields": []}', "INVALID_AVRO", "", "{", "a schema object needs a 'type'"),
    "field_missing_type": (
        _record('{"name": "a"}'),
        "INVALID_AVRO",
        "/fields/0",
        '{"name": "a"}',
        "field 'a' needs a 'type'",
    ),
    "missing_fields": ('{"type": "record", "name": "R"}', "INVALID_AVRO", "", "{", "a record needs a 'fields' array"),
    "fields_not_an_array": (
        '{"type": "record", "name": "R", "fields": {}}',
        "INVALID_AVRO",
        "/fields",
        "{}",
        "a record needs a 'fields' array",
    ),
    "duplicate_field": (
        _record('{"name": "a", "type": "int"}', '{"name": "a", "type": "long"}'),
        "INVALID_AVRO",
        "/fields/1/name",
        '"a", "type": "long"',
        "field 'a' appears twice",
    ),
    "dotted_field_name": (
        _record('{"name": "a.b", "type": "int"}'),
        "INVALID_AVRO",
        "/fields/0/name",
        '"a.b"',
        "field name 'a.b' may not contain '.'",
    ),
    "union_inside_union": (
        '["null", ["int", "string"]]',
        "INVALID_AVRO",
        "/1",
        '["int"',
        "unions may not immediately contain other unions",
    ),
    "duplicate_union_branch": (
        '["null", "string", "null"]',
        "INVALID_AVRO",
        "/2",
        '"null"]',
        "union contains 'null' more than once",
    ),
    "enum_default_not_a_symbol": (
        '{"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "C"}',
        "INVALID_AVRO",
        "/default",
        '"C"',
        "enum default 'C' is not one of the symbols",
    ),
    "duplicate_symbol": (
        '{"type": "enum", "name": "E", "symbols": ["A", "B", "A"]}',
        "INVALID_AVRO",
        "/symbols/2",
        '"A"]',
        "enum symbol 'A' appears twice",
    ),
    "bad_symbol": (
        '{"type": "enum", "name": "E", "symbols": ["A-1"]}',
        "INVALID_AVRO",
        "/symbols/0",
        '"A-1"',
        "enum symbol 'A-1' is not a valid Avro name",
    ),
    "negative_fixed_size": (
        '{"type": "fixed", "name": "F", "size": -1}',
        "INVALID_AVRO",
        "/size",
        "-1",
        "a fixed needs an integer 'size' >= 0",
    ),
    "fixed_without_size": (
        '{"type": "fixed", "name": "F"}',
        "INVALID_AVRO",
        "",
        "{",
        "a fixed needs an integer 'size' >= 0",
    ),
    "bad_order": (
        _record('{"name": "a", "type": "int", "order": "up"}'),
        "INVALID_AVRO",
        "/fields/0/order",
        '"up"',
        "order must be ascending, descending or ignore",
    ),
    "array_without_items": ('{"type": "array"}', "INVALID_AVRO", "", "{", "an array needs 'items'"),
    "record_keyword_as_string": (
        _record('{"name": "a", "type": "record"}'),
        "INVALID_AVRO",
        "/fields/0/type",
        '"record"}',
        "'record' must be written as an object",
    ),
    "type_defined_twice_in_one_file": (
        _record('{"name": "a", "type": {"type": "record", "name": "Trade", "fields": []}}'),
        "DUPLICATE_TYPE",
        "/fields/0/type/name",
        '"Trade", "fields": []}',
        "type 'tw.Trade' is defined twice",
    ),
    "int_default_is_a_string": (
        _record('{"name": "qty", "type": "int", "default": "x"}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        '"x"',
        "default 'x' of field 'qty' does not match its type int",
    ),
    "null_first_union_with_non_null_default": (
        _record('{"name": "qty", "type": ["null", "int"], "default": 1}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        "1}",
        "(a union default must match the first branch)",
    ),
    "record_default_missing_a_field": (
        _record(
            '{"name": "leg", "type": {"type": "record", "name": "Leg", "fields": '
            '[{"name": "a", "type": "int"}, {"name": "b", "type": "int"}]}, "default": {"a": 1}}'
        ),
        "INVALID_DEFAULT",
        "/fields/0/default",
        '{"a": 1}',
        "does not match its type record tw.Leg",
    ),
    "int_default_above_32_bits": (
        _record('{"name": "qty", "type": "int", "default": 2147483648}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        "2147483648",
        "default 2147483648 of field 'qty'",
    ),
    "long_default_above_64_bits": (
        _record('{"name": "qty", "type": "long", "default": 9223372036854775808}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        "9223372036854775808",
        "does not match its type long",
    ),
    "int_default_is_a_float": (
        _record('{"name": "qty", "type": "int", "default": 1.0}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        "1.0",
        "default 1.0 of field 'qty'",
    ),
    "bytes_default_beyond_latin1": (
        _record('{"name": "raw", "type": "bytes", "default": "\\u0100"}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        '"\\u0100"',
        "does not match its type bytes",
    ),
    "fixed_default_of_wrong_length": (
        _record('{"name": "h", "type": {"type": "fixed", "name": "H", "size": 2}, "default": "abc"}'),
        "INVALID_DEFAULT",
        "/fields/0/default",
        '"abc"',
        "does not match its type fixed tw.H",
    ),
    "unknown_type": (
        _record('{"name": "a", "type": "Missing"}'),
        "UNKNOWN_TYPE",
        "/fields/0/type",
        '"Missing"',
        "unknown type 'Missing': no schema file defines 'tw.Missing'",
    ),
}


@pytest.mark.parametrize(("text", "rule", "pointer", "marker", "message"), FATAL_CASES.values(), ids=FATAL_CASES.keys())
def test_each_fatal_problem_is_reported_once_at_its_node(
    text: str, rule: str, pointer: str, marker: str, message: str
) -> None:
    """A fatal problem yields exactly one Problem with its rule, pointer and source position, and no parsed node."""
    catalog = _single(text)
    expected_position = Position(1, text.index(marker) + 1)
    assert [(rule, SCHEMA_PATH, pointer, expected_position, True)] == _problem_summary(catalog)
    assert message in catalog.problems()[0].message
    assert (False, None) == (catalog.files[SCHEMA_PATH].ok, catalog.files[SCHEMA_PATH].node)


def test_invalid_json_position_spans_lines() -> None:
    """An INVALID_JSON problem is located where the JSON parser gave up, on any line."""
    catalog = _single('{\n  "type": "record",\n  "name": "R",\n  "fields": [,]\n}')
    assert [("INVALID_JSON", SCHEMA_PATH, "", Position(4, 14), True)] == _problem_summary(catalog)


def test_enum_default_of_the_wrong_json_type_is_a_problem_not_a_crash() -> None:
    """An enum whose default is a JSON array is reported as INVALID_AVRO at /default instead of raising TypeError."""
    text = '{"type": "enum", "name": "E", "symbols": ["A"], "default": ["A"]}'
    catalog = _single(text)
    assert [("INVALID_AVRO", SCHEMA_PATH, "/default", Position(1, text.index('["A"]}') + 1), True)] == (
        _problem_summary(catalog)
    )


def test_null_namespace_attribute_inherits_the_enclosing_namespace_like_java() -> None:
    """A null "namespace" is treated as absent (Java inherits the enclosing one), so other files can use the type."""
    catalog = Catalog.from_texts(
        {
            "schemas/a.avsc": _record(
                '{"name": "leg", "type": {"type": "record", "name": "Leg", "namespace": null, "fields": []}}'
            ),
            "schemas/b.avsc": '{"type": "record", "name": "B", "fields": [{"name": "leg", "type": "tw.Leg"}]}',
        }
    )
    assert ([], ["B", "tw.Leg", "tw.Trade"]) == (catalog.problems(), sorted(catalog.types))


# -- non-fatal logical type problems ---------------------------------------------------

WARNING_CASES = {
    # id: (field type JSON, rule, pointer below the field type, marker of the located value, message fragment)
    "decimal_scale_above_precision": (
        '{"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 3}',
        "DECIMAL_PRECISION_SCALE",
        "/scale",
        "3}",
        "decimal scale 3 exceeds precision 2",
    ),
    "decimal_without_precision": (
        '{"type": "bytes", "logicalType": "decimal"}',
        "DECIMAL_PRECISION_SCALE",
        "/precision",
        "{",
        "a decimal needs an integer precision > 0",
    ),
    "decimal_zero_precision": (
        '{"type": "bytes", "logicalType": "decimal", "precision": 0}',
        "DECIMAL_PRECISION_SCALE",
        "/precision",
        "0}",
        "a decimal needs an integer precision > 0",
    ),
    "decimal_negative_scale": (
        '{"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": -1}',
        "DECIMAL_PRECISION_SCALE",
        "/scale",
        "-1",
        "a decimal scale must be an integer >= 0",
    ),
    "decimal_precision_too_big_for_fixed": (
        '{"type": "fixed", "name": "D", "size": 4, "logicalType": "decimal", "precision": 10}',
        "DECIMAL_PRECISION_SCALE",
        "/precision",
        "10}",
        "fixed(4) holds at most 9 decimal digits, not 10",
    ),
    "decimal_on_string": (
        '{"type": "string", "logicalType": "decimal", "precision": 4}',
        "LOGICAL_TYPE_VALID",
        "/logicalType",
        '"decimal"',
        "logical type 'decimal' does not apply to 'string'",
    ),
    "uuid_on_int": (
        '{"type": "int", "logicalType": "uuid"}',
        "LOGICAL_TYPE_VALID",
        "/logicalType",
        '"uuid"',
        "logical type 'uuid' does not apply to 'int'",
    ),
    "uuid_on_fixed_of_8": (
        '{"type": "fixed", "name": "U", "size": 8, "logicalType": "uuid"}',
        "LOGICAL_TYPE_VALID",
        "/logicalType",
        '"uuid"',
        "a uuid on fixed needs size 16",
    ),
    "date_on_long": (
        '{"type": "long", "logicalType": "date"}',
        "LOGICAL_TYPE_VALID",
        "/logicalType",
        '"date"',
        "logical type 'date' does not apply to 'long'",
    ),
    "timestamp_millis_on_int": (
        '{"type": "int", "logicalType": "timestamp-millis"}',
        "LOGICAL_TYPE_VALID",
        "/logicalType",
        '"timestamp-millis"',
        "logical type 'timestamp-millis' does not apply to 'int'",
    ),
    "duration_on_fixed_of_10": (
        '{"type": "fixed", "name": "Dur", "size": 10, "logicalType": "duration"}',
        "LOGICAL_TYPE_VALID",
        "/logicalType",
        '"duration"',
        "a duration needs a fixed of size 12",
    ),
}


@pytest.mark.parametrize(
    ("field_type", "rule", "pointer", "marker", "message"), WARNING_CASES.values(), ids=WARNING_CASES.keys()
)
def test_invalid_logical_types_warn_and_are_ignored(
    field_type: str, rule: str, pointer: str, marker: str, message: str
) -> None:
    """An invalid logical type is a non-fatal problem; the file parses and the type is read as its base type."""
    text = _record(f'{{"name": "value", "type": {field_type}}}')
    catalog = _single(text)
    expected_position = Position(1, text.index(field_type) + field_type.index(marker) + 1)
    assert [(rule, SCHEMA_PATH, "/fields/0/type" + pointer, expected_position, False)] == _problem_summary(catalog)
    assert message in catalog.problems()[0].message
    trade = catalog.files[SCHEMA_PATH].top
    assert isinstance(trade, Record)
    value_type = trade.fields[0].type
    assert isinstance(value_type, (Primitive, Fixed))
    assert (True, None, json.loads(field_type)["logicalType"], []) == (
        catalog.files[SCHEMA_PATH].ok,
        value_type.logical,
        value_type.props["logicalType"],
        catalog.problems(include_warnings=False),
    )


@pytest.mark.parametrize(
    "field_type",
    [
        '{"type": "fixed", "name": "D", "size": 16, "logicalType": "decimal", "precision": 38, "scale": 38}',
        '{"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}',
        '{"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}',
        '{"type": "int", "logicalType": "time-millis"}',
        '{"type": "long", "logicalType": "local-timestamp-nanos"}',
    ],
    ids=["decimal_38_in_fixed_16", "uuid_fixed_16", "duration_fixed_12", "time_millis", "local_timestamp_nanos"],
)
def test_valid_logical_types_are_kept_without_problems(field_type: str) -> None:
    """Logical types on the base type and size they require are applied and not reported."""
    catalog = _single(_record(f'{{"name": "value", "type": {field_type}}}'))
    trade = catalog.files[SCHEMA_PATH].top
    assert isinstance(trade, Record) and isinstance(trade.fields[0].type, (Primitive, Fixed))
    assert ([], json.loads(field_type)["logicalType"]) == (catalog.problems(), trade.fields[0].type.logical)


# -- several files ---------------------------------------------------------------------

META = '{"type": "record", "name": "Meta", "namespace": "tw.common", "fields": [{"name": "id", "type": "string"}]}'
SIDE = '{"type": "enum", "name": "Side", "namespace": "tw.common", "symbols": ["BUY", "SELL"]}'
ORDER = (
    '{"type": "record", "name": "Order", "namespace": "tw.exec", "tradewire.topic": "exec.order",'
    ' "tradewire.key": "symbol", "fields": [{"name": "meta", "type": "tw.common.Meta"},'
    ' {"name": "symbol", "type": "string"}, {"name": "side", "type": "tw.common.Side"}]}'
)
FILL = (
    '{"type": "record", "name": "Fill", "namespace": "tw.exec", "tradewire.topic": "exec.fill",'
    ' "fields": [{"name": "side", "type": "tw.common.Side"}, {"name": "order", "type": "Order"}]}'
)
MULTI_FILE_TEXTS = {
    "schemas/common/meta.avsc": META,
    "schemas/common/side.avsc": SIDE,
    "schemas/exec/order.avsc": ORDER,
    "schemas/exec/fill.avsc": FILL,
}


def test_cross_file_references_become_dependencies_in_order_of_first_use() -> None:
    """A file depends on the files that define the named types it references, listed in order of first use."""
    catalog = Catalog.from_texts(MULTI_FILE_TEXTS)
    assert [] == catalog.problems()
    assert {
        "schemas/common/meta.avsc": [],
        "schemas/common/side.avsc": [],
        "schemas/exec/fill.avsc": ["schemas/common/side.avsc", "schemas/exec/order.avsc"],
        "schemas/exec/order.avsc": ["schemas/common/meta.avsc", "schemas/common/side.avsc"],
    } == {schema_file.path: schema_file.dependencies for schema_file in catalog}


def test_a_reference_resolves_to_the_node_defined_in_the_other_file() -> None:
    """A cross-file reference is a Ref whose target is the very node of the defining file."""
    catalog = Catalog.from_texts(MULTI_FILE_TEXTS)
    order = catalog.files["schemas/exec/order.avsc"].top
    assert isinstance(order, Record) and isinstance(order.fields[0].type, Ref)
    assert catalog.files["schemas/common/meta.avsc"].top is order.fields[0].type.target


def test_dependency_order_puts_dependencies_first_whatever_the_input_order() -> None:
    """dependency_order lists every file after the files it references, the same for any input order."""
    forward = Catalog.from_texts(MULTI_FILE_TEXTS)
    backward = Catalog.from_texts(dict(reversed(MULTI_FILE_TEXTS.items())))
    expected = [
        "schemas/common/meta.avsc",
        "schemas/common/side.avsc",
        "schemas/exec/order.avsc",
        "schemas/exec/fill.avsc",
    ]
    assert (expected, expected) == (
        [f.path for f in forward.dependency_order()],
        [f.path for f in backward.dependency_order()],
    )


def test_dependency_order_of_a_subset_still_pulls_in_dependencies_and_skips_invalid_files() -> None:
    """Ordering some files includes what they reference; files that did not parse are left out."""
    catalog = Catalog.from_texts({**MULTI_FILE_TEXTS, "schemas/broken.avsc": "{"})
    subset = [catalog.files["schemas/exec/order.avsc"], catalog.files["schemas/broken.avsc"]]
    assert ["schemas/common/meta.avsc", "schemas/common/side.avsc", "schemas/exec/order.avsc"] == [
        f.path for f in catalog.dependency_order(subset)
    ]


def test_closure_lists_a_file_and_everything_it_references_dependencies_first() -> None:
    """closure() is the transitive set of referenced files, each before the files that use it."""
    catalog = Catalog.from_texts(MULTI_FILE_TEXTS)
    assert [
        "schemas/common/side.avsc",
        "schemas/common/meta.avsc",
        "schemas/exec/order.avsc",
        "schemas/exec/fill.avsc",
    ] == [f.path for f in catalog.closure(catalog.files["schemas/exec/fill.avsc"])]


def test_subject_topic_and_key_field_come_from_the_tradewire_attributes() -> None:
    """Events are subject '<topic>-value' with their declared key; shared types are subject by full name."""
    catalog = Catalog.from_texts(MULTI_FILE_TEXTS)
    assert {
        "schemas/common/meta.avsc": (None, None, "tw.common.Meta"),
        "schemas/common/side.avsc": (None, None, "tw.common.Side"),
        "schemas/exec/fill.avsc": ("exec.fill", None, "exec.fill-value"),
        "schemas/exec/order.avsc": ("exec.order", "symbol", "exec.order-value"),
    } == {f.path: (f.topic, f.key_field, f.subject) for f in catalog}


def test_a_file_that_did_not_parse_has_no_subject() -> None:
    """A file with a fatal problem has no top-level type, hence no subject, topic or key."""
    schema_file = _single("[").files[SCHEMA_PATH]
    assert (None, None, None, None) == (schema_file.top, schema_file.subject, schema_file.topic, schema_file.key_field)


def test_unqualified_reference_falls_back_to_the_null_namespace_in_another_file() -> None:
    """Inside a namespace, a short name that is not defined there resolves to the null-namespace type, as in Java."""
    catalog = Catalog.from_texts(
        {
            "schemas/shared.avsc": '{"type": "fixed", "name": "Shared", "size": 4}',
            "schemas/user.avsc": _record('{"name": "s", "type": "Shared"}'),
        }
    )
    assert ([], ["schemas/shared.avsc"]) == (catalog.problems(), catalog.files["schemas/user.avsc"].dependencies)


def test_a_type_defined_in_an_invalid_file_is_unknown_to_its_users() -> None:
    """Referencing a type whose defining file is invalid reports UNKNOWN_TYPE at the reference, naming that file."""
    bad_meta = META.replace('"type": "string"}', '"type": "string", "default": 1}')
    catalog = Catalog.from_texts(
        {
            "schemas/common/meta.avsc": bad_meta,
            "schemas/exec/order.avsc": ORDER,
            "schemas/common/side.avsc": SIDE,
        }
    )
    order_text = MULTI_FILE_TEXTS["schemas/exec/order.avsc"]
    assert [
        (
            "INVALID_DEFAULT",
            "schemas/common/meta.avsc",
            "/fields/0/default",
            Position(1, bad_meta.index("1}") + 1),
            True,
        ),
        (
            "UNKNOWN_TYPE",
            "schemas/exec/order.avsc",
            "/fields/0/type",
            Position(1, order_text.index('"tw.common.Meta"') + 1),
            True,
        ),
    ] == _problem_summary(catalog)
    assert (
        "type 'tw.common.Meta' is defined in schemas/common/meta.avsc, which is not a valid schema"
        == catalog.problems()[1].message
    )


def test_a_type_defined_in_two_files_is_a_duplicate_in_the_later_file() -> None:
    """The same full name in two files is DUPLICATE_TYPE at the second file's name (by path), nested or not."""
    nested = _record('{"name": "m", "type": ' + META + "}")
    catalog = Catalog.from_texts(
        {"schemas/a.avsc": META, "schemas/b.avsc": nested, "schemas/c.avsc": META.replace("tw.common", "tw.other")}
    )
    assert [
        ("DUPLICATE_TYPE", "schemas/b.avsc", "/fields/0/type/name", Position(1, nested.index('"Meta"') + 1), True)
    ] == _problem_summary(catalog)
    assert "type 'tw.common.Meta' is already defined in schemas/a.avsc" == catalog.problems()[0].message
    assert (True, False, True) == tuple(
        catalog.files[p].ok for p in ("schemas/a.avsc", "schemas/b.avsc", "schemas/c.avsc")
    )


def test_files_referencing_each_other_are_a_reference_cycle() -> None:
    """Two files that reference each other report one REFERENCE_CYCLE, at the reference that closes
    the cycle; both files are unusable, but the cycle is not reported twice."""
    a_text = '{"type": "record", "name": "A", "fields": [{"name": "b", "type": "B"}]}'
    b_text = '{"type": "record", "name": "B", "fields": [{"name": "a", "type": ["null", "A"], "default": null}]}'
    catalog = Catalog.from_texts({"schemas/a.avsc": a_text, "schemas/b.avsc": b_text})
    assert [
        ("REFERENCE_CYCLE", "schemas/b.avsc", "/fields/0/type/1", Position(1, b_text.index('"A"') + 1), True),
    ] == _problem_summary(catalog)
    assert (
        "schemas/b.avsc and schemas/a.avsc reference each other; registry references must not form a cycle"
        == catalog.problems()[0].message
    )
    assert (False, False) == (catalog.files["schemas/a.avsc"].ok, catalog.files["schemas/b.avsc"].ok)


def test_locate_with_key_gives_the_member_name_position() -> None:
    """catalog.locate(origin, key=True) points at the member's key rather than its value."""
    text = _record('{"name": "qty", "type": "int", "default": "x"}')
    catalog = _single(text)
    problem = catalog.problems()[0]
    assert (Position(1, text.index('"default"') + 1), Position(1, text.index('"x"') + 1)) == (
        catalog.locate(problem.origin, key=True),
        catalog.locate(problem.origin),
    )


def test_locate_for_an_unknown_file_is_the_start() -> None:
    """An origin in a file the catalog does not hold is located at line 1, column 1."""
    assert Position(1, 1) == _single(SIDE).locate(Origin("elsewhere.avsc", "/fields/0"))
