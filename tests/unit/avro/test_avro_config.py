"""Specification of `tradewire.config`: tradewire.yaml parsed into frozen, validated objects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tradewire.config import (
    LEVELS,
    Approval,
    BreakingConfig,
    CompatibilityConfig,
    Config,
    ContractsConfig,
    LintConfig,
    find_config,
    load_config,
    parse_config,
)
from tradewire.errors import ConfigError

ROOT = Path("/repo")
SOURCE = "tradewire.yaml"
APPROVAL = {"rule": "FIELD_REMOVED", "schema": "exec.order-value", "at": "/fields/3", "reason": "TRADE-1234"}


def _parse(raw: Any) -> Config:
    return parse_config(raw, ROOT, SOURCE)


def test_default_values_are_the_documented_ones() -> None:
    """With only 'version: v1': schemas/, namespace tradewire, FULL_TRANSITIVE, lint DEFAULT, breaking against main."""
    config = _parse({"version": "v1"})
    assert (
        "schemas",
        "tradewire",
        ContractsConfig("src/tradewire/contracts", "tradewire.contracts"),
        CompatibilityConfig("FULL_TRANSITIVE", {}),
        LintConfig(("DEFAULT",), (), (), {}),
        BreakingConfig("main", ()),
        ROOT / "schemas",
    ) == (
        config.schemas,
        config.namespace,
        config.contracts,
        config.compatibility,
        config.lint,
        config.breaking,
        config.schemas_path,
    )


def test_every_key_is_read() -> None:
    """Each documented key lands in its typed field, with 'except' read into except_."""
    raw = {
        "version": "v1",
        "schemas": "avro",
        "namespace": "acme",
        "contracts": {"out": "gen/contracts", "package": "acme.contracts"},
        "compatibility": {"default": "BACKWARD", "subjects": {"exec.order-value": "NONE"}},
        "lint": {
            "use": ["DEFAULT", "DOCS"],
            "except": ["FIELD_DOC"],
            "ignore": ["avro/legacy"],
            "ignore_only": {"ENUM_DEFAULT": ["avro/old.avsc"]},
        },
        "breaking": {"against": "release", "approve": [APPROVAL]},
    }
    assert Config(
        root=ROOT,
        schemas="avro",
        namespace="acme",
        contracts=ContractsConfig("gen/contracts", "acme.contracts"),
        compatibility=CompatibilityConfig("BACKWARD", {"exec.order-value": "NONE"}),
        lint=LintConfig(("DEFAULT", "DOCS"), ("FIELD_DOC",), ("avro/legacy",), {"ENUM_DEFAULT": ("avro/old.avsc",)}),
        breaking=BreakingConfig("release", (Approval("FIELD_REMOVED", "exec.order-value", "/fields/3", "TRADE-1234"),)),
    ) == _parse(raw)


def test_compatibility_level_applies_per_subject_with_a_default() -> None:
    """CompatibilityConfig.level returns a subject's override, else the default level."""
    compatibility = _parse({"version": "v1", "compatibility": {"subjects": {"a-value": "none"}}}).compatibility
    assert ("NONE", "FULL_TRANSITIVE") == (compatibility.level("a-value"), compatibility.level("b-value"))


@pytest.mark.parametrize("level", ["backward_transitive", "Forward", "full"], ids=["lower", "title", "short"])
def test_levels_are_case_insensitive_and_stored_upper_case(level: str) -> None:
    """A level written in any case is accepted and normalised to upper case."""
    assert level.upper() == _parse({"version": "v1", "compatibility": {"default": level}}).compatibility.default


def test_every_confluent_level_is_accepted() -> None:
    """All seven Confluent compatibility levels are valid defaults."""
    assert list(LEVELS) == [
        _parse({"version": "v1", "compatibility": {"default": lv}}).compatibility.default for lv in LEVELS
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"version": "v1", "colour": "red", "flavour": 1},
            "tradewire.yaml: top level: unknown key(s) colour, flavour; "
            "allowed: breaking, compatibility, contracts, lint, namespace, schemas, topics, version",
        ),
        (
            {"version": "v1", "contracts": {"outdir": "x"}},
            "tradewire.yaml: contracts: unknown key(s) outdir; allowed: out, package",
        ),
        (
            {"version": "v1", "lint": {"except_": []}},
            "tradewire.yaml: lint: unknown key(s) except_; allowed: except, ignore, ignore_only, use",
        ),
        (
            {"version": "v1", "breaking": {"against_branch": "x"}},
            "tradewire.yaml: breaking: unknown key(s) against_branch; allowed: against, approve",
        ),
        (
            {"version": "v1", "compatibility": {"level": "NONE"}},
            "tradewire.yaml: compatibility: unknown key(s) level; allowed: default, subjects",
        ),
    ],
    ids=["top_level", "contracts", "lint", "breaking", "compatibility"],
)
def test_unknown_keys_are_refused_with_the_allowed_list(raw: dict[str, Any], message: str) -> None:
    """An unknown key raises ConfigError naming it and listing the keys allowed at that place."""
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        _parse(raw)


