"""HTTP helpers of the conformance suite: a tiny JSON client over urllib and schema builders."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
INCOMPATIBLE_CODES = (409, 40901)  # 409 up to CP 8.0.3 / 8.1.1, 40901 from CP 8.0.4 / 8.1.2


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status and decoded JSON body (None when the body is empty or not JSON)."""

    status: int
    body: Any
    text: str


class Registry:
    """A minimal HTTP client over urllib, speaking JSON to the registry at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = MEDIA_TYPE,
    ) -> Reply:
        """Send one request; `path` must already be percent-encoded."""
        target = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(target, data=data, method=method)
        request.add_header("Accept", MEDIA_TYPE)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _reply(response.status, response.read())
        except urllib.error.HTTPError as error:
            return _reply(error.code, error.read())

    def send(self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None) -> Reply:
        """Send one request with exactly these headers (no Content-Type unless given); `path` already encoded."""
        parsed = urllib.parse.urlsplit(self.url)
        kind = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
        connection = kind(parsed.netloc, timeout=30)
        try:
            all_headers = {"Accept": MEDIA_TYPE, "Content-Length": str(len(body)), **(headers or {})}
            connection.request(method, parsed.path.rstrip("/") + path, body=body, headers=all_headers)
            response = connection.getresponse()
            return _reply(response.status, response.read())
        finally:
            connection.close()

    def register(self, subject: str, schema: Any, references: list[dict[str, Any]] | None = None) -> Reply:
        """POST /subjects/{subject}/versions with the schema given as a JSON value (or text)."""
        text = schema if isinstance(schema, str) else json.dumps(schema)
        body: dict[str, Any] = {"schema": text}
        if references:
            body["references"] = references
        return self.call("POST", f"/subjects/{quote(subject)}/versions", body)

    def register_id(self, subject: str, schema: Any, references: list[dict[str, Any]] | None = None) -> int:
        """Register and return the id (the registration must succeed)."""
        reply = self.register(subject, schema, references)
        assert 200 == reply.status, reply.text
        schema_id = reply.body["id"]
        assert isinstance(schema_id, int)
        return schema_id

    def set_level(self, subject: str, level: str) -> None:
        """PUT /config/{subject} (must succeed)."""
        reply = self.call("PUT", f"/config/{quote(subject)}", {"compatibility": level})
        assert 200 == reply.status, reply.text


def _reply(status: int, raw: bytes) -> Reply:
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = None
    return Reply(status, body, text)


def quote(subject: str) -> str:
    """A subject as the Python client puts it in a path (`/` as %2F)."""
    return urllib.parse.quote(subject, safe="")


def record(name: str, *fields: dict[str, Any], namespace: str = "tw.conformance") -> dict[str, Any]:
    """An Avro record schema."""
    return {"type": "record", "name": name, "namespace": namespace, "fields": list(fields)}


def field(name: str, field_type: Any, **extra: Any) -> dict[str, Any]:
    """An Avro record field."""
    return {"name": name, "type": field_type, **extra}
