"""Conformance: reading subjects and versions (version ids, listing filters, boolean spellings)."""

from __future__ import annotations

import json

import pytest
from conformance_helpers import Registry, field, quote, record


def _two_versions(registry: Registry, subject: str, unique: str) -> tuple[int, int]:
    first = registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    second = registry.register_id(
        subject, record(f"Order{unique}", field("id", "string"), field("note", "string", default=""))
    )
    return first, second


@pytest.mark.parametrize("version", ["latest", "LATEST", "-1", "2"])
def test_latest_version_spellings(registry: Registry, subject: str, unique: str, version: str) -> None:
    """`latest` in any case, -1 and the highest number all name the newest version."""
    _, second = _two_versions(registry, subject, unique)
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/{version}")
    assert (200, 2, second) == (reply.status, reply.body["version"], reply.body["id"])


def test_raw_schema_endpoint_returns_the_schema_document(registry: Registry, subject: str, unique: str) -> None:
    """GET …/versions/{v}/schema answers the schema itself, not wrapped in an entity."""
    schema = record(f"Order{unique}", field("id", "string"))
    registry.register_id(subject, schema)
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/1/schema")
    assert (200, schema) == (reply.status, reply.body)


@pytest.mark.parametrize("version", ["0", "abc", "-2", "2147483648"])
def test_invalid_version_ids_are_42202(registry: Registry, subject: str, unique: str, version: str) -> None:
    """A version id that is neither `latest` nor 1..2^31-1 is 422 / 42202."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/{version}")
    assert (422, 42202) == (reply.status, reply.body["error_code"])


def test_missing_version_is_40402(registry: Registry, subject: str, unique: str) -> None:
    """A version the subject does not have answers 40402."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/5")
    assert {"error_code": 40402, "message": "Version 5 not found."} == reply.body


def test_unknown_subject_is_40401(registry: Registry, subject: str) -> None:
    """Versions of a subject that does not exist answer 40401 naming the subject."""
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions")
    assert 404 == reply.status
    assert {"error_code": 40401, "message": f"Subject '{subject}' not found."} == reply.body


def test_subject_prefix_filters_the_subject_list(registry: Registry, subject: str, unique: str) -> None:
    """GET /subjects?subjectPrefix= lists only the subjects starting with the prefix."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.call("GET", "/subjects", query={"subjectPrefix": subject[:-3]})
    assert [subject] == reply.body


@pytest.mark.parametrize(("spelling", "expected"), [("TRUE", [1, 2]), ("true", [1, 2]), ("False", [2]), ("x", [2])])
def test_boolean_parameters_are_case_insensitive(
    registry: Registry, subject: str, unique: str, spelling: str, expected: list[int]
) -> None:
    """`deleted` is true for `true` in any case and false for anything else."""
    _two_versions(registry, subject, unique)
    registry.call("DELETE", f"/subjects/{quote(subject)}/versions/1")
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions", query={"deleted": spelling})
    assert expected == reply.body


def test_deleted_only_lists_soft_deleted_versions(registry: Registry, subject: str, unique: str) -> None:
    """GET …/versions?deletedOnly=true lists only the soft-deleted versions."""
    _two_versions(registry, subject, unique)
    registry.call("DELETE", f"/subjects/{quote(subject)}/versions/1")
    assert [1] == registry.call("GET", f"/subjects/{quote(subject)}/versions", query={"deletedOnly": "true"}).body


def test_soft_deleted_subject_is_listed_only_with_deleted(registry: Registry, subject: str, unique: str) -> None:
    """A soft-deleted subject leaves the subject list but appears with deleted=true and deletedOnly=true."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    registry.call("DELETE", f"/subjects/{quote(subject)}")
    prefix = {"subjectPrefix": subject}
    assert [] == registry.call("GET", "/subjects", query=prefix).body
    assert [subject] == registry.call("GET", "/subjects", query={**prefix, "deleted": "true"}).body
    assert [subject] == registry.call("GET", "/subjects", query={**prefix, "deletedOnly": "true"}).body


def test_soft_deleted_version_is_readable_with_deleted(registry: Registry, subject: str, unique: str) -> None:
    """A soft-deleted version answers 40402 unless deleted=true is given."""
    _two_versions(registry, subject, unique)
    registry.call("DELETE", f"/subjects/{quote(subject)}/versions/1")
    hidden = registry.call("GET", f"/subjects/{quote(subject)}/versions/1")
    shown = registry.call("GET", f"/subjects/{quote(subject)}/versions/1", query={"deleted": "true"})
    assert (404, 40402) == (hidden.status, hidden.body["error_code"])
    assert (200, 1) == (shown.status, shown.body["version"])


def test_version_numbers_continue_after_soft_delete(registry: Registry, subject: str, unique: str) -> None:
    """A new version after soft-deleting the latest gets max(all versions) + 1, not a reused number."""
    _two_versions(registry, subject, unique)
    registry.call("DELETE", f"/subjects/{quote(subject)}/versions/2")
    schema = record(f"Order{unique}", field("id", "string"), field("other", "string", default=""))
    registry.register_id(subject, json.dumps(schema))
    assert [1, 3] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body
