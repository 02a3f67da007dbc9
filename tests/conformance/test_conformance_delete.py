"""Conformance: soft and permanent deletion of subjects and versions, and references blocking them."""

from __future__ import annotations

from conformance_helpers import Registry, field, quote, record


def test_subject_deletion_is_soft_then_permanent(registry: Registry, subject: str, unique: str) -> None:
    """Permanent delete needs a prior soft delete (40405); a second soft delete is 40404; then 40401."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    path = f"/subjects/{quote(subject)}"
    permanent = {"permanent": "true"}
    too_early = registry.call("DELETE", path, query=permanent)
    soft = registry.call("DELETE", path)
    again = registry.call("DELETE", path)
    hard = registry.call("DELETE", path, query=permanent)
    gone = registry.call("DELETE", path)
    assert (404, 40405) == (too_early.status, too_early.body["error_code"])
    assert (200, [1]) == (soft.status, soft.body)
    assert (404, 40404) == (again.status, again.body["error_code"])
    assert (200, [1]) == (hard.status, hard.body)
    assert (404, 40401) == (gone.status, gone.body["error_code"])


def test_soft_deleted_subject_hides_versions_but_keeps_ids(registry: Registry, subject: str, unique: str) -> None:
    """After a soft delete the subject's versions are 40401 while its schema id still resolves."""
    schema_id = registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    registry.call("DELETE", f"/subjects/{quote(subject)}")
    versions = registry.call("GET", f"/subjects/{quote(subject)}/versions")
    by_id = registry.call("GET", f"/schemas/ids/{schema_id}")
    assert (404, 40401) == (versions.status, versions.body["error_code"])
    assert 200 == by_id.status


def test_permanent_delete_removes_the_id(registry: Registry, subject: str, unique: str) -> None:
    """Once every version carrying an id is permanently deleted, the id answers 40403."""
    schema_id = registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    registry.call("DELETE", f"/subjects/{quote(subject)}")
    registry.call("DELETE", f"/subjects/{quote(subject)}", query={"permanent": "true"})
    reply = registry.call("GET", f"/schemas/ids/{schema_id}")
    assert {"error_code": 40403, "message": f"Schema {schema_id} not found"} == reply.body


def test_version_deletion_is_soft_then_permanent(registry: Registry, subject: str, unique: str) -> None:
    """Version delete: 40407 before a soft delete, 40406 for a second soft delete, then gone for good."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    registry.register_id(subject, record(f"Order{unique}", field("id", "string"), field("n", "int", default=0)))
    path = f"/subjects/{quote(subject)}/versions/1"
    permanent = {"permanent": "true"}
    too_early = registry.call("DELETE", path, query=permanent)
    soft = registry.call("DELETE", path)
    again = registry.call("DELETE", path)
    hard = registry.call("DELETE", path, query=permanent)
    assert (404, 40407) == (too_early.status, too_early.body["error_code"])
    assert (200, 1) == (soft.status, soft.body)
    assert (404, 40406) == (again.status, again.body["error_code"])
    assert (200, 1) == (hard.status, hard.body)
    assert [2] == registry.call("GET", f"/subjects/{quote(subject)}/versions", query={"deleted": "true"}).body


def test_deleting_latest_answers_its_number(registry: Registry, subject: str, unique: str) -> None:
    """DELETE …/versions/latest soft-deletes the newest live version and answers its number."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    registry.register_id(subject, record(f"Order{unique}", field("id", "string"), field("n", "int", default=0)))
    reply = registry.call("DELETE", f"/subjects/{quote(subject)}/versions/latest")
    assert (200, 2) == (reply.status, reply.body)
    assert [1] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body


def test_deleting_missing_versions_and_subjects(registry: Registry, subject: str, unique: str) -> None:
    """Deleting a version of an unknown subject is 40401, a missing version 40402, a bad id 42202."""
    unknown = registry.call("DELETE", f"/subjects/{quote(subject)}/versions/1")
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    missing = registry.call("DELETE", f"/subjects/{quote(subject)}/versions/9")
    invalid = registry.call("DELETE", f"/subjects/{quote(subject)}/versions/zero")
    assert (404, 40401) == (unknown.status, unknown.body["error_code"])
    assert (404, 40402) == (missing.status, missing.body["error_code"])
    assert (422, 42202) == (invalid.status, invalid.body["error_code"])


def test_referenced_schema_cannot_be_deleted(registry: Registry, subject: str, other_subject: str, unique: str) -> None:
    """A version another live schema references cannot be deleted (42206) until the referrer is gone."""
    registry.register_id(subject, record(f"Address{unique}", field("street", "string")))
    references = [{"name": f"tw.conformance.Address{unique}", "subject": subject, "version": 1}]
    registry.register_id(other_subject, record(f"Person{unique}", field("home", f"Address{unique}")), references)
    version = registry.call("DELETE", f"/subjects/{quote(subject)}/versions/1")
    whole = registry.call("DELETE", f"/subjects/{quote(subject)}")
    registry.call("DELETE", f"/subjects/{quote(other_subject)}")
    registry.call("DELETE", f"/subjects/{quote(other_subject)}", query={"permanent": "true"})
    freed = registry.call("DELETE", f"/subjects/{quote(subject)}")
    assert (422, 42206) == (version.status, version.body["error_code"])
    assert (422, 42206) == (whole.status, whole.body["error_code"])
    assert (200, [1]) == (freed.status, freed.body)
