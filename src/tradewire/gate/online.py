"""The online gate: ask a schema registry whether each schema may be registered.

The registry's verdict decides (at the level configured *in the registry*); the findings
come from tradewire's located checker run against the versions the registry holds, so they
name the file, line and rule exactly like the offline gate. Where the registry refuses a
schema for a reason the checker did not locate, the finding carries the registry's own
messages; where the registry accepts it, no wire finding stands.
"""

from __future__ import annotations

import dataclasses

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.model import Origin
from tradewire.config import CompatibilityConfig, Config
from tradewire.gate.breaking import BreakingReport, Version, compare
from tradewire.gate.findings import Finding, normalize
from tradewire.gate.rules import rule
from tradewire.registry.client import CompatibilityResult, RegistryClient
from tradewire.registry.publish import subject_of
from tradewire.registry.remote import fetch_schema

__all__ = ["online_report"]


def online_report(
    current: Catalog, config: Config, client: RegistryClient, *, prefix: str = ""
) -> tuple[BreakingReport, dict[str, str]]:
    """Findings for every schema of `current` against the registry, and the level of each subject.

    Under a topic `prefix` the registry is asked about the events' prefixed subjects (as `registry push`
    registers them); findings and levels stay keyed by the repository's own subjects."""
    history: dict[str, list[Version]] = {}
    levels: dict[str, str] = {}
    verdicts: dict[str, CompatibilityResult] = {}
    for subject, schema_file in sorted(current.by_subject().items()):
        assert schema_file.node is not None
        registered = subject_of(schema_file, prefix)
        levels[subject] = client.level(registered)
        verdicts[subject] = client.test_compatibility(registered, dumps(to_json(schema_file.node, expand=True)))
        versions = []
        for number in client.versions(registered):
            remote = fetch_schema(client, client.version(registered, number))
            if remote.schema_file.ok:
                versions.append(Version(f"registry {registered} v{number}", remote.catalog, remote.schema_file))
        if versions:
            history[subject] = versions
    registry_config = dataclasses.replace(
        config, compatibility=CompatibilityConfig(default=config.compatibility.default, subjects=levels)
    )
    report = compare(current, history, registry_config, baseline_label="the registry")
    report.findings = _reconcile(current, report.findings, verdicts)
    return report, levels


def _reconcile(current: Catalog, findings: list[Finding], verdicts: dict[str, CompatibilityResult]) -> list[Finding]:
    kept = [
        f for f in findings if rule(f.rule_id).category != "WIRE" or not verdicts.get(f.subject, _REFUSED).is_compatible
    ]
    located = {f.subject for f in kept if rule(f.rule_id).category == "WIRE"}
    for subject, verdict in verdicts.items():
        if verdict.is_compatible or subject in located:
            continue
        schema_file = current.by_subject()[subject]
        position = current.locate(Origin(schema_file.path, "/name"))
        details = "; ".join(m for m in verdict.messages if m.startswith("{errorType")) or "; ".join(verdict.messages)
        kept.append(
            Finding(
                schema_file.path,
                position.line,
                position.col,
                "INCOMPATIBLE",
                f"the registry refuses {subject}: {details or 'incompatible'}",
                "/name",
                subject,
            )
        )
    return normalize(kept)


_REFUSED = CompatibilityResult(False)
