"""Specification of `tradewire.avro.sourcemap`: json.loads values plus 1-based positions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tradewire.avro.sourcemap import (
    JsonSyntaxError,
    Position,
    SourceMap,
    escape_pointer,
    join_pointer,
    parse_json,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
REPO_SCHEMA_PATHS = sorted(REPO_ROOT.glob("schemas/**/*.avsc"))

TRICKY_DOCUMENTS = {
    "escapes": r'"quote \" backslash \\ slash \/ controls \b\f\n\r\t"',
    "unicode_escapes": r'"\u00e9 \ud83d\ude00 \u0000"',
    "raw_unicode": '"héllo wörld 😀"',
    "zero": "0",
    "negative_zero": "-0",
    "negative_int": "-12",
    "big_int": "123456789012345678901234567890",
    "float": "3.25",
    "negative_float_exponent": "-1.5e-3",
    "upper_exponent_plus": "1E+2",
    "int_exponent": "2e10",
    "negative_zero_float": "-0.0",
    "literals": "[true, false, null]",
    "empty_containers": '[[], {}, [[[]]], {"a": {}}]',
    "nested": '{"a": {"b": [1, {"c": null}]}, "d": [[1, 2], [3.5, "x"]]}',
    "surrounding_whitespace": " \t\n 42 \r\n",
    "empty_string_key": '{"": 1}',
}

# Line 2 holds a key and a string, line 3 an array with an object, line 4 keys needing escapes.
POSITIONED_DOCUMENT = "\n".join(
    [
        "{",
        '  "name": "x",',
        '  "list": [1, {"k": "v"}],',
        '  "a/b": {"m~n": 2}',
        "}",
    ]
)


@pytest.mark.parametrize("path", REPO_SCHEMA_PATHS, ids=[p.name for p in REPO_SCHEMA_PATHS])
def test_repo_schema_values_equal_json_loads(path: Path) -> None:
    """Every schema file of the repository parses to the same value as json.loads."""
    text = path.read_text(encoding="utf-8")
    value, _ = parse_json(text)
    assert json.loads(text) == value


@pytest.mark.parametrize("text", TRICKY_DOCUMENTS.values(), ids=TRICKY_DOCUMENTS.keys())
def test_tricky_document_values_equal_json_loads(text: str) -> None:
    """Escapes, unicode, numbers and empty containers parse exactly as json.loads parses them."""
    value, _ = parse_json(text)
    # repr also tells 1 from 1.0 and -0.0 from 0.0, which == does not.
    assert repr(json.loads(text)) == repr(value)


def test_value_positions_are_one_based_lines_and_columns() -> None:
    """The source map gives the line and column where every value starts, keyed by JSON pointer."""
    _, sourcemap = parse_json(POSITIONED_DOCUMENT)
    assert {
        "": Position(1, 1),
        "/name": Position(2, 11),
        "/list": Position(3, 11),
        "/list/0": Position(3, 12),
        "/list/1": Position(3, 15),
        "/list/1/k": Position(3, 21),
        "/a~1b": Position(4, 10),
        "/a~1b/m~0n": Position(4, 18),
    } == sourcemap.values


def test_key_positions_point_at_the_opening_quote_of_each_member_name() -> None:
    """Object members also record where their key starts; array elements have no key."""
    _, sourcemap = parse_json(POSITIONED_DOCUMENT)
    assert {
        "/name": Position(2, 3),
        "/list": Position(3, 3),
        "/list/1/k": Position(3, 16),
        "/a~1b": Position(4, 3),
        "/a~1b/m~0n": Position(4, 11),
    } == sourcemap.keys


def test_columns_count_source_characters_not_decoded_ones() -> None:
    """Columns count code points of the source text, so an escape sequence counts as six characters."""
    _, escaped = parse_json('{"\\u00e9": 1, "b": 2}')
    _, raw = parse_json('{"ü😀": 1, "b": 2}')
    assert (Position(1, 15), Position(1, 11)) == (escaped.keys["/b"], raw.keys["/b"])


def test_crlf_line_endings_count_as_one_line_break() -> None:
    """A CRLF line ending starts a new line and the carriage return is not counted as a column."""
    _, sourcemap = parse_json('{\r\n  "a": 1\r\n}')
    assert Position(2, 8) == sourcemap.values["/a"]


@pytest.mark.parametrize(
    ("token", "escaped"),
    [("plain", "plain"), ("a/b", "a~1b"), ("m~n", "m~0n"), ("~/", "~0~1"), ("~1", "~01")],
    ids=["plain", "slash", "tilde", "tilde_then_slash", "literal_tilde_one"],
)
def test_escape_pointer_follows_rfc_6901(token: str, escaped: str) -> None:
    """'~' becomes '~0' before '/' becomes '~1', so escaped tokens decode unambiguously."""
    assert escaped == escape_pointer(token)


def test_join_pointer_escapes_every_token_and_stringifies_indexes() -> None:
    """join_pointer appends each token escaped, with integers written in decimal."""
    assert "/fields/0/a~1b/~0x" == join_pointer("/fields", 0, "a/b", "~x")


def test_locate_falls_back_to_the_nearest_existing_ancestor() -> None:
    """locate returns the position of the closest enclosing value when the pointer itself is absent."""
    _, sourcemap = parse_json(POSITIONED_DOCUMENT)
    located = [sourcemap.locate(p) for p in ("/list/1/k", "/list/1/missing/deeper", "/nothing", "")]
    assert [Position(3, 21), Position(3, 15), Position(1, 1), Position(1, 1)] == located


def test_locate_key_prefers_the_key_and_falls_back_to_the_value() -> None:
    """locate_key gives a member's key position, an array element's value position, else an ancestor's."""
    _, sourcemap = parse_json(POSITIONED_DOCUMENT)
    located = [sourcemap.locate_key(p) for p in ("/a~1b/m~0n", "/list/0", "/list/9")]
    assert [Position(4, 11), Position(3, 12), Position(3, 11)] == located


