"""Specification of `tradewire.registry.service` over a `MemoryStore`: ids, versions, modes, deletion, settings."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tradewire.errors import RegistryError
from tradewire.registry.client import SchemaReference
from tradewire.registry.records import Record, schema_tombstone
from tradewire.registry.schemas import SchemaRequest
from tradewire.registry.service import RegistryService
from tradewire.registry.state import RegistryState
from tradewire.registry.store import MemoryStore


def _schema(name: str, *fields: dict[str, Any]) -> SchemaRequest:
    return SchemaRequest(json.dumps({"type": "record", "name": name, "namespace": "tw", "fields": list(fields)}))


A = {"name": "a", "type": "int"}
B_DEFAULT = {"name": "b", "type": "string", "default": ""}
V1 = _schema("Order", A)
V2 = _schema("Order", A, B_DEFAULT)


@pytest.fixture
def store() -> MemoryStore:
    """An empty in-memory store."""
    return MemoryStore()


@pytest.fixture
def service(store: MemoryStore) -> RegistryService:
    """The operations over that store."""
    return RegistryService(store)


@contextlib.contextmanager
def _fails(code: int, message: str | None = None) -> Iterator[None]:
    """Expect a RegistryError with Confluent's `code` (and, when given, exactly this message)."""
    with pytest.raises(RegistryError) as raised:
        yield
    assert code == raised.value.error_code, raised.value.message
    if message is not None:
        assert message == raised.value.message


def test_ids_are_global_and_versions_per_subject(service: RegistryService) -> None:
    """The same schema in two subjects has one id; a new schema gets max id + 1; versions count per subject."""
    first = service.register("s", V1)
    shared = service.register("t", V1)
    second = service.register("s", V2)
    assert [(1, 1), (1, 1), (2, 2)] == [(x.id, x.version) for x in (first, shared, second)]


def test_registration_is_idempotent(service: RegistryService, store: MemoryStore) -> None:
    """Registering a live schema again writes nothing and answers the existing version."""
    service.register("s", V1)
    written = len(store.log)
    assert (1, 1) == (service.register("s", V1).id, service.register("s", V1).version)
    assert written == len(store.log)


def test_reregistering_a_soft_deleted_schema_reuses_its_id(service: RegistryService, store: MemoryStore) -> None:
    """A schema soft-deleted from a subject comes back as a new version with its old id; the old one is tombstoned."""
    service.register("s", V1)
    service.register("s", V2)
    service.delete_version("s", 1)
    again = service.register("s", V1)
    assert (1, 3) == (again.id, again.version)
    assert schema_tombstone("s", 1) == store.log[-1]
    assert [2, 3] == service.versions("s", deleted=True)


def test_incompatible_schema_is_refused_unless_forced(service: RegistryService) -> None:
    """Under BACKWARD a new required field is 409; force=true registers it anyway."""
    service.register("s", V1)
    required = _schema("Order", A, {"name": "b", "type": "string"})
    with _fails(409):
        service.register("s", required)
    assert 2 == service.register("s", required, force=True).version


def test_read_only_mode(service: RegistryService) -> None:
    """READONLY refuses new schemas and deletions, but answers already registered ones."""
    service.register("s", V1)
    service.set_mode("s", {"mode": "readonly"})
    assert 1 == service.register("s", V1).id
    with _fails(42205, "Subject s is in read-only mode"):
        service.register("s", V2)
    with _fails(42205, "Subject s is in read-only mode"):
        service.delete_subject("s")


def test_import_mode(service: RegistryService) -> None:
    """IMPORT registers with the id and version given, refuses registrations without an id and clashing ids."""
    service.set_mode("s", {"mode": "IMPORT"})
    imported = service.register("s", SchemaRequest(V1.schema, id=40, version=5))
    assert (40, 5, 41) == (imported.id, imported.version, service.state.next_id())
    with _fails(42205, "Subject s is not in read-write mode"):
        service.register("s", V2)
    with _fails(42207, "Overwrite new schema with id 40 is not permitted."):
        service.register("s", SchemaRequest(V2.schema, id=40))


