"""Specification of `tradewire.registry.state`: what applying `_schemas` records builds."""

from __future__ import annotations

from tradewire.registry.client import SchemaReference
from tradewire.registry.records import (
    Record,
    SchemaVersion,
    config_record,
    delete_subject_record,
    mode_record,
    noop_record,
    schema_record,
    schema_tombstone,
)
from tradewire.registry.state import RegistryState

A = '{"type":"record","name":"A","fields":[]}'
B = '{"type":"record","name":"B","fields":[]}'


def _state(*records: Record) -> RegistryState:
    state = RegistryState()
    for record in records:
        state.apply(record)
    return state


def test_versions_and_ids() -> None:
    """Applied SCHEMA records give versions per subject, ids, and the next id after the largest."""
    state = _state(
        schema_record(SchemaVersion("s", 1, 5, A)),
        schema_record(SchemaVersion("s", 2, 9, B)),
        schema_record(SchemaVersion("t", 1, 5, A)),
    )
    assert [1, 2] == [stored.version for stored in state.versions("s")]
    assert 5 == state.id_of(("AVRO", A, ()))
    assert 10 == state.next_id()
    assert 3 == state.next_version("s")
    assert [("s", 1), ("t", 1)] == [(c.subject, c.version) for c in state.carriers_of(5)]


def test_delete_subject_soft_deletes_up_to_the_version() -> None:
    """DELETE_SUBJECT marks versions up to its version deleted; later ones stay live."""
    state = _state(
        schema_record(SchemaVersion("s", 1, 1, A)),
        schema_record(SchemaVersion("s", 2, 2, B)),
        delete_subject_record("s", 1),
    )
    assert [2] == [stored.version for stored in state.versions("s")]
    assert [True, False] == [stored.deleted for stored in state.versions("s", deleted=True)]


def test_soft_deleted_ids_stay_readable_until_tombstoned() -> None:
    """An id carried only by soft-deleted versions resolves; after the tombstone it does not, and next id stays."""
    state = _state(schema_record(SchemaVersion("s", 1, 4, A)), delete_subject_record("s", 1))
    assert 4 == (state.schema(4) or SchemaVersion("", 0, 0, "")).id
    state.apply(schema_tombstone("s", 1))
    assert (None, None, 5) == (state.schema(4), state.id_of(("AVRO", A, ())), state.next_id())
    assert [] == state.subject_names(deleted=True)


def test_subject_names_filters() -> None:
    """Subjects are listed when live; `deleted` adds soft-deleted ones; `deleted_only` those with a deleted version."""
    state = _state(
        schema_record(SchemaVersion("live", 1, 1, A)),
        schema_record(SchemaVersion("gone", 1, 2, B)),
        delete_subject_record("gone", 1),
    )
    assert ["live"] == state.subject_names()
    assert ["gone", "live"] == state.subject_names(deleted=True)
    assert ["gone"] == state.subject_names(deleted_only=True)


def test_references_count_only_from_live_versions() -> None:
    """referenced_by lists live referrers; a soft-deleted referrer no longer holds the reference."""
    person = SchemaVersion("p", 1, 2, B, (SchemaReference("A", "a", 1),))
    state = _state(schema_record(SchemaVersion("a", 1, 1, A)), schema_record(person))
    assert [2] == state.referenced_by("a", 1)
    state.apply(schema_record(person.soft_deleted()))
    assert [] == state.referenced_by("a", 1)


def test_config_and_mode_records() -> None:
    """CONFIG and MODE records set subject and global settings; tombstones remove them."""
    state = _state(
        config_record(None, {"compatibilityLevel": "FULL"}),
        config_record("s", {"compatibilityLevel": "none"}),
        mode_record("s", "READONLY"),
    )
    assert ("NONE", "FULL", "FULL") == (state.level("s"), state.level("t"), state.level(None))
    assert ("READONLY", "READWRITE") == (state.mode("s"), state.mode("t"))
    state.apply(config_record("s", None))
    state.apply(mode_record("s", None))
    assert ("FULL", "READWRITE") == (state.level("s"), state.mode("s"))


def test_global_keys_with_null_subject_are_global() -> None:
    """A global CONFIG key written with `"subject": null` (as Karapace does) is the global config."""
    state = _state(Record({"keytype": "CONFIG", "subject": None, "magic": 0}, {"compatibilityLevel": "FORWARD"}))
    assert "FORWARD" == state.level(None)


def test_effective_config_merges_subject_over_global() -> None:
    """The effective config is the default, then the global config, then the subject's own fields."""
    state = _state(
        config_record(None, {"compatibilityLevel": "FULL", "normalize": True}),
        config_record("s", {"normalize": False}),
    )
    assert {"compatibilityLevel": "FULL", "normalize": False} == state.effective_config("s")


def test_unknown_records_change_nothing() -> None:
    """NOOP and key types this registry does not use (CONTEXT, ...) are ignored."""
    state = _state(noop_record(), Record({"keytype": "CONTEXT", "tenant": "t", "magic": 0}, {"context": "x"}))
    assert ([], 1) == (state.subject_names(deleted=True), state.next_id())


def test_rewriting_a_version_with_another_id_releases_the_old_id() -> None:
    """When a key is rewritten with a different id (an import), the old id is no longer carried."""
    state = _state(schema_record(SchemaVersion("s", 1, 1, A)), schema_record(SchemaVersion("s", 1, 8, A)))
    assert (None, 8) == (state.schema(1), state.id_of(("AVRO", A, ())))
