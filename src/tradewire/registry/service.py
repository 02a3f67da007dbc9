"""The registry's operations over a store: what each REST endpoint means, with Confluent's rules.

Registration (Confluent's `KafkaSchemaRegistry.register`): an identical schema already live
in the subject is returned before any mode check (so re-registering works in READONLY);
then the mode is checked, the schema parsed, compatibility checked against the live
versions the subject's level names, and the schema gets the global id an identical schema
already has anywhere, or max id + 1; the version is max version (soft-deleted ones
included) + 1. Deletion: soft first, then permanent; never while live schemas reference
the version. Callers hold `store.lock` around each call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradewire.errors import RegistryError
from tradewire.registry import codes
from tradewire.registry.compatibility import (
    CompatibilityLevel,
    PreviousSchema,
    check,
    parse_level,
    versions_to_check,
)
from tradewire.registry.records import (
    JsonObject,
    Record,
    SchemaVersion,
    config_record,
    delete_subject_record,
    mode_record,
    schema_record,
    schema_tombstone,
)
from tradewire.registry.schemas import ParsedSchema, SchemaRequest, parse_schema, parse_stored
from tradewire.registry.state import RegistryState
from tradewire.registry.store import RegistryStore

__all__ = ["LATEST", "MODES", "CompatibilityVerdict", "RegistryService"]

LATEST = -1
READWRITE, READONLY, READONLY_OVERRIDE, IMPORT = "READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT"
MODES = (READWRITE, READONLY, READONLY_OVERRIDE, IMPORT)
CONFIG_FIELDS = (
    "alias",
    "normalize",
    "validateFields",
    "validateRules",
    "compatibilityGroup",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
)


@dataclass(frozen=True, slots=True)
class CompatibilityVerdict:
    """The answer of a compatibility test: the verdict and (verbose) Confluent-shaped messages."""

    is_compatible: bool
    messages: tuple[str, ...] = ()


class RegistryService:
    """Subjects, versions, ids, compatibility, configuration and modes, kept in a `RegistryStore`."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    @property
    def state(self) -> RegistryState:
        """The store's current state."""
        return self.store.state

    def resolve_reference(self, subject: str, version: int) -> SchemaVersion | None:
        """A referenced version, soft-deleted ones included; `-1` is the latest (live first)."""
        if version == LATEST:
            return self.state.latest(subject) or self.state.latest(subject, deleted=True)
        return self.state.version(subject, version, deleted=True)

    # -- reading ----------------------------------------------------------------------------
    def subjects(self, *, prefix: str = "", deleted: bool = False, deleted_only: bool = False) -> list[str]:
        """Subject names, sorted."""
        names = self.state.subject_names(deleted=deleted, deleted_only=deleted_only)
        return [name for name in names if name.startswith(prefix)]

    def versions(self, subject: str, *, deleted: bool = False, deleted_only: bool = False) -> list[int]:
        """Version numbers of a subject; 40401 when it has none visible."""
        every = self.state.versions(subject, deleted=True)
        if deleted_only:
            if not every:
                raise codes.subject_not_found(subject)
            return [stored.version for stored in every if stored.deleted]
        visible = [stored.version for stored in every if deleted or not stored.deleted]
        if not visible:
            raise codes.subject_not_found(subject)
        return visible

    def version(self, subject: str, version: int, *, deleted: bool = False) -> SchemaVersion:
        """One version (`LATEST` = newest); 40401 for a subject without visible versions, else 40402."""
        stored = self.state.version(subject, version, deleted=deleted)
        if stored is None:
            if not self.state.has_subject(subject, deleted=deleted):
                raise codes.subject_not_found(subject)
            raise codes.version_not_found(version)
        return stored

    def referenced_by(self, subject: str, version: int, *, deleted: bool = False) -> list[int]:
        """Ids of the live schemas referencing a version."""
        stored = self.version(subject, version, deleted=deleted)
        return self.state.referenced_by(stored.subject, stored.version)

    def schema_by_id(self, schema_id: int) -> SchemaVersion:
        """A version carrying the id (soft-deleted ones count); 40403 when none does."""
        stored = self.state.schema(schema_id)
        if stored is None:
            raise codes.schema_not_found(schema_id)
        return stored

    def carriers(self, schema_id: int, *, deleted: bool = False) -> list[SchemaVersion]:
        """The subject versions carrying an id; 40403 for an unknown id."""
        self.schema_by_id(schema_id)
        return self.state.carriers_of(schema_id, deleted=deleted)

    def schema_by_guid(self, guid: str) -> SchemaVersion:
        """A version whose schema has this guid; 40403 when none does."""
        stored = self.state.by_guid(guid.lower())
        if stored is None:
            raise codes.schema_not_found(guid)
        return stored

    # -- registering and looking up -----------------------------------------------------------
    def register(self, subject: str, request: SchemaRequest, *, force: bool = False) -> SchemaVersion:
        """Register a schema under a subject (idempotent) and return the stored version."""
        _check_subject(subject)
        parsed, invalid = self._try_parse(request)
        if parsed is not None:
            existing = self.state.find(subject, parsed.identity)
            if existing is not None:
                return existing
        mode = self.state.mode(subject)
        if mode in (READONLY, READONLY_OVERRIDE):
            raise codes.operation_not_permitted(f"Subject {subject} is in read-only mode")
        if request.id is not None and mode != IMPORT:
            raise codes.operation_not_permitted(f"Subject {subject} is not in import mode")
        if request.id is None and mode != READWRITE:
            raise codes.operation_not_permitted(f"Subject {subject} is not in read-write mode")
        if parsed is None:
            raise invalid or codes.invalid_schema("Invalid schema")
        if request.id is not None:
            stored = self._imported(subject, request, request.id, parsed)
        else:
            if not force:
                messages = self._check(subject, parsed, self.state.versions(subject))
                if messages:
                    raise codes.incompatible_schema(subject, messages)
            known = self.state.id_of(parsed.identity)
            schema_id = known if known is not None else self.state.next_id()
            stored = SchemaVersion(
                subject, self.state.next_version(subject), schema_id, parsed.schema, parsed.references
            )
        records = [schema_record(stored)]
        records += [
            schema_tombstone(subject, old.version)
            for old in self.state.versions(subject, deleted=True)
            if old.deleted and old.id == stored.id and old.version < stored.version
        ]
        self.store.write(records)
        return stored

    def _imported(self, subject: str, request: SchemaRequest, schema_id: int, parsed: ParsedSchema) -> SchemaVersion:
        known = self.state.schema(schema_id)
        if known is not None and known.identity != parsed.identity:
            raise codes.id_conflict(schema_id)
        version = request.version if request.version is not None else self.state.next_version(subject)
        if version < 1:
            raise codes.invalid_version(str(version))
        taken = self.state.version(subject, version, deleted=True)
        if taken is not None and taken.id != schema_id:
            raise codes.id_conflict(schema_id)
        return SchemaVersion(subject, version, schema_id, parsed.schema, parsed.references)

    def lookup(self, subject: str, request: SchemaRequest, *, deleted: bool = False) -> SchemaVersion:
        """The version of a subject holding this schema; 40401 / 40403 when there is none."""
        parsed = self._parse(request)
        found = self.state.find(subject, parsed.identity, deleted=deleted)
        if found is None:
            if not self.state.has_subject(subject, deleted=deleted):
                raise codes.subject_not_found(subject)
            raise codes.schema_not_found()
        return found

    def test_compatibility(
        self, subject: str, request: SchemaRequest, version: int | None, *, verbose: bool = False
    ) -> CompatibilityVerdict:
        """Test a schema against one live version, or (`version=None`) as registration would."""
        if version is None:
            candidates = self.state.versions(subject)
        else:
            stored = self.state.version(subject, version)
            if stored is None:
                if version == LATEST:
                    return CompatibilityVerdict(True)
                raise codes.version_not_found(version)
            candidates = [stored]
        try:
            parsed = self._parse(request)
        except RegistryError as error:
            if verbose and error.error_code == 42201:
                return CompatibilityVerdict(False, (error.message,))
            raise
        messages = self._check(subject, parsed, candidates)
        return CompatibilityVerdict(not messages, tuple(messages))

    def _parse(self, request: SchemaRequest) -> ParsedSchema:
        return parse_schema(request.schema, request.references, self.resolve_reference)

    def _try_parse(self, request: SchemaRequest) -> tuple[ParsedSchema | None, RegistryError | None]:
        try:
            return self._parse(request), None
        except RegistryError as error:
            if error.error_code != 42201:
                raise
            return None, error

    def _check(self, subject: str, parsed: ParsedSchema, live: Sequence[SchemaVersion]) -> list[str]:
        try:
            level = parse_level(self.state.level(subject))
        except RegistryError:
            level = CompatibilityLevel.BACKWARD
        previous = [self._previous(stored) for stored in versions_to_check(level, live)]
        validate_fields = self.state.effective_config(subject).get("validateFields") is True
        return check(level, parsed.node, previous, validate_fields=validate_fields)

    def _previous(self, stored: SchemaVersion) -> PreviousSchema:
        try:
            node = parse_stored(stored, self.resolve_reference).node
        except RegistryError as error:
            return PreviousSchema(stored.version, stored.schema, None, stored.schema_type, error.message)
        return PreviousSchema(stored.version, stored.schema, node, stored.schema_type)

    # -- deleting ---------------------------------------------------------------------------------
    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete every live version, or permanently delete a soft-deleted subject; the versions deleted."""
        every = self.state.versions(subject, deleted=True)
        if not every:
            raise codes.subject_not_found(subject)
        live = [stored for stored in every if not stored.deleted]
        if permanent and live:
            raise codes.subject_not_soft_deleted(subject)
        if not permanent and not live:
            raise codes.subject_soft_deleted(subject)
        targets = every if permanent else live
        for stored in targets:
            if self.state.referenced_by(subject, stored.version):
                raise codes.reference_exists(subject, stored.version)
        self._check_writable(subject)
        if permanent:
            records = [schema_tombstone(subject, stored.version) for stored in every]
            self.store.write(records + self._subject_settings_tombstones(subject))
        else:
            self.store.write([delete_subject_record(subject, live[-1].version)])
        return [stored.version for stored in targets]

    def delete_version(self, subject: str, version: int, *, permanent: bool = False) -> int:
        """Soft-delete a live version, or permanently delete a soft-deleted one; its number."""
        if version == LATEST:
            stored = self.state.latest(subject)
        else:
            stored = self.state.version(subject, version, deleted=True)
            if stored is not None and stored.deleted and not permanent:
                raise codes.version_soft_deleted(subject, version)
        if stored is None:
            if not self.state.has_subject(subject, deleted=True):
                raise codes.subject_not_found(subject)
            raise codes.version_not_found(version)
        if permanent and not stored.deleted:
            raise codes.version_not_soft_deleted(subject, stored.version)
        if self.state.referenced_by(subject, stored.version):
            raise codes.reference_exists(subject, stored.version)
        self._check_writable(subject)
        if not permanent:
            self.store.write([schema_record(stored.soft_deleted())])
        elif [other.version for other in self.state.versions(subject, deleted=True)] == [stored.version]:
            self.store.write([schema_tombstone(subject, stored.version), *self._subject_settings_tombstones(subject)])
        else:
            self.store.write([schema_tombstone(subject, stored.version)])
        return stored.version

    def _subject_settings_tombstones(self, subject: str) -> list[Record]:
        records = []
        if subject in self.state.configs:
            records.append(config_record(subject, None))
        if subject in self.state.modes:
            records.append(mode_record(subject, None))
        return records

    def _check_writable(self, subject: str) -> None:
        if self.state.mode(subject) in (READONLY, READONLY_OVERRIDE):
            raise codes.operation_not_permitted(f"Subject {subject} is in read-only mode")

    # -- configuration and mode -----------------------------------------------------------------
    def config(self, subject: str | None, *, default_to_global: bool = False) -> JsonObject:
        """The global config, a subject's own (40408 without one), or with `default_to_global` the merged one."""
        if subject is None or default_to_global:
            return self.state.effective_config(subject)
        own = self.state.configs.get(subject)
        if own is None:
            raise codes.subject_level_compatibility_not_configured(subject)
        return dict(own)

    def set_config(self, subject: str | None, body: object) -> JsonObject:
        """Merge `{"compatibility": LEVEL, ...}` into a config; returns the request as understood."""
        if not isinstance(body, dict):
            raise codes.bad_request("Expected a JSON object as the request body")
        update: JsonObject = {}
        if body.get("compatibility") is not None:
            update["compatibilityLevel"] = parse_level(body["compatibility"]).value
        update.update({name: body[name] for name in CONFIG_FIELDS if body.get(name) is not None})
        if update:
            merged: JsonObject = {**self.state.configs.get(subject, {}), **update}
            level = merged.pop("compatibilityLevel", None)
            self.store.write([config_record(subject, {"compatibilityLevel": level, **merged} if level else merged)])
        echo = {"compatibility": update.pop("compatibilityLevel")} if "compatibilityLevel" in update else {}
        return {**echo, **update}

    def delete_config(self, subject: str | None) -> JsonObject:
        """Remove a subject's config (40401 without one) or reset the global one; returns the old one."""
        if subject is None:
            old = self.state.effective_config(None)
            if None in self.state.configs:
                self.store.write([config_record(None, None)])
            return old
        own = self.state.configs.get(subject)
        if own is None:
            raise codes.subject_not_found(subject)
        self.store.write([config_record(subject, None)])
        return dict(own)

    def mode(self, subject: str | None, *, default_to_global: bool = False) -> str:
        """The global mode, a subject's own (40409 without one), or with `default_to_global` the one in force."""
        if subject is None or default_to_global:
            return self.state.mode(subject)
        if subject not in self.state.modes:
            raise codes.subject_level_mode_not_configured(subject)
        return self.state.modes[subject]

    def set_mode(self, subject: str | None, body: object, *, force: bool = False) -> str:
        """Set a mode from `{"mode": MODE}`; IMPORT needs `force` while (the) subjects have live versions."""
        if not isinstance(body, dict):
            raise codes.bad_request("Expected a JSON object as the request body")
        raw = body.get("mode")
        mode = raw.strip().upper() if isinstance(raw, str) else ""
        if mode not in MODES:
            raise codes.invalid_mode(raw)
        if mode == IMPORT and not force:
            occupied = self.state.has_subject(subject) if subject is not None else bool(self.state.subject_names())
            if occupied:
                raise codes.operation_not_permitted("Cannot import since found existing subjects")
        self.store.write([mode_record(subject, mode)])
        return mode

    def delete_mode(self, subject: str | None) -> str:
        """Remove a subject's mode (40401 without one) or reset the global one; returns the old mode."""
        if subject is None:
            old = self.state.mode(None)
            if None in self.state.modes:
                self.store.write([mode_record(None, None)])
            return old
        if subject not in self.state.modes:
            raise codes.subject_not_found(subject)
        old = self.state.modes[subject]
        self.store.write([mode_record(subject, None)])
        return old


def _check_subject(subject: str) -> None:
    if not subject.strip() or any(ord(char) < 32 or ord(char) == 127 for char in subject):
        raise codes.invalid_subject(subject)
