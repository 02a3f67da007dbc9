"""A JSON parser that remembers where every value came from.

`json.load` forgets positions, but contract findings must name the line and column
of the offending node in the `.avsc` file. `parse_json` returns the same values as
`json.loads` plus a map from JSON pointer (RFC 6901) to the 1-based line and column
where each value, and each object member's key, starts.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "JsonSyntaxError",
    "Position",
    "SourceMap",
    "escape_pointer",
    "join_pointer",
    "parse_json",
]

_MAX_DEPTH = 256
_WHITESPACE = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A 1-based line and column in a source text."""

    line: int
    col: int


class JsonSyntaxError(ValueError):
    """The text is not valid JSON; `position` says where the parser gave up."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(f"{message} (line {position.line}, column {position.col})")
        self.reason = message
        self.position = position


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Positions of the values (and object keys) of one parsed JSON document."""

    values: dict[str, Position]
    keys: dict[str, Position]

    def locate(self, pointer: str) -> Position:
        """Return the position of the value at `pointer`, or of its nearest existing ancestor."""
        probe = pointer
        while True:
            found = self.values.get(probe)
            if found is not None:
                return found
            if not probe:
                return Position(1, 1)
            probe = probe.rsplit("/", 1)[0]

    def locate_key(self, pointer: str) -> Position:
        """Return the position of the key naming `pointer`'s member, else of its value."""
        return self.keys.get(pointer) or self.locate(pointer)


def escape_pointer(token: str) -> str:
    """Escape one reference token for use in a JSON pointer."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    """Append reference tokens to a JSON pointer."""
    return pointer + "".join("/" + escape_pointer(str(token)) for token in tokens)


def parse_json(text: str) -> tuple[Any, SourceMap]:
    """Parse `text` like `json.loads` and return the value with its source map.

    Duplicate object keys are rejected: `json.loads` would silently keep the last one,
    and a schema whose meaning depends on that is a defect worth a finding.
    """
    parser = _Parser(text)
    value = parser.document()
    return value, SourceMap(parser.values, parser.keys)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        self.values: dict[str, Position] = {}
        self.keys: dict[str, Position] = {}
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, index: int) -> Position:
        line = bisect.bisect_right(self._line_starts, index)
        return Position(line, index - self._line_starts[line - 1] + 1)

    def fail(self, message: str, index: int | None = None) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.position(self.index if index is None else index))

    def skip_whitespace(self) -> None:
        text, index = self.text, self.index
        while index < len(text) and text[index] in _WHITESPACE:
            index += 1
        self.index = index

    def document(self) -> Any:
        self.skip_whitespace()
        if self.index >= len(self.text):
            raise self.fail("expected a JSON value but the document is empty")
        value = self.value("", 0)
        self.skip_whitespace()
        if self.index < len(self.text):
            raise self.fail("unexpected text after the JSON document")
        return value

    def value(self, pointer: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail(f"nesting deeper than {_MAX_DEPTH} levels")
        self.values[pointer] = self.position(self.index)
        char = self.text[self.index] if self.index < len(self.text) else ""
        if char == "{":
            return self.obj(pointer, depth)
        if char == "[":
            return self.array(pointer, depth)
        if char == '"':
            return self.string()
        if char in "-0123456789" and char:
            return self.number()
        for literal, literal_value in _LITERALS.items():
            if self.text.startswith(literal, self.index):
                self.index += len(literal)
                return literal_value
        if not char:
            raise self.fail("unexpected end of document, a value was expected")
        raise self.fail(f"unexpected character {char!r}, a value was expected")

    def string(self) -> str:
        try:
            value, self.index = _scanstring(self.text, self.index + 1, True)
        except json.JSONDecodeError as error:
            raise self.fail(error.msg.lower(), error.pos) from None
        return value

    def number(self) -> int | float:
        match = _NUMBER.match(self.text, self.index)
        if match is None:
            raise self.fail("malformed number")
        start = self.index
        self.index = match.end()
        literal = match.group(0)
        if match.group(1) or match.group(2):
            return float(literal)
        try:
            return int(literal)
        except ValueError:  # longer than Python's integer string conversion limit
            raise self.fail(f"number with {len(literal)} digits is too long", start) from None

    def expect(self, char: str, what: str) -> None:
        self.skip_whitespace()
        if self.index >= len(self.text) or self.text[self.index] != char:
            found = repr(self.text[self.index]) if self.index < len(self.text) else "end of document"
            raise self.fail(f"expected {what}, found {found}")
        self.index += 1

    def obj(self, pointer: str, depth: int) -> dict[str, Any]:
        self.index += 1
        result: dict[str, Any] = {}
        self.skip_whitespace()
        if self.text.startswith("}", self.index):
            self.index += 1
            return result
        while True:
            self.skip_whitespace()
            if not self.text.startswith('"', self.index):
                raise self.fail("expected a double-quoted property name")
            key_index = self.index
            key = self.string()
            if key in result:
                raise self.fail(f"duplicate key {key!r}", key_index)
            member = join_pointer(pointer, key)
            self.keys[member] = self.position(key_index)
            self.expect(":", "':' after a property name")
            self.skip_whitespace()
            result[key] = self.value(member, depth + 1)
            self.skip_whitespace()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            self.expect("}", "',' or '}' in an object")
            return result

    def array(self, pointer: str, depth: int) -> list[Any]:
        self.index += 1
        result: list[Any] = []
        self.skip_whitespace()
        if self.text.startswith("]", self.index):
            self.index += 1
            return result
        while True:
            self.skip_whitespace()
            result.append(self.value(join_pointer(pointer, len(result)), depth + 1))
            self.skip_whitespace()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            self.expect("]", "',' or ']' in an array")
            return result
