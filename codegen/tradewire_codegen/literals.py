"""Python literals and docstrings written exactly as the project's formatter (ruff) writes them.

Generated code must already be formatted, so these helpers pick quotes the way ruff
does (double, unless single needs fewer escapes), lowercase hex escapes, and never emit
anything a schema's text could break out of: every character that is not printable is
escaped, and quotes and backslashes always are.
"""

from __future__ import annotations

import inspect

__all__ = ["bytes_literal", "chunked_string", "docstring_lines", "string_literal"]

_SIMPLE_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(text: str, quote: str) -> str:
    out = []
    for char in text:
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


def string_literal(text: str) -> str:
    """A str literal for `text`, quoted as ruff prefers."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + _escape(text, quote) + quote


def bytes_literal(data: bytes) -> str:
    """A bytes literal for `data` (printable ASCII kept, everything else escaped)."""
    text = data.decode("latin-1")
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for char in text:
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\x{ord(char):02x}")
    return "b" + quote + "".join(out) + quote


def chunked_string(text: str, indent: int, width: int = 120) -> list[str]:
    """Lines of a parenthesised implicit concatenation of `text`, each within `width`.

    Returns a single line (the literal alone) when the whole literal fits after `indent`.
    """
    single = string_literal(text)
    if indent + len(single) + 16 <= width:
        return [single]
    budget = width - indent - 4
    lines: list[str] = []
    start = 0
    while start < len(text):
        end = start + 1
        while end < len(text) and len(string_literal(text[start : end + 1])) <= budget:
            end += 1
        lines.append(string_literal(text[start:end]))
        start = end
    return lines


def _docstring_safe(doc: str) -> bool:
    """Whether `doc` survives as a docstring unchanged by ruff and by `inspect.cleandoc`."""
    if not doc or doc != doc.strip() or "\\" in doc or '"""' in doc or doc.endswith('"'):
        return False
    lines = doc.split("\n")
    return all(line == line.strip() and line.isprintable() for line in lines)


def docstring_lines(doc: str, indent: str) -> tuple[list[str], bool]:
    """The lines of a docstring for `doc`, and whether it holds `doc` exactly.

    When the doc cannot be written verbatim (odd whitespace, quotes, backslashes, control
    characters), a cleaned docstring is returned and the caller stores the exact text too.
    """
    exact = _docstring_safe(doc)
    text = doc if exact else _clean(doc)
    if not text:
        text = "(undocumented)"
    lines = text.split("\n")
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""'], exact and inspect.cleandoc(text) == doc
    body = [f'{indent}"""{lines[0]}'] + [f"{indent}{line}" if line else "" for line in lines[1:]] + [f'{indent}"""']
    return body, exact and inspect.cleandoc("\n".join(lines)) == doc


def _clean(doc: str) -> str:
    cleaned = []
    for line in inspect.cleandoc(doc).split("\n"):
        safe = "".join(c if c.isprintable() else " " for c in line).replace("\\", "/").replace('"""', "'''")
        cleaned.append(safe.strip())
    text = "\n".join(cleaned).strip()
    while text.endswith('"'):
        text = text[:-1] + "'"
    return text
