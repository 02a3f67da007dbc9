"""`registry push` and `registry drift`: keep a registry in step with the repository's schemas.

`push` registers every schema in dependency order (shared types first, so events can
reference them), with Confluent schema references, after setting each subject's
compatibility level from `tradewire.yaml`; it is idempotent (an identical schema is not a
new version) and has a dry run. `drift` names every subject whose latest registered
version differs from the repository, in either direction.

Under a topic prefix (`TRADEWIRE_TOPIC_PREFIX`, for environments sharing a cluster and a
registry) an event's subject is `<prefix><topic>-value`, as the producer's serializer names
it; shared types keep their unprefixed subjects (their full names), so every environment
references the same shared versions. Levels are looked up by the unprefixed subject.
`drift` then reports, as registered but produced by no schema, the subjects starting with
the prefix and those in the root namespace (the shared types'); without a prefix, every
subject of the registry no schema produces.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog, SchemaFile
from tradewire.config import Config
from tradewire.errors import RegistryError
from tradewire.registry.client import RegistryClient, SchemaReference
from tradewire.registry.remote import fetch_schema

__all__ = ["Drift", "PushAction", "detect_drift", "push", "subject_of"]


@dataclass(frozen=True, slots=True)
class PushAction:
    """What `push` did (or would do) for one subject."""

    subject: str
    path: str
    outcome: str
    """unchanged, registered, would-register, level-set, failed, skipped"""
    detail: str = ""
    version: int | None = None
    schema_id: int | None = None


def _schema_text(schema_file: SchemaFile) -> str:
    assert schema_file.node is not None
    return dumps(to_json(schema_file.node))


def subject_of(schema_file: SchemaFile, prefix: str = "") -> str:
    """The registry subject of a schema under a topic prefix: `<prefix><topic>-value`, or a shared type's full name."""
    assert schema_file.subject is not None
    return prefix + schema_file.subject if schema_file.topic is not None else schema_file.subject


def push(
    catalog: Catalog, config: Config, client: RegistryClient, *, dry_run: bool = False, prefix: str = ""
) -> list[PushAction]:
    """Register every schema of `catalog` (dependencies first) and set levels; see the module docstring."""
    actions: list[PushAction] = []
    versions: dict[str, int | None] = {}
    failed: set[str] = set()
    for schema_file in catalog.dependency_order():
        assert schema_file.subject is not None and schema_file.top is not None
        subject = subject_of(schema_file, prefix)
        broken = [d for d in schema_file.dependencies if d in failed]
        if broken:
            failed.add(schema_file.path)
            actions.append(PushAction(subject, schema_file.path, "skipped", f"it references {', '.join(broken)}"))
            continue
        level = config.compatibility.level(schema_file.subject)
        if client.own_level(subject) != level:
            if not dry_run:
                client.set_level(subject, level)
            actions.append(PushAction(subject, schema_file.path, "level-set", f"compatibility {level}"))
        references = []
        for dependency in schema_file.dependencies:
            dependency_file = catalog.files[dependency]
            assert dependency_file.top is not None and dependency_file.subject is not None
            version = versions.get(dependency)
            references.append(
                SchemaReference(dependency_file.top.fullname, subject_of(dependency_file, prefix), version or 0)
            )
        text = _schema_text(schema_file)
        if any(r.version == 0 for r in references):
            versions[schema_file.path] = None  # a dependency is not registered yet (dry run)
            actions.append(PushAction(subject, schema_file.path, "would-register", "after the schemas it references"))
            continue
        existing = client.lookup(subject, text, references)
        if existing is not None:
            versions[schema_file.path] = existing.version
            actions.append(PushAction(subject, schema_file.path, "unchanged", "", existing.version, existing.id))
            continue
        if dry_run:
            verdict = client.test_compatibility(subject, text, references)
            versions[schema_file.path] = None
            detail = "compatible" if verdict.is_compatible else "INCOMPATIBLE: " + "; ".join(verdict.messages[:2])
            actions.append(PushAction(subject, schema_file.path, "would-register", detail))
            continue
        try:
            schema_id = client.register(subject, text, references)
        except RegistryError as error:
            failed.add(schema_file.path)
            actions.append(PushAction(subject, schema_file.path, "failed", error.message))
            continue
        registered = client.lookup(subject, text, references)
        versions[schema_file.path] = registered.version if registered else None
        actions.append(
            PushAction(
                subject, schema_file.path, "registered", "", registered.version if registered else None, schema_id
            )
        )
    return actions


@dataclass(frozen=True, slots=True)
class Drift:
    """A subject where the registry and the repository disagree."""

    subject: str
    kind: str
    """not-registered, differs, not-in-repo"""
    detail: str = ""


def detect_drift(catalog: Catalog, config: Config, client: RegistryClient, *, prefix: str = "") -> list[Drift]:
    """Subjects whose latest registered version is not the repository's schema, and the reverse (see the
    module docstring for which registered subjects are looked at under a prefix)."""
    drifts: list[Drift] = []
    repo = {subject_of(schema_file, prefix): schema_file for schema_file in catalog.by_subject().values()}
    for subject, schema_file in sorted(repo.items()):
        latest = client.latest(subject)
        if latest is None:
            drifts.append(Drift(subject, "not-registered", f"{schema_file.path} has never been pushed"))
            continue
        remote = fetch_schema(client, latest)
        registered_file = remote.schema_file
        if registered_file.node is None:
            drifts.append(Drift(subject, "differs", f"registry version {latest.version} does not parse here"))
            continue
        assert schema_file.node is not None
        if to_json(registered_file.node, expand=True) != to_json(schema_file.node, expand=True):
            drifts.append(
                Drift(
                    subject, "differs", f"registry version {latest.version} (id {latest.id}) is not {schema_file.path}"
                )
            )
    for subject in sorted(set(client.subjects()) - set(repo)):
        if not prefix or subject.startswith((prefix, config.namespace + ".")):
            drifts.append(Drift(subject, "not-in-repo", "registered, but no schema in the repository produces it"))
    return drifts
