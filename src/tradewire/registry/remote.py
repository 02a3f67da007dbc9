"""Registered schemas as tradewire sees schema files: fetched with their references, parsed together.

A registered schema refers to other registered schemas by (name, subject, version); this
module fetches that closure through a `RegistryClient` and parses it with the same catalog
the offline gate uses, so the online gate and drift detection compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradewire.avro.catalog import Catalog, SchemaFile
from tradewire.registry.client import RegisteredSchema, RegistryClient, SchemaReference

__all__ = ["RemoteSchema", "fetch_schema", "registry_path"]


def registry_path(subject: str, version: int) -> str:
    """The virtual file path of a registered version (it appears in findings about it)."""
    return f"registry:{subject}/v{version}"


@dataclass(frozen=True, slots=True)
class RemoteSchema:
    """A registered version parsed in a catalog of itself and everything it references."""

    registered: RegisteredSchema
    catalog: Catalog

    @property
    def schema_file(self) -> SchemaFile:
        """The parsed file of the registered version itself."""
        return self.catalog.files[registry_path(self.registered.subject, self.registered.version)]


def fetch_schema(client: RegistryClient, registered: RegisteredSchema) -> RemoteSchema:
    """Fetch the references of `registered` (recursively) and parse them all together."""
    texts: dict[str, str] = {registry_path(registered.subject, registered.version): registered.schema}
    pending: list[SchemaReference] = list(registered.references)
    while pending:
        reference = pending.pop()
        path = registry_path(reference.subject, reference.version)
        if path in texts:
            continue
        referenced = client.version(reference.subject, reference.version)
        texts[path] = referenced.schema
        pending.extend(referenced.references)
    return RemoteSchema(registered, Catalog.from_texts(texts, union_default="any"))