def test_locate_in_an_empty_source_map_is_the_start_of_the_file() -> None:
    """A source map without entries locates everything at line 1, column 1."""
    assert Position(1, 1) == SourceMap({}, {}).locate("/fields/0")


@pytest.mark.parametrize(
    ("text", "reason", "position"),
    [
        ("[1, 2,]", "unexpected character ']', a value was expected", Position(1, 7)),
        ('{"a": 1,}', "expected a double-quoted property name", Position(1, 9)),
        ('{"a" 1}', "expected ':' after a property name, found '1'", Position(1, 6)),
        ('{"a": "abc', "unterminated string starting at", Position(1, 7)),
        ('"a\\x"', "invalid \\escape", Position(1, 3)),
        ('"a\nb"', "invalid control character at", Position(1, 3)),
        ("[tru]", "unexpected character 't', a value was expected", Position(1, 2)),
        ("nul", "unexpected character 'n', a value was expected", Position(1, 1)),
        ("{} x", "unexpected text after the JSON document", Position(1, 4)),
        ("", "expected a JSON value but the document is empty", Position(1, 1)),
        ("  \n ", "expected a JSON value but the document is empty", Position(2, 2)),
        ('{\n  "a": 1,\n  "a": 2\n}', "duplicate key 'a'", Position(3, 3)),
        ("01", "unexpected text after the JSON document", Position(1, 2)),
        ("[01]", "expected ',' or ']' in an array, found '1'", Position(1, 3)),
        ("-", "malformed number", Position(1, 1)),
        ("[1,", "unexpected end of document, a value was expected", Position(1, 4)),
        ("[1", "expected ',' or ']' in an array, found end of document", Position(1, 3)),
        ('{"a": 1 "b": 2}', "expected ',' or '}' in an object, found '\"'", Position(1, 9)),
        ("NaN", "unexpected character 'N', a value was expected", Position(1, 1)),
    ],
    ids=[
        "trailing_comma_in_array",
        "trailing_comma_in_object",
        "missing_colon",
        "unterminated_string",
        "invalid_escape",
        "control_character_in_string",
        "bad_literal_in_array",
        "bad_literal_at_top",
        "trailing_text",
        "empty_document",
        "whitespace_only_document",
        "duplicate_key_at_second_key",
        "leading_zero",
        "leading_zero_in_array",
        "lone_minus",
        "end_after_comma",
        "unclosed_array",
        "missing_comma_in_object",
        "nan_is_not_json",
    ],
)
def test_syntax_errors_carry_reason_and_position(text: str, reason: str, position: Position) -> None:
    """Invalid JSON raises JsonSyntaxError naming the reason and the line and column where parsing stopped."""
    with pytest.raises(JsonSyntaxError) as raised:
        parse_json(text)
    assert (reason, position) == (raised.value.reason, raised.value.position)


def test_syntax_error_message_includes_line_and_column() -> None:
    """The error message reads '<reason> (line L, column C)'."""
    with pytest.raises(JsonSyntaxError, match=re.escape("duplicate key 'a' (line 3, column 3)")):
        parse_json('{\n  "a": 1,\n  "a": 2\n}')


def test_a_value_inside_256_containers_is_accepted() -> None:
    """Nesting up to the limit parses: the innermost of 257 arrays sits inside 256 containers."""
    value, _ = parse_json("[" * 257 + "]" * 257)
    assert 257 == _nesting(value)


def test_a_value_inside_more_than_256_containers_is_refused_where_it_starts() -> None:
    """Deeper nesting raises JsonSyntaxError at the first value that is too deep, instead of overflowing the stack."""
    with pytest.raises(JsonSyntaxError, match=re.escape("nesting deeper than 256 levels (line 1, column 258)")):
        parse_json("[" * 5000 + "]" * 5000)


def test_number_too_long_for_python_int_is_a_json_syntax_error() -> None:
    """An integer literal beyond Python's digit limit is reported as JsonSyntaxError, not a bare ValueError."""
    with pytest.raises(JsonSyntaxError, match=r"\(line 1, column 2\)"):
        parse_json("[" + "9" * 5000 + "]")


def _nesting(value: object) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth
