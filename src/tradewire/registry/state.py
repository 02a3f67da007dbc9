"""What the registry knows, rebuilt by applying `_schemas` records in order.

`RegistryState.apply` is the only way state changes, for the in-memory store and for a
replay of the Kafka topic alike, so both give the same answers. It keeps Confluent's
bookkeeping: one global id per distinct schema (shared across subjects), next id = the
largest id seen + 1, an id stays readable while any subject version carries it (even a
soft-deleted one) and disappears when the last carrier is tombstoned; references count
only from live versions (a soft delete releases what the version referenced).
"""

from __future__ import annotations

import logging
from typing import Any

from tradewire.registry.records import (
    JsonObject,
    Record,
    SchemaIdentity,
    SchemaVersion,
    guid_of,
    schema_version_from_json,
)

__all__ = ["DEFAULT_LEVEL", "DEFAULT_MODE", "RegistryState"]

DEFAULT_LEVEL = "BACKWARD"
DEFAULT_MODE = "READWRITE"

_log = logging.getLogger(__name__)


class RegistryState:
    """Subjects and their versions, global ids, configuration and modes."""

    def __init__(self) -> None:
        self.subjects: dict[str, dict[int, SchemaVersion]] = {}
        self.carriers: dict[int, dict[tuple[str, int], SchemaVersion]] = {}
        self.ids: dict[SchemaIdentity, int] = {}
        self.max_id = 0
        self.configs: dict[str | None, JsonObject] = {}
        self.modes: dict[str | None, str] = {}

    # -- applying records ------------------------------------------------------------
    def apply(self, record: Record) -> None:
        """Apply one record; unknown key types (NOOP, CLEAR_SUBJECT, CONTEXT, ...) change nothing."""
        key, value = record.key, record.value
        keytype = key.get("keytype")
        subject = key.get("subject") or None
        if keytype == "SCHEMA":
            version = key.get("version")
            if not isinstance(subject, str) or not isinstance(version, int):
                raise ValueError(f"a SCHEMA key needs a subject and a version: {key!r}")
            if value is None:
                self._remove(subject, version)
            else:
                self._put(schema_version_from_json(value))
        elif keytype == "DELETE_SUBJECT" and isinstance(subject, str) and value is not None:
            self._soft_delete_up_to(subject, value.get("version"))
        elif keytype == "CONFIG":
            if value is None:
                self.configs.pop(subject, None)
            else:
                self.configs[subject] = {name: item for name, item in value.items() if name != "subject"}
        elif keytype == "MODE":
            mode = value.get("mode") if value is not None else None
            if isinstance(mode, str):
                self.modes[subject] = mode.upper()
            else:
                self.modes.pop(subject, None)
        else:
            _log.debug("ignoring record with key %r", key)

    def _put(self, stored: SchemaVersion) -> None:
        versions = self.subjects.setdefault(stored.subject, {})
        previous = versions.get(stored.version)
        if previous is not None and previous.id != stored.id:
            self._release(previous)
        versions[stored.version] = stored
        self.carriers.setdefault(stored.id, {})[(stored.subject, stored.version)] = stored
        self.ids[stored.identity] = stored.id
        self.max_id = max(self.max_id, stored.id)

    def _remove(self, subject: str, version: int) -> None:
        versions = self.subjects.get(subject, {})
        stored = versions.pop(version, None)
        if not versions:
            self.subjects.pop(subject, None)
        if stored is not None:
            self._release(stored)

    def _release(self, stored: SchemaVersion) -> None:
        carriers = self.carriers.get(stored.id, {})
        carriers.pop((stored.subject, stored.version), None)
        if not carriers:
            self.carriers.pop(stored.id, None)
            if self.ids.get(stored.identity) == stored.id:
                del self.ids[stored.identity]

    def _soft_delete_up_to(self, subject: str, last: Any) -> None:
        if not isinstance(last, int):
            return
        for version, stored in list(self.subjects.get(subject, {}).items()):
            if version <= last and not stored.deleted:
                self._put(stored.soft_deleted())

    # -- subjects and versions ---------------------------------------------------------
    def versions(self, subject: str, *, deleted: bool = False) -> list[SchemaVersion]:
        """Versions of `subject`, oldest first; soft-deleted ones only when `deleted`."""
        versions = self.subjects.get(subject, {})
        return [versions[number] for number in sorted(versions) if deleted or not versions[number].deleted]

    def version(self, subject: str, version: int, *, deleted: bool = False) -> SchemaVersion | None:
        """One version (`-1` = the latest), if it exists and is visible."""
        if version == -1:
            return self.latest(subject, deleted=deleted)
        stored = self.subjects.get(subject, {}).get(version)
        if stored is None or (stored.deleted and not deleted):
            return None
        return stored

    def latest(self, subject: str, *, deleted: bool = False) -> SchemaVersion | None:
        """The newest visible version of `subject`."""
        versions = self.versions(subject, deleted=deleted)
        return versions[-1] if versions else None

    def has_subject(self, subject: str, *, deleted: bool = False) -> bool:
        """Whether `subject` has a visible version."""
        return bool(self.versions(subject, deleted=deleted))

    def subject_names(self, *, deleted: bool = False, deleted_only: bool = False) -> list[str]:
        """Sorted subjects with a live version (with a soft-deleted one for `deleted_only`; either for `deleted`)."""
        names = []
        for subject, versions in self.subjects.items():
            flags = {stored.deleted for stored in versions.values()}
            if (deleted_only and True in flags) or (not deleted_only and (deleted or False in flags)):
                names.append(subject)
        return sorted(names)

    def next_version(self, subject: str) -> int:
        """The number a new version of `subject` gets: the largest, soft-deleted ones included, + 1."""
        return max(self.subjects.get(subject, {}), default=0) + 1

    def find(self, subject: str, identity: SchemaIdentity, *, deleted: bool = False) -> SchemaVersion | None:
        """The newest visible version of `subject` holding the schema `identity`."""
        for stored in reversed(self.versions(subject, deleted=deleted)):
            if stored.identity == identity:
                return stored
        return None

    def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of the live versions whose references name `subject` version `version`."""
        return sorted(
            {
                stored.id
                for versions in self.subjects.values()
                for stored in versions.values()
                if not stored.deleted and any(r.subject == subject and r.version == version for r in stored.references)
            }
        )

    # -- ids ------------------------------------------------------------------------------
    def next_id(self) -> int:
        """The id a new schema gets."""
        return self.max_id + 1

    def id_of(self, identity: SchemaIdentity) -> int | None:
        """The id of a schema already known (carried by some version, even a soft-deleted one)."""
        return self.ids.get(identity)

    def schema(self, schema_id: int) -> SchemaVersion | None:
        """A version carrying `schema_id` (the first registered), if the id is known."""
        carriers = self.carriers.get(schema_id)
        if not carriers:
            return None
        return min(carriers.values(), key=lambda stored: (stored.subject, stored.version))

    def carriers_of(self, schema_id: int, *, deleted: bool = False) -> list[SchemaVersion]:
        """The versions carrying `schema_id`, sorted by subject and version."""
        carriers = self.carriers.get(schema_id, {})
        return [carriers[key] for key in sorted(carriers) if deleted or not carriers[key].deleted]

    def by_guid(self, guid: str) -> SchemaVersion | None:
        """A version whose schema has this guid."""
        for identity, schema_id in self.ids.items():
            if guid_of(identity) == guid:
                return self.schema(schema_id)
        return None

    # -- configuration and mode ------------------------------------------------------------
    def level(self, subject: str | None) -> str:
        """The compatibility level in force for `subject` (subject, then global, then BACKWARD)."""
        for scope in (subject, None) if subject is not None else (None,):
            level = self.configs.get(scope, {}).get("compatibilityLevel")
            if isinstance(level, str):
                return level.upper()
        return DEFAULT_LEVEL

    def effective_config(self, subject: str | None) -> JsonObject:
        """The global configuration overlaid with the subject's own fields."""
        merged: JsonObject = {"compatibilityLevel": DEFAULT_LEVEL}
        merged.update(self.configs.get(None, {}))
        if subject is not None:
            merged.update(self.configs.get(subject, {}))
        return merged

    def mode(self, subject: str | None) -> str:
        """The mode in force for `subject` (subject, then global, then READWRITE)."""
        if subject is not None and subject in self.modes:
            return self.modes[subject]
        return self.modes.get(None, DEFAULT_MODE)
