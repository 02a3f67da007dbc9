"""push, drift and the online gate against the session's registry (its state in Kafka's _schemas)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from integration_support import REPO_ROOT

from tradewire.cli import main
from tradewire.errors import RegistryError
from tradewire.registry.client import RegistryClient


@pytest.fixture
def project(tmp_path: Path, unique: str) -> Path:
    """A copy of the repository's schemas under a unique root namespace and topic prefix.

    Subjects are then unique to this test, so tests share the registry but never its subjects.
    """
    root = f"tw{unique}"
    (tmp_path / "tradewire.yaml").write_text(
        f"version: v1\nschemas: schemas\nnamespace: {root}\ncompatibility:\n  default: FULL_TRANSITIVE\n"
    )
    for source in (REPO_ROOT / "schemas").rglob("*.avsc"):
        text = source.read_text(encoding="utf-8")
        text = re.sub(r'"tradewire\.(?!topic"|key")', f'"{root}.', text)
        text = text.replace('"tradewire.topic": "', f'"tradewire.topic": "{root}.')
        target = tmp_path / source.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture
def prefixed(tmp_path: Path, unique: str) -> tuple[Path, str]:
    """A copy of the repository's schemas under a unique root namespace, and a unique topic prefix: the same
    subjects as `project`'s (`tw<unique>.<topic>-value`, `tw<unique>.common.X`), made by the prefix instead."""
    root = f"tw{unique}"
    (tmp_path / "tradewire.yaml").write_text(
        f"version: v1\nschemas: schemas\nnamespace: {root}\ncompatibility:\n  default: FULL_TRANSITIVE\n"
    )
    for source in (REPO_ROOT / "schemas").rglob("*.avsc"):
        text = re.sub(r'"tradewire\.(?!topic"|key")', f'"{root}.', source.read_text(encoding="utf-8"))
        target = tmp_path / source.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp_path, f"{root}."


def run(project: Path, *args: str) -> int:
    """The CLI, with this project's configuration."""
    return main(["--config", str(project / "tradewire.yaml"), *args])


def test_push_registers_everything_then_drift_is_clean(
    prefixed: tuple[Path, str], registry_url: str, capsys: pytest.CaptureFixture[str], unique: str
) -> None:
    """push registers the 16 schemas (shared types first, events with references) and drift finds nothing."""
    project, prefix = prefixed
    assert 0 == run(project, "registry", "push", "--registry", registry_url, "--topic-prefix", prefix)
    pushed = capsys.readouterr().out.splitlines()
    registered = [line.split()[0] for line in pushed if " registered v1 " in line]
    assert 16 == len(registered)
    assert registered.index(f"tw{unique}.common.EventMetadata") < registered.index(
        f"tw{unique}.trading.signals.generated-value"
    )
    client = RegistryClient(registry_url)
    signal = client.latest(f"tw{unique}.trading.signals.generated-value")
    assert signal is not None
    assert [(f"tw{unique}.common.EventMetadata", f"tw{unique}.common.EventMetadata", 1)] == [
        (r.name, r.subject, r.version) for r in signal.references
    ]
    assert "FULL_TRANSITIVE" == client.own_level(f"tw{unique}.trading.signals.generated-value")
    assert 0 == run(project, "registry", "drift", "--registry", registry_url, "--topic-prefix", prefix)


def test_push_is_idempotent_and_dry_run_changes_nothing(
    project: Path, registry_url: str, capsys: pytest.CaptureFixture[str], unique: str
) -> None:
    """A second push registers nothing new; a dry run before the first push registers nothing at all."""
    assert 0 == run(project, "registry", "push", "--registry", registry_url, "--dry-run")
    client = RegistryClient(registry_url)
    assert [] == client.versions(f"tw{unique}.common.EventMetadata")
    assert 0 == run(project, "registry", "push", "--registry", registry_url)
    capsys.readouterr()
    assert 0 == run(project, "registry", "push", "--registry", registry_url)
    again = capsys.readouterr().out.splitlines()
    assert 16 == sum(" unchanged v1 " in line for line in again)
    assert [1] == client.versions(f"tw{unique}.trading.signals.generated-value")


def test_drift_names_a_hand_registered_version_and_an_unknown_subject(
    prefixed: tuple[Path, str], registry_url: str, capsys: pytest.CaptureFixture[str], unique: str
) -> None:
    """A version registered by hand, and a subject no schema produces, are both reported by name."""
    project, prefix = prefixed
    assert 0 == run(project, "registry", "push", "--registry", registry_url, "--topic-prefix", prefix)
    client = RegistryClient(registry_url)
    subject = f"tw{unique}.common.AgentRole"
    latest = client.latest(subject)
    assert latest is not None
    extended = latest.schema.replace('"doc":"The role', '"doc":"Changed by hand: the role')
    client.register(subject, extended)
    stray = f"tw{unique}.trading.stray.thing-value"
    client.register(stray, '{"type":"record","name":"Stray","namespace":"x","fields":[]}')
    capsys.readouterr()
    assert 100 == run(project, "registry", "drift", "--registry", registry_url, "--topic-prefix", prefix)
    reported = sorted(line.split(":")[0] for line in capsys.readouterr().out.splitlines())
    assert sorted([subject, stray]) == reported