def test_an_id_outside_import_mode_is_refused(service: RegistryService) -> None:
    """Giving an id while in READWRITE is 42205."""
    with _fails(42205, "Subject s is not in import mode"):
        service.register("s", SchemaRequest(V1.schema, id=3))


def test_import_needs_force_when_subjects_exist(service: RegistryService) -> None:
    """Switching to IMPORT where live subjects exist is 42205 unless forced; an empty subject may switch."""
    service.register("s", V1)
    with _fails(42205, "Cannot import since found existing subjects"):
        service.set_mode(None, {"mode": "IMPORT"})
    assert "IMPORT" == service.set_mode("empty", {"mode": "IMPORT"})
    assert "IMPORT" == service.set_mode("s", {"mode": "IMPORT"}, force=True)


def test_invalid_subject_name(service: RegistryService) -> None:
    """Subjects with control characters are 42208."""
    with _fails(42208):
        service.register("bad\nsubject", V1)


def test_subject_deletion_rules(service: RegistryService) -> None:
    """Soft before permanent (40405), not twice (40404), unknown subjects 40401."""
    service.register("s", V1)
    with _fails(40405, "Subject 's' was not deleted first before being permanently deleted"):
        service.delete_subject("s", permanent=True)
    assert [1] == service.delete_subject("s")
    with _fails(40404, "Subject 's' was soft deleted.Set permanent=true to delete permanently"):
        service.delete_subject("s")
    assert [1] == service.delete_subject("s", permanent=True)
    with _fails(40401, "Subject 's' not found."):
        service.delete_subject("s")


def test_version_deletion_rules(service: RegistryService) -> None:
    """Soft before permanent (40407), not twice (40406); latest names the newest live version."""
    service.register("s", V1)
    service.register("s", V2)
    with _fails(40407, "Subject 's' Version 1 was not deleted first before being permanently deleted"):
        service.delete_version("s", 1, permanent=True)
    assert 2 == service.delete_version("s", -1)
    with _fails(40406, "Subject 's' Version 2 was soft deleted.Set permanent=true to delete permanently"):
        service.delete_version("s", 2)
    assert 2 == service.delete_version("s", 2, permanent=True)
    with _fails(40402, "Version 2 not found."):
        service.delete_version("s", 2, permanent=True)


def test_deleting_the_last_version_removes_subject_settings(service: RegistryService) -> None:
    """Permanently deleting a subject's last version also removes its own level and mode."""
    service.register("s", V1)
    service.set_config("s", {"compatibility": "NONE"})
    service.set_mode("s", {"mode": "READWRITE"})
    service.delete_version("s", 1)
    service.delete_version("s", 1, permanent=True)
    assert ({}, {}) == (service.state.configs, service.state.modes)


def test_soft_delete_keeps_subject_settings(service: RegistryService) -> None:
    """A soft delete keeps the subject's level."""
    service.register("s", V1)
    service.set_config("s", {"compatibility": "NONE"})
    service.delete_subject("s")
    assert {"compatibilityLevel": "NONE"} == service.config("s")


def test_referenced_versions_cannot_be_deleted(service: RegistryService) -> None:
    """A version referenced by a live schema is 42206 to delete; once the referrer is soft-deleted it is free."""
    service.register("address", _schema("Address", {"name": "street", "type": "string"}))
    reference = SchemaReference("tw.Address", "address", 1)
    person = SchemaRequest(_schema("Person", {"name": "home", "type": "Address"}).schema, references=(reference,))
    person_id = service.register("person", person).id
    assert [person_id] == service.referenced_by("address", 1)
    message = "One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=address,version=1}."
    with _fails(42206, message):
        service.delete_version("address", 1)
    service.delete_subject("person")
    assert 1 == service.delete_version("address", 1)


def test_lookup(service: RegistryService) -> None:
    """Lookup finds the version holding a schema; 40403 for another schema; soft-deleted only with deleted."""
    service.register("s", V1)
    assert 1 == service.lookup("s", V1).version
    with _fails(40403, "Schema not found"):
        service.lookup("s", V2)
    service.delete_subject("s")
    with _fails(40401):
        service.lookup("s", V1)
    assert 1 == service.lookup("s", V1, deleted=True).version


