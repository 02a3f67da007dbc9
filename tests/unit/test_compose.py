"""registry-compose.yml is a valid Compose file with the services Docker users need."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def test_registry_compose_is_valid_and_binds_loopback_only(repo_root: Path) -> None:
    """`docker compose config` accepts the file; ports are on loopback only; every service has a health check."""
    completed = subprocess.run(
        ["docker", "compose", "-f", "registry-compose.yml", "config", "--format", "json"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == completed.returncode, completed.stderr
    config = json.loads(completed.stdout)
    services = config["services"]
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
