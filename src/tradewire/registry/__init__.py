"""Confluent Schema Registry: a REST client, and the dev registry server speaking the same API.

Server side (`tradewire registry serve`): `RegistryApp` answers the REST API subset real
clients use, with Confluent's status and error codes; `RegistryServer` serves it over HTTP;
its state lives in a `MemoryStore` or, like Confluent's, in a compacted Kafka topic
(`KafkaStore`, default `_schemas`) so a restart loses nothing. Modules: `schemas` (parsing,
normalised form), `compatibility` (the seven levels), `records` / `state` / `store` (the
`_schemas` topic and what it builds), `service` (the semantics of each operation),
`routing` / `api` / `server` / `http11` (HTTP, with `ServerLimits`), `jsontext` (JSON
from peers, depth-limited). Client side: `client`, `remote`, `publish`.
"""

from tradewire.registry.server import DEFAULT_MAX_REQUEST_BYTES, RegistryApp, RegistryServer, ServerLimits
from tradewire.registry.store import DEFAULT_TOPIC, KafkaStore, MemoryStore, RegistryStore

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_TOPIC",
    "KafkaStore",
    "MemoryStore",
    "RegistryApp",
    "RegistryServer",
    "RegistryStore",
    "ServerLimits",
]
