"""The registry under test, reached over HTTP only: $TRADEWIRE_REGISTRY_URL, else an in-process dev registry.

Point TRADEWIRE_REGISTRY_URL at a real Confluent Schema Registry and the same tests check
that the dev registry behaves like it. Tests never assume small ids or an empty registry:
every subject is unique (`subject` fixture) and cleaned up afterwards, and every schema
carries a unique record name, so no test sees another's state.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from conformance_helpers import Registry, quote

from tradewire.registry import MemoryStore, RegistryApp, RegistryServer


@pytest.fixture(scope="session")
def registry_url() -> Iterator[str]:
    """$TRADEWIRE_REGISTRY_URL, or an in-process dev registry with a memory store on a free loopback port."""
    configured = os.environ.get("TRADEWIRE_REGISTRY_URL")
    if configured:
        yield configured
        return
    with RegistryServer(RegistryApp(MemoryStore()), "127.0.0.1", 0) as server:
        yield server.url


@pytest.fixture(scope="session")
def registry(registry_url: str) -> Registry:
    """The registry under test."""
    return Registry(registry_url)


@pytest.fixture
def unique() -> str:
    """A unique suffix for subject and record names."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def subject(registry: Registry, unique: str) -> Iterator[str]:
    """A subject no other test uses; soft- then hard-deleted, with its config and mode, afterwards."""
    name = f"conformance-{unique}-value"
    yield name
    _cleanup(registry, name)


@pytest.fixture
def other_subject(registry: Registry, unique: str) -> Iterator[str]:
    """A second unique subject, cleaned up like `subject`."""
    name = f"conformance-{unique}-other"
    yield name
    _cleanup(registry, name)


def _cleanup(registry: Registry, name: str) -> None:
    path = f"/subjects/{quote(name)}"
    registry.call("DELETE", f"/mode/{quote(name)}")
    registry.call("DELETE", path)
    registry.call("DELETE", path, query={"permanent": "true"})
    registry.call("DELETE", f"/config/{quote(name)}")