def test_drift_without_a_prefix_names_every_subject_no_schema_produces(
    project: Path, registry_url: str, capsys: pytest.CaptureFixture[str], unique: str
) -> None:
    """Without a prefix, a registered subject of a domain the repository does not have is reported too."""
    foreign = f"elsewhere{unique}.orders.booked-value"
    RegistryClient(registry_url).register(foreign, '{"type":"record","name":"Booked","namespace":"x","fields":[]}')
    capsys.readouterr()
    assert 100 == run(project, "registry", "drift", "--registry", registry_url)
    lines = capsys.readouterr().out.splitlines()
    assert [f"{foreign}: not-in-repo: registered, but no schema in the repository produces it"] == [
        line for line in lines if line.startswith(foreign)
    ]


def test_drift_under_a_prefix_names_the_prefixs_strays_and_leaves_other_environments_alone(
    prefixed: tuple[Path, str], registry_url: str, capsys: pytest.CaptureFixture[str], unique: str
) -> None:
    """Under a prefix, a subject starting with it that no schema produces is reported, whatever its domain;
    another environment's subject of the same event is not."""
    project, prefix = prefixed
    assert 0 == run(project, "registry", "push", "--registry", registry_url, "--topic-prefix", prefix)
    client = RegistryClient(registry_url)
    schema = '{"type":"record","name":"Other","namespace":"x","fields":[]}'
    stray, other_environment = f"{prefix}nowhere.thing-value", f"other{unique}.trading.signals.generated-value"
    client.register(stray, schema)
    client.register(other_environment, schema)
    capsys.readouterr()
    assert 100 == run(project, "registry", "drift", "--registry", registry_url, "--topic-prefix", prefix)
    assert [f"{stray}: not-in-repo: registered, but no schema in the repository produces it"] == (
        capsys.readouterr().out.splitlines()
    )


def test_incompatible_registration_is_refused_with_409(registry_url: str, unique: str) -> None:
    """Registering a schema that breaks the subject's level answers 409 and registers nothing."""
    client = RegistryClient(registry_url)
    subject = f"incompatible-{unique}-value"
    client.set_level(subject, "BACKWARD")
    client.register(subject, '{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}')
    with pytest.raises(RegistryError, match="incompatible") as refused:
        client.register(subject, '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}')
    assert (409, True) == (refused.value.http_status, refused.value.error_code in (409, 40901))
    assert [1] == client.versions(subject)


def test_online_gate_locates_what_the_registry_refuses(
    project: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """breaking --registry reports a removed required field at its file and line; a compatible change passes."""
    assert 0 == run(project, "registry", "push", "--registry", registry_url)
    schema = project / "schemas/execution/execution.order.rejected.avsc"
    original = schema.read_text(encoding="utf-8")
    compatible = original.replace(
        '    {"name": "detail",',
        '    {"name": "note", "type": ["null", "string"], "doc": "Optional note.", "default": null},\n'
        '    {"name": "detail",',
    )
    schema.write_text(compatible, encoding="utf-8")
    capsys.readouterr()
    assert 0 == run(project, "breaking", "--registry", registry_url)
    removed = re.sub(r'\n    \{"name": "rejected_by",[^\n]*\n', "\n", original)
    assert removed != original
    schema.write_text(removed, encoding="utf-8")
    capsys.readouterr()
    assert 100 == run(project, "breaking", "--registry", registry_url, "--format", "json")
    findings = capsys.readouterr().out.splitlines()
    assert 1 == len(findings)
    assert '"rule_id": "FIELD_REMOVED_WITHOUT_DEFAULT"' in findings[0]
    assert '"path": "schemas/execution/execution.order.rejected.avsc"' in findings[0]


def test_online_gate_under_a_topic_prefix_asks_about_the_prefixed_subjects(
    prefixed: tuple[Path, str], registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """breaking --registry --topic-prefix P judges each event against `<P><topic>-value`, the subject
    `registry push --topic-prefix P` registered, and locates the break in the file."""
    project, prefix = prefixed
    assert 0 == run(project, "registry", "push", "--registry", registry_url, "--topic-prefix", prefix)
    schema = project / "schemas/execution/execution.order.rejected.avsc"
    original = schema.read_text(encoding="utf-8")
    removed = re.sub(r'\n    \{"name": "rejected_by",[^\n]*\n', "\n", original)
    assert removed != original
    schema.write_text(removed, encoding="utf-8")
    capsys.readouterr()
    code = run(project, "breaking", "--registry", registry_url, "--topic-prefix", prefix, "--format", "json")
    findings = capsys.readouterr().out.splitlines()
    assert (100, 1) == (code, len(findings))
    assert '"rule_id": "FIELD_REMOVED_WITHOUT_DEFAULT"' in findings[0]
    assert '"path": "schemas/execution/execution.order.rejected.avsc"' in findings[0]
