"""A client for the Confluent Schema Registry REST API (Confluent, Redpanda, Karapace, the dev registry).

Used by `registry push`, `registry drift`, the online gate and the serde layer. Plain HTTP
over the standard library; errors are `RegistryError` with the registry's HTTP status and
Confluent's exact `error_code`, or `RegistryUnavailableError` when nothing answers.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradewire.errors import RegistryError, RegistryUnavailableError

__all__ = ["CompatibilityResult", "RegisteredSchema", "RegistryClient", "SchemaReference"]

_MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True, slots=True)
class SchemaReference:
    """A Confluent schema reference: the referenced type's name, and where it is registered."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        """The reference as the REST API writes it."""
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """One registered version of a subject."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[SchemaReference, ...] = ()
    schema_type: str = "AVRO"


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The registry's verdict on a candidate schema, with its verbose messages."""

    is_compatible: bool
    messages: tuple[str, ...] = ()


def _references(raw: Any) -> tuple[SchemaReference, ...]:
    return tuple(SchemaReference(r["name"], r["subject"], int(r["version"])) for r in raw or ())


class RegistryClient:
    """Talks to one registry URL; thread-safe (no shared mutable state)."""

    def __init__(self, url: str, *, basic_auth: tuple[str, str] | None = None, timeout: float = 10.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"registry URL must be http(s)://host[:port], not {url!r}")
        if parsed.username is not None and basic_auth is None:
            basic_auth = (urllib.parse.unquote(parsed.username), urllib.parse.unquote(parsed.password or ""))
        netloc = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        self.url = urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path.rstrip("/"), "", ""))
        self.timeout = timeout
        self._authorization = (
            "Basic " + base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode() if basic_auth else None
        )

    @classmethod
    def from_env(cls, url: str | None = None, environ: Mapping[str, str] = os.environ) -> RegistryClient:
        """A client for `url`, else $TRADEWIRE_REGISTRY_URL; basic auth from $TRADEWIRE_REGISTRY_BASIC_AUTH."""
        target = url or environ.get("TRADEWIRE_REGISTRY_URL")
        if not target:
            raise ValueError("no registry URL: pass --registry URL or set TRADEWIRE_REGISTRY_URL")
        auth = environ.get("TRADEWIRE_REGISTRY_BASIC_AUTH")
        user, _, password = auth.partition(":") if auth else ("", "", "")
        return cls(target, basic_auth=(user, password) if auth else None)

    def __repr__(self) -> str:
        return f"RegistryClient({self.url!r})"  # never the credentials

    # -- transport -------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, params: Mapping[str, object] | None = None) -> Any:
        """One call: JSON in, JSON out; RegistryError for an error answer."""
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(
                {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
            )
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": _MEDIA_TYPE + ", application/json"}
        if data is not None:
            headers["Content-Type"] = _MEDIA_TYPE
        if self._authorization:
            headers["Authorization"] = self._authorization
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                answer = json.loads(raw)
                message, code = str(answer.get("message", raw)), int(answer.get("error_code", error.code))
            except (ValueError, AttributeError):
                message, code = f"unknown registry error: {raw[:200]!r}", -1
            raise RegistryError(f"{method} {path}: {message}", http_status=error.code, error_code=code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RegistryUnavailableError(f"schema registry at {self.url} is unreachable: {reason}") from None
        return json.loads(payload) if payload else None

    @staticmethod
    def _subject(subject: str) -> str:
        return urllib.parse.quote(subject, safe="")

    # -- subjects and versions ---------------------------------------------------------------
    def subjects(self) -> list[str]:
        """Every live subject."""
        result: list[str] = self.request("GET", "/subjects")
        return result

    def versions(self, subject: str) -> list[int]:
        """Live version numbers of a subject ([] when the subject does not exist)."""
        try:
            result: list[int] = self.request("GET", f"/subjects/{self._subject(subject)}/versions")
        except RegistryError as error:
            if error.error_code == 40401:
                return []
            raise
        return result

    def version(self, subject: str, version: int | str = "latest") -> RegisteredSchema:
        """One version of a subject (`latest` by default)."""
        raw = self.request("GET", f"/subjects/{self._subject(subject)}/versions/{version}")
        return RegisteredSchema(
            raw["subject"],
            int(raw["version"]),
            int(raw["id"]),
            raw["schema"],
            _references(raw.get("references")),
            raw.get("schemaType") or "AVRO",
        )

    def latest(self, subject: str) -> RegisteredSchema | None:
        """The latest live version, or None when the subject has none."""
        try:
            return self.version(subject, "latest")
        except RegistryError as error:
            if error.error_code in (40401, 40402):
                return None
            raise

    def schema_by_id(self, schema_id: int, subject: str | None = None) -> tuple[str, tuple[SchemaReference, ...]]:
        """The schema text and references of a global id."""
        raw = self.request("GET", f"/schemas/ids/{schema_id}", params={"subject": subject} if subject else None)
        return raw["schema"], _references(raw.get("references"))

    # -- writing -----------------------------------------------------------------------------
    def register(self, subject: str, schema: str, references: Sequence[SchemaReference] = ()) -> int:
        """Register (idempotent: an identical live schema returns its existing id)."""
        body = {"schema": schema, "schemaType": "AVRO", "references": [r.to_json() for r in references]}
        raw = self.request("POST", f"/subjects/{self._subject(subject)}/versions", body)
        return int(raw["id"])

    def lookup(self, subject: str, schema: str, references: Sequence[SchemaReference] = ()) -> RegisteredSchema | None:
        """The version under which `schema` is registered in `subject`, or None."""
        body = {"schema": schema, "schemaType": "AVRO", "references": [r.to_json() for r in references]}
        try:
            raw = self.request("POST", f"/subjects/{self._subject(subject)}", body)
        except RegistryError as error:
            if error.error_code in (40401, 40403):
                return None
            raise
        return RegisteredSchema(
            raw["subject"], int(raw["version"]), int(raw["id"]), raw["schema"], _references(raw.get("references"))
        )

    def test_compatibility(
        self, subject: str, schema: str, references: Sequence[SchemaReference] = ()
    ) -> CompatibilityResult:
        """Whether `schema` may be registered under `subject` at its configured level."""
        body = {"schema": schema, "schemaType": "AVRO", "references": [r.to_json() for r in references]}
        raw = self.request(
            "POST", f"/compatibility/subjects/{self._subject(subject)}/versions", body, params={"verbose": True}
        )
        return CompatibilityResult(bool(raw["is_compatible"]), tuple(str(m) for m in raw.get("messages") or ()))

    def level(self, subject: str) -> str:
        """The compatibility level that applies to `subject` (its own, else the global one)."""
        raw = self.request("GET", f"/config/{self._subject(subject)}", params={"defaultToGlobal": True})
        return str(raw["compatibilityLevel"])

    def own_level(self, subject: str) -> str | None:
        """The subject's own compatibility level, or None when it follows the global one."""
        try:
            raw = self.request("GET", f"/config/{self._subject(subject)}")
        except RegistryError as error:
            if error.error_code in (40401, 40408):
                return None
            raise
        return str(raw["compatibilityLevel"])

    def set_level(self, subject: str, level: str) -> None:
        """Set a subject's own compatibility level."""
        self.request("PUT", f"/config/{self._subject(subject)}", {"compatibility": level})
