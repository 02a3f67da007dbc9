"""Specification of `tradewire.registry.jsontext`: JSON from peers, refused when nested too deep."""

from __future__ import annotations

import json

import pytest

from tradewire.registry.jsontext import MAX_JSON_DEPTH, JsonTooDeepError, loads, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('"[[[{{{"', 0),
        ('["\\"[[", "]"]', 1),
        ('{"a": "\\\\", "b": [[]]}', 3),
        ('"never closed [[[[', 0),
        ("[]" * 1000, 1),
    ],
    ids=[
        "scalar",
        "empty-array",
        "mixed",
        "brackets-in-string",
        "escaped-quote",
        "escaped-backslash",
        "open-string",
        "flat",
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    """The depth is the deepest nesting of arrays and objects; brackets inside string literals do not count."""
    assert depth == nesting_depth(text)


def test_text_at_the_limit_parses() -> None:
    """Arrays nested exactly MAX_JSON_DEPTH deep parse to the same value as json.loads gives."""
    text = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json.loads(text) == loads(text)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000, 1_000_000])
def test_text_past_the_limit_is_refused(depth: int) -> None:
    """Nesting past the limit is a JsonTooDeepError (a ValueError) naming both depths, never a RecursionError."""
    with pytest.raises(JsonTooDeepError, match=rf"^JSON nesting depth {depth} exceeds the maximum allowed \(500\)$"):
        loads("[" * depth + "]" * depth)


def test_text_that_is_not_json_is_a_value_error() -> None:
    """Malformed text is json's own JSONDecodeError, a ValueError like the depth refusal."""
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        loads('{"a": }')
