"""A dev registry restarted on the same _schemas topic keeps every id, version and setting."""

from __future__ import annotations

from pathlib import Path

from integration_support import free_port_pair, start_registry

from tradewire.registry.client import RegistryClient


def test_restart_keeps_ids_versions_and_levels(kafka_bootstrap: str, unique: str, tmp_path: Path) -> None:
    """After a restart the same ids resolve to the same schemas, versions and levels survive,
    and the next new schema gets an id after the largest one."""
    topic = f"_schemas_restart_{unique}"
    port = free_port_pair()
    url = f"http://127.0.0.1:{port}"
    first = start_registry(kafka_bootstrap, topic, port, tmp_path / "registry.log")
    try:
        client = RegistryClient(url)
        client.set_level("orders-value", "FULL")
        ids = [
            client.register("orders-value", '{"type":"record","name":"Order","fields":[]}'),
            client.register(
                "orders-value",
                '{"type":"record","name":"Order","fields":[{"name":"qty","type":"long","default":0}]}',
            ),
            client.register("fills-value", '{"type":"record","name":"Fill","fields":[]}'),
        ]
        before = {schema_id: client.schema_by_id(schema_id) for schema_id in ids}
    finally:
        first.terminate()
        assert 0 == first.wait(timeout=30) or first.returncode is not None
    second = start_registry(kafka_bootstrap, topic, port, tmp_path / "registry.log")
    try:
        client = RegistryClient(url)
        assert before == {schema_id: client.schema_by_id(schema_id) for schema_id in ids}
        assert ([1, 2], [1], "FULL") == (
            client.versions("orders-value"),
            client.versions("fills-value"),
            client.own_level("orders-value"),
        )
        next_id = client.register("quotes-value", '{"type":"record","name":"Quote","fields":[]}')
        assert next_id > max(ids)
    finally:
        second.terminate()
        second.wait(timeout=30)
