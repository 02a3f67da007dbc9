"""Conformance: requests a registry must refuse cleanly (too deep, wrong media type, malformed ids and versions)."""

from __future__ import annotations

import json

import pytest
from conformance_helpers import MEDIA_TYPE, Registry, field, quote, record

DEEP = 5000


def _body_endpoints(subject: str) -> list[tuple[str, str]]:
    encoded = quote(subject)
    return [
        ("POST", f"/subjects/{encoded}/versions"),
        ("POST", f"/subjects/{encoded}"),
        ("POST", f"/compatibility/subjects/{encoded}/versions"),
        ("POST", f"/compatibility/subjects/{encoded}/versions/latest"),
        ("PUT", "/config/" + encoded),
        ("PUT", "/mode/" + encoded),
    ]


def test_deeply_nested_json_is_400_on_every_body_endpoint(registry: Registry, subject: str) -> None:
    """A body of arrays nested 5,000 deep answers 400 / 400 on every POST and PUT, never a 500."""
    body = b"[" * DEEP + b"]" * DEEP
    answers = {
        (method, path): (reply.status, reply.body["error_code"])
        for method, path in _body_endpoints(subject)
        for reply in [registry.call(method, path, raw=body)]
    }
    assert dict.fromkeys(_body_endpoints(subject), (400, 400)) == answers


@pytest.mark.parametrize("kind", ["array", "record"])
def test_schema_nested_too_deep_is_an_invalid_schema(registry: Registry, subject: str, kind: str) -> None:
    """A schema string nesting arrays (or records) 5,000 deep is an invalid schema, 422 / 42201."""
    if kind == "array":
        schema = '{"type":"array","items":' * DEEP + '"int"' + "}" * DEEP
    else:
        opening = '{"type":"record","name":"R%d","fields":[{"name":"f","type":'
        schema = "".join(opening % level for level in range(DEEP)) + '"int"' + "}]}" * DEEP
    reply = registry.call("POST", f"/subjects/{quote(subject)}/versions", {"schema": schema})
    assert (422, 42201) == (reply.status, reply.body["error_code"])


def _order(unique: str) -> bytes:
    return json.dumps({"schema": json.dumps(record(f"Order{unique}", field("id", "string")))}).encode()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "text/json",
        "application/vnd.schemaregistry.v2+json",
    ],
)
def test_unsupported_media_type_is_415(registry: Registry, subject: str, unique: str, content_type: str) -> None:
    """A body of another media type (curl -d sends form-urlencoded) answers 415 / 415 and registers nothing."""
    reply = registry.send(
        "POST", f"/subjects/{quote(subject)}/versions", _order(unique), {"Content-Type": content_type}
    )
    expected = {"error_code": 415, "message": "HTTP 415 Unsupported Media Type"}
    assert (415, expected) == (reply.status, reply.body)
    assert 404 == registry.call("GET", f"/subjects/{quote(subject)}/versions").status


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.schemaregistry.v1+json;charset=UTF-8",
    ],
)
def test_schema_registry_media_types_are_accepted(
    registry: Registry, subject: str, unique: str, content_type: str | None
) -> None:
    """The registry's media types, application/json and application/octet-stream (any case, any parameters) or
    no Content-Type at all are understood as JSON."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    reply = registry.send("POST", f"/subjects/{quote(subject)}/versions", _order(unique), headers)
    assert (200, int) == (reply.status, type(reply.body["id"]))


def test_media_type_is_checked_on_put(registry: Registry, subject: str) -> None:
    """PUT /config with a text/plain body answers 415 and changes nothing."""
    body = json.dumps({"compatibility": "NONE"}).encode()
    reply = registry.send("PUT", f"/config/{quote(subject)}", body, {"Content-Type": "text/plain"})
    assert (415, 415) == (reply.status, reply.body["error_code"])
    assert 40408 == registry.call("GET", f"/config/{quote(subject)}").body["error_code"]


@pytest.mark.parametrize(
    "raw_id",
    ["%20%201", "1%20", "%201", "1.0", "0x1", "1_0", "abc", "2147483648", "99999999999999999999"],
    ids=["spaces-before", "space-after", "space-before", "decimal", "hex", "underscore", "word", "int32+1", "huge"],
)
def test_malformed_schema_id_is_404(registry: Registry, subject: str, unique: str, raw_id: str) -> None:
    """An id that is not a plain 32-bit integer answers Jersey's 404, even when its digits name a schema."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    for suffix in ("", "/schema", "/subjects", "/versions"):
        reply = registry.call("GET", f"/schemas/ids/{raw_id}{suffix}")
        assert (404, {"error_code": 404, "message": "HTTP 404 Not Found"}) == (reply.status, reply.body), suffix


@pytest.mark.parametrize("raw_version", ["1.0", "0x1", "1_0", "%C2%A01", "2147483648", "one"])
def test_malformed_version_is_42202(registry: Registry, subject: str, unique: str, raw_version: str) -> None:
    """A version that is not `latest`, -1 or a plain integer in 1..2^31-1 answers 422 / 42202."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/{raw_version}")
    assert (422, 42202) == (reply.status, reply.body["error_code"])


@pytest.mark.parametrize("raw_version", ["1", "%201%20", "+1", "01", "latest", "%20LATEST", "-1"])
def test_versions_confluent_accepts(registry: Registry, subject: str, unique: str, raw_version: str) -> None:
    """Versions are trimmed of ASCII spaces and may carry a sign or leading zeros, as Confluent's VersionId allows."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/{raw_version}")
    assert (200, 1) == (reply.status, reply.body["version"])


def test_media_type_header_with_the_default_accept(registry: Registry) -> None:
    """A GET with the registry's media type as Content-Type is answered as usual."""
    reply = registry.send("GET", "/subjects", b"", {"Content-Type": MEDIA_TYPE})
    assert 200 == reply.status
