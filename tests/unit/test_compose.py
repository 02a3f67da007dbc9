"""registry-compose.yml is a valid Compose file with the services Docker users need."""

from __future__ import annotations

from typing import Any


def test_registry_compose_is_valid_and_binds_loopback_only(compose_config: dict[str, Any]) -> None:
    """`docker compose config` accepts the file; ports are on loopback only; every service has a health check."""
    services = compose_config["services"]
    assert ["grafana", "kafka", "prometheus", "schema-registry"] == sorted(services)
    assert "apache/kafka" == services["kafka"]["image"].split(":")[0]
    assert "confluentinc/cp-schema-registry" == services["schema-registry"]["image"].split(":")[0]
    published = {name: {port["host_ip"] for port in service.get("ports", [])} for name, service in services.items()}
    assert {
        "kafka": {"127.0.0.1"},
        "schema-registry": {"127.0.0.1"},
        "prometheus": {"127.0.0.1"},
        "grafana": {"127.0.0.1"},
    } == published
    assert [] == [name for name, service in services.items() if "healthcheck" not in service]