def test_compatibility_test_against_versions(service: RegistryService) -> None:
    """Testing against latest of an empty subject is compatible; a missing explicit version is 40402."""
    assert service.test_compatibility("s", V1, -1).is_compatible
    with _fails(40402):
        service.test_compatibility("s", V1, 3)
    service.register("s", V1)
    verdict = service.test_compatibility("s", _schema("Order", A, {"name": "b", "type": "int"}), 1, verbose=True)
    assert (False, "{oldSchemaVersion: 1}") == (verdict.is_compatible, verdict.messages[1])


def test_config_is_merged_and_echoed(service: RegistryService) -> None:
    """PUT config merges fields into the subject's config and echoes what it understood."""
    assert {"compatibility": "FULL"} == service.set_config("s", {"compatibility": "full", "unknown": 1})
    assert {"normalize": True} == service.set_config("s", {"normalize": True})
    assert {"compatibilityLevel": "FULL", "normalize": True} == service.config("s")
    assert {} == service.set_config("s", {"compatibilityLevel": "NONE"})
    assert "FULL" == service.state.level("s")


def test_global_config_and_mode_reset(service: RegistryService) -> None:
    """Deleting the global config or mode answers the old one and brings back the defaults."""
    service.set_config(None, {"compatibility": "NONE"})
    service.set_mode(None, {"mode": "READONLY"})
    assert {"compatibilityLevel": "NONE"} == service.delete_config(None)
    assert "READONLY" == service.delete_mode(None)
    assert ({"compatibilityLevel": "BACKWARD"}, "READWRITE") == (service.config(None), service.mode(None))


def test_missing_subject_settings(service: RegistryService) -> None:
    """A subject without its own level or mode: 40408 / 40409 to read, 40401 to delete."""
    with _fails(40408):
        service.config("s")
    with _fails(40409, "Subject 's' does not have subject-level mode configured"):
        service.mode("s")
    with _fails(40401):
        service.delete_config("s")
    with _fails(40401):
        service.delete_mode("s")
    assert ({"compatibilityLevel": "BACKWARD"}, "READWRITE") == (
        service.config("s", default_to_global=True),
        service.mode("s", default_to_global=True),
    )


def test_invalid_mode(service: RegistryService) -> None:
    """An unknown mode is 42204."""
    with _fails(42204, "Invalid mode SOMETIMES. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT"):
        service.set_mode("s", {"mode": "SOMETIMES"})


def test_replaying_the_log_rebuilds_the_same_state(service: RegistryService, store: MemoryStore) -> None:
    """Applying every record written, in order, to a fresh state gives the same subjects, ids and settings."""
    service.register("s", V1)
    service.register("s", V2)
    service.register("t", V1)
    service.delete_version("s", 2)
    service.delete_subject("t")
    service.delete_subject("t", permanent=True)
    service.set_config("s", {"compatibility": "FULL"})
    service.set_mode("s", {"mode": "READONLY"})
    replayed = RegistryState()
    for record in store.log:
        replayed.apply(Record(record.key, record.value))
    original = store.state
    assert original.subjects == replayed.subjects
    assert (original.ids, original.max_id) == (replayed.ids, replayed.max_id)
    assert (original.configs, original.modes) == (replayed.configs, replayed.modes)


def test_next_id_continues_after_the_largest(service: RegistryService) -> None:
    """Ids continue after the largest ever seen, even when that schema was permanently deleted."""
    service.register("s", V1)
    service.register("t", V2)
    service.delete_subject("t")
    service.delete_subject("t", permanent=True)
    assert 3 == service.register("u", _schema("Other", A)).id


def test_transitive_checks_skip_soft_deleted_versions(service: RegistryService) -> None:
    """Under BACKWARD_TRANSITIVE a soft-deleted version is not checked: v3 only has to suit v2."""
    service.set_config("s", {"compatibility": "BACKWARD_TRANSITIVE"})
    service.register("s", V1)
    service.register("s", V2)
    required_b = _schema("Order", A, {"name": "b", "type": "string"})
    with _fails(409):
        service.register("s", required_b)
    service.delete_version("s", 1)
    assert 3 == service.register("s", required_b).version
