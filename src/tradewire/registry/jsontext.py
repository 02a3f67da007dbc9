"""JSON text from peers (request bodies, `_schemas` records), parsed with a nesting limit.

The standard library's parser recurses once per level of nesting, so a body of a thousand
`[` raises `RecursionError` (in the server: a 500) instead of a parse error. Here the
nesting depth is measured first, without recursion, in linear time, and anything deeper
than `MAX_JSON_DEPTH` is refused with `JsonTooDeepError` (a `ValueError`) before parsing.
The limit is Jackson 3's default (`StreamReadConstraints.maxNestingDepth`, 500); the
registry's own bodies need four levels.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JsonTooDeepError", "loads", "nesting_depth"]

MAX_JSON_DEPTH = 500
"""The deepest nesting of arrays and objects accepted."""

# A string literal, or an unterminated one running to the end (so the scan stays linear).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonTooDeepError(ValueError):
    """The JSON text nests arrays and objects deeper than allowed."""

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(f"JSON nesting depth {depth} exceeds the maximum allowed ({limit})")
        self.depth = depth
        self.limit = limit


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (brackets inside strings do not count)."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets), initial=0))


def loads(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, refusing text nested deeper than `max_depth` with `JsonTooDeepError`.

    Raises `json.JSONDecodeError` (also a `ValueError`) for text that is not JSON.
    """
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonTooDeepError(depth, max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # only with a recursion limit set far below the default
        raise JsonTooDeepError(depth, max_depth) from None
