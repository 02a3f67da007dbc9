"""Requests to routes: path templates, percent-decoded parameters, query flags, JSON responses.

Path segments are split before they are percent-decoded, so a subject `a/b` sent as `a%2Fb`
(as confluent-kafka's client does) stays one segment. Integers in paths are strict, as
Java's `Integer.parseInt` reads them: an optional sign and ASCII digits, within 32 bits
(no spaces, underscores, decimals or hex); versions are first trimmed of ASCII spaces and
control characters, as Confluent's `VersionId` does. A request's Content-Type, when it has
one, must be one of Confluent's `@Consumes` types (parameters such as `charset` ignored,
wildcards matching as in JAX-RS `MediaType.isCompatible`), else 415. Boolean query flags are true when
their value is `true` in any case and false otherwise, like JAX-RS `boolean` (the Python
client sends `False`, httpx sends `false`). A path that matches no route answers Jersey's
404, a path that matches with another method Jersey's 405.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tradewire.errors import RegistryError
from tradewire.registry import codes

if TYPE_CHECKING:
    from tradewire.registry.service import RegistryService

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "MEDIA_TYPE",
    "Call",
    "Handler",
    "Response",
    "Route",
    "Router",
    "check_content_type",
    "error_response",
    "json_response",
    "parse_int32",
    "parse_schema_id",
    "parse_version",
    "raw_json_response",
]

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
ACCEPTED_MEDIA_TYPES = (
    MEDIA_TYPE,
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
)
"""What Confluent's resources consume: `Versions.SCHEMA_REGISTRY_V1_JSON`, `SCHEMA_REGISTRY_DEFAULT_JSON`,
`JSON` and `GENERIC_REQUEST`."""
_RFC7230_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE = re.compile(rf"[ \t]*({_RFC7230_TCHARS})/({_RFC7230_TCHARS})[ \t]*(?:;.*)?\Z", re.DOTALL)
_INT32 = range(-(2**31), 2**31)
_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+\Z")


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response: status, JSON body bytes, extra headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The decoded body."""
        return json.loads(self.body.decode("utf-8"))


def json_response(value: Any, status: int = 200) -> Response:
    """A response whose body is `value` as compact JSON."""
    return Response(status, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def raw_json_response(text: str, status: int = 200) -> Response:
    """A response whose body is JSON text as it is (a stored schema document)."""
    return Response(status, text.encode("utf-8"))


def error_response(error: RegistryError) -> Response:
    """Confluent's error body `{"error_code": …, "message": …}`."""
    response = json_response({"error_code": error.error_code, "message": error.message}, error.http_status)
    if error.http_status == 401:
        return Response(response.status, response.body, {"WWW-Authenticate": 'Basic realm="tradewire-registry"'})
    return response


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler gets: decoded path parameters, the query, the parsed JSON body (if the route takes one)."""

    params: Mapping[str, str]
    query: Mapping[str, Sequence[str]] = field(default_factory=dict)
    body: Any = None

    def flag(self, *names: str) -> bool:
        """The first of `names` present in the query, as a boolean (`true` in any case; else false)."""
        for name in names:
            values = self.query.get(name)
            if values:
                return values[-1].strip().lower() == "true"
        return False

    def text(self, name: str) -> str | None:
        """A query parameter's last value, if present."""
        values = self.query.get(name)
        return values[-1] if values else None

    def number(self, name: str, default: int) -> int:
        """An integer query parameter; `default` when absent or not an integer."""
        text = self.text(name)
        try:
            return int(text) if text is not None else default
        except ValueError:
            return default

    def page(self, items: Sequence[Any]) -> list[Any]:
        """`items` cut by the `offset` and `limit` parameters (limit <= 0: everything)."""
        offset = max(self.number("offset", 0), 0)
        limit = self.number("limit", -1)
        return list(items[offset : offset + limit] if limit > 0 else items[offset:])


Handler = Callable[["RegistryService", Call], Response]


@dataclass(frozen=True, slots=True)
class Route:
    """A method and path template (`/subjects/{subject}`) answered by a handler."""

    method: str
    template: str
    handler: Handler
    takes_body: bool = False

    @property
    def segments(self) -> tuple[str, ...]:
        """The template's path segments."""
        return _split(self.template)


class Router:
    """Finds the route of a method and raw (still percent-encoded) path."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        """The route and decoded path parameters; 404 or 405 (as Jersey answers) when none fits."""
        raw_segments = _split(raw_path)
        path_matches = False
        for route in self.routes:
            params = _bind(route.segments, raw_segments)
            if params is None:
                continue
            if route.method == method:
                return route, params
            path_matches = True
        raise codes.method_not_allowed() if path_matches else codes.not_found()


def _split(path: str) -> tuple[str, ...]:
    stripped = path.strip("/")
    return tuple(stripped.split("/")) if stripped else ()


def _bind(template: Sequence[str], raw_segments: Sequence[str]) -> dict[str, str] | None:
    if len(template) != len(raw_segments):
        return None
    params: dict[str, str] = {}
    for expected, raw in zip(template, raw_segments, strict=True):
        value = urllib.parse.unquote(raw)
        if expected.startswith("{") and expected.endswith("}"):
            params[expected[1:-1]] = value
        elif expected != value:
            return None
    return params


def check_content_type(value: str | None) -> None:
    """Accept a request's Content-Type (or none); 415 for another media type, 400 for one that does not parse."""
    if value is None:
        return
    match = _CONTENT_TYPE.match(value)
    if match is None:
        raise codes.bad_request(f"Malformed Content-Type header {value!r}")
    kind, subtype = match.group(1).lower(), match.group(2).lower()
    for accepted in ACCEPTED_MEDIA_TYPES:
        accepted_kind, accepted_subtype = accepted.split("/")
        if kind == "*" or (kind == accepted_kind and subtype in ("*", accepted_subtype)):
            return
    raise codes.unsupported_media_type()


def parse_int32(text: str) -> int | None:
    """`text` as a 32-bit integer (optional sign, ASCII digits, nothing else); None when it is not one."""
    if not _SIGNED_DIGITS.match(text):
        return None
    value = int(text)
    return value if value in _INT32 else None


def parse_schema_id(text: str) -> int:
    """A schema id path parameter; Jersey's 404 when it is not a 32-bit integer (as JAX-RS answers)."""
    value = parse_int32(text)
    if value is None:
        raise codes.not_found()
    return value


def parse_version(text: str) -> int:
    """A version id: `latest` (any case) or -1 mean the latest (-1); else 1..2^31-1, or 42202.

    Like Confluent's `VersionId`, ASCII spaces and control characters around it are ignored
    (Java's `String.trim`); nothing else is.
    """
    trimmed = text.strip("".join(map(chr, range(33))))
    if trimmed.lower() == "latest":
        return -1
    version = parse_int32(trimmed)
    if version is None:
        raise codes.invalid_version(text)
    if version == -1 or version >= 1:
        return version
    raise codes.invalid_version(str(version))  # Confluent quotes the number it read