@pytest.mark.parametrize(
    ("raw", "found"),
    [({}, "None"), ({"version": "v2"}, "'v2'"), ({"version": 1}, "1")],
    ids=["missing", "v2", "number"],
)
def test_version_must_be_v1(raw: dict[str, Any], found: str) -> None:
    """A missing or different version raises ConfigError saying what was found."""
    with pytest.raises(ConfigError, match=re.escape(f"tradewire.yaml: 'version' must be v1 (found {found})")):
        _parse(raw)


def test_invalid_level_is_refused_with_the_allowed_levels() -> None:
    """An unknown compatibility level raises ConfigError naming where it is and the seven valid levels."""
    message = (
        "tradewire.yaml: compatibility.subjects.a-value: unknown compatibility level 'SIDEWAYS'; allowed: "
        "BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        _parse({"version": "v1", "compatibility": {"subjects": {"a-value": "SIDEWAYS"}}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"version": "v1", "schemas": ""}, "schemas: expected a non-empty string, found ''"),
        ({"version": "v1", "lint": {"use": "DEFAULT"}}, "lint.use: expected a list, found str"),
        ({"version": "v1", "lint": {"use": [3]}}, "lint.use: expected a non-empty string, found 3"),
        ({"version": "v1", "contracts": None}, "contracts: expected a mapping, found NoneType"),
        (["version", "v1"], "top level: expected a mapping, found list"),
    ],
    ids=["empty_string", "string_for_list", "number_in_list", "null_section", "not_a_mapping"],
)
def test_values_of_the_wrong_shape_are_refused(raw: Any, message: str) -> None:
    """Values of the wrong type raise ConfigError naming the dotted key and what was found."""
    with pytest.raises(ConfigError, match=f"^{re.escape('tradewire.yaml: ' + message)}$"):
        _parse(raw)


@pytest.mark.parametrize("missing", ["rule", "schema", "at", "reason"])
def test_an_approval_needs_rule_schema_at_and_reason(missing: str) -> None:
    """An approval lacking any of rule, schema, at or reason raises ConfigError naming the missing key."""
    approval = {key: value for key, value in APPROVAL.items() if key != missing}
    message = (
        "tradewire.yaml: breaking.approve[0]: an approval names rule, schema, at (a JSON pointer) and reason; "
        f"missing {missing}"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        _parse({"version": "v1", "breaking": {"approve": [approval]}})


def test_an_approval_may_point_at_the_document_root() -> None:
    """The empty JSON pointer (the whole schema) is a valid 'at' for an approval."""
    config = _parse({"version": "v1", "breaking": {"approve": [{**APPROVAL, "at": ""}]}})
    assert (Approval("FIELD_REMOVED", "exec.order-value", "", "TRADE-1234"),) == config.breaking.approve


def test_an_approval_with_an_unknown_key_is_refused() -> None:
    """Approvals accept exactly rule, schema, at and reason."""
    message = "tradewire.yaml: breaking.approve[1]: unknown key(s) until; allowed: at, reason, rule, schema"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        _parse({"version": "v1", "breaking": {"approve": [APPROVAL, {**APPROVAL, "until": "2030"}]}})


def test_load_config_reads_yaml_and_roots_the_config_at_its_directory(tmp_path: Path) -> None:
    """load_config parses the file and sets root to the resolved directory holding it."""
    path = tmp_path / "tradewire.yaml"
    path.write_text("version: v1\nschemas: avro\ncompatibility:\n  default: backward\n", encoding="utf-8")
    assert Config(root=tmp_path.resolve(), schemas="avro", compatibility=CompatibilityConfig("BACKWARD")) == (
        load_config(path)
    )


def test_empty_file_is_refused_for_lacking_a_version(tmp_path: Path) -> None:
    """An empty file is an empty mapping, which fails because 'version' is required; the path is named."""
    path = tmp_path / "tradewire.yaml"
    path.write_text("", encoding="utf-8")
    message = f"{path}: 'version' must be v1 (found None)"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        load_config(path)


def test_invalid_yaml_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    """Unparseable YAML raises ConfigError starting with the path and 'cannot read configuration'."""
    path = tmp_path / "tradewire.yaml"
    path.write_text("version: v1\nlint: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{path}: cannot read configuration: ')}"):
        load_config(path)


def test_missing_file_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    """A configuration file that cannot be opened raises ConfigError, not OSError."""
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{path}: cannot read configuration: ')}"):
        load_config(path)


def test_the_repository_configuration_loads(repo_root: Path) -> None:
    """The repository's own tradewire.yaml is valid and uses the defaults it documents."""
    config = load_config(repo_root / "tradewire.yaml")
    assert ("schemas", "tradewire", "FULL_TRANSITIVE", "main", ()) == (
        config.schemas,
        config.namespace,
        config.compatibility.default,
        config.breaking.against_branch,
        config.breaking.approve,
    )


def test_find_config_searches_the_start_directory_and_its_parents(tmp_path: Path) -> None:
    """find_config returns the nearest tradewire.yaml at or above the start directory."""
    (tmp_path / "tradewire.yaml").write_text("version: v1\n", encoding="utf-8")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "a" / "tradewire.yaml").write_text("version: v1\n", encoding="utf-8")
    assert (tmp_path / "a" / "tradewire.yaml", tmp_path / "tradewire.yaml") == (
        find_config(nested),
        find_config(tmp_path),
    )
