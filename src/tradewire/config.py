"""The repository configuration, `tradewire.yaml`: where schemas live, levels, lint and approvals.

Parsed once into frozen objects; unknown keys are refused with the list of allowed ones,
so a typo never silently disables a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tradewire.errors import ConfigError

__all__ = [
    "CONFIG_FILE",
    "LEVELS",
    "Approval",
    "BreakingConfig",
    "CompatibilityConfig",
    "Config",
    "ContractsConfig",
    "LintConfig",
    "find_config",
    "load_config",
]

CONFIG_FILE = "tradewire.yaml"
LEVELS = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)


@dataclass(frozen=True, slots=True)
class ContractsConfig:
    """Where generated classes go."""

    out: str = "src/tradewire/contracts"
    package: str = "tradewire.contracts"


_DEFAULT_CONTRACTS = ContractsConfig()


@dataclass(frozen=True, slots=True)
class CompatibilityConfig:
    """The compatibility level of every subject, with per-subject overrides."""

    default: str = "FULL_TRANSITIVE"
    subjects: Mapping[str, str] = field(default_factory=dict)

    def level(self, subject: str) -> str:
        """The level that applies to `subject`."""
        return self.subjects.get(subject, self.default)


@dataclass(frozen=True, slots=True)
class LintConfig:
    """Which lint rules run, and where they are ignored (buf's vocabulary)."""

    use: tuple[str, ...] = ("DEFAULT",)
    except_: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ignore_only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Approval:
    """A breaking change approved in review: exactly one rule at one place of one schema."""

    rule: str
    schema: str
    at: str
    reason: str


@dataclass(frozen=True, slots=True)
class BreakingConfig:
    """Defaults for `tradewire breaking`."""

    against_branch: str = "main"
    approve: tuple[Approval, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """The whole `tradewire.yaml`; `root` is the directory that holds it."""

    root: Path
    schemas: str = "schemas"
    namespace: str = "tradewire"
    contracts: ContractsConfig = ContractsConfig()
    compatibility: CompatibilityConfig = CompatibilityConfig()
    lint: LintConfig = LintConfig()
    breaking: BreakingConfig = BreakingConfig()

    @property
    def schemas_path(self) -> Path:
        """Absolute path of the schema directory."""
        return self.root / self.schemas


def find_config(start: Path) -> Path | None:
    """The nearest `tradewire.yaml` in `start` or one of its parents."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path) -> Config:
    """Read and validate a `tradewire.yaml`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from None
    return parse_config(raw if raw is not None else {}, path.parent.resolve(), str(path))


def parse_config(raw: Any, root: Path, source: str = CONFIG_FILE) -> Config:
    """Validate an already-parsed configuration mapping."""
    reader = _Reader(source)
    top = reader.mapping(
        raw,
        "",
        {"version", "schemas", "namespace", "contracts", "compatibility", "lint", "breaking"},
    )
    if top.get("version") != "v1":
        raise ConfigError(f"{source}: 'version' must be v1 (found {top.get('version')!r})")
    contracts = reader.mapping(top.get("contracts", {}), "contracts", {"out", "package"})
    compatibility = reader.mapping(top.get("compatibility", {}), "compatibility", {"default", "subjects"})
    lint = reader.mapping(top.get("lint", {}), "lint", {"use", "except", "ignore", "ignore_only"})
    breaking = reader.mapping(top.get("breaking", {}), "breaking", {"against", "approve"})
    subjects = reader.mapping(compatibility.get("subjects", {}), "compatibility.subjects", None)
    ignore_only = reader.mapping(lint.get("ignore_only", {}), "lint.ignore_only", None)
    return Config(
        root=root,
        schemas=reader.string(top.get("schemas", "schemas"), "schemas"),
        namespace=reader.string(top.get("namespace", "tradewire"), "namespace"),
        contracts=ContractsConfig(
            out=reader.string(contracts.get("out", _DEFAULT_CONTRACTS.out), "contracts.out"),
            package=reader.string(contracts.get("package", _DEFAULT_CONTRACTS.package), "contracts.package"),
        ),
        compatibility=CompatibilityConfig(
            default=reader.level(compatibility.get("default", "FULL_TRANSITIVE"), "compatibility.default"),
            subjects={
                reader.string(subject, "compatibility.subjects"): reader.level(
                    level, f"compatibility.subjects.{subject}"
                )
                for subject, level in subjects.items()
            },
        ),
        lint=LintConfig(
            use=reader.strings(lint.get("use", ["DEFAULT"]), "lint.use"),
            except_=reader.strings(lint.get("except", []), "lint.except"),
            ignore=reader.strings(lint.get("ignore", []), "lint.ignore"),
            ignore_only={
                reader.string(rule_id, "lint.ignore_only"): reader.strings(paths, f"lint.ignore_only.{rule_id}")
                for rule_id, paths in ignore_only.items()
            },
        ),
        breaking=BreakingConfig(
            against_branch=reader.string(breaking.get("against", "main"), "breaking.against"),
            approve=tuple(
                reader.approval(item, f"breaking.approve[{index}]")
                for index, item in enumerate(reader.sequence(breaking.get("approve", []), "breaking.approve"))
            ),
        ),
    )


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {where or 'top level'}: {message}")

    def mapping(self, value: Any, where: str, allowed: set[str] | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, found {type(value).__name__}")
        if allowed is not None:
            unknown = sorted(set(map(str, value)) - allowed)
            if unknown:
                raise self.fail(
                    where,
                    f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
                )
        return value

    def sequence(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, found {type(value).__name__}")
        return value

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, found {value!r}")
        return value

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        return tuple(self.string(item, where) for item in self.sequence(value, where))

    def level(self, value: Any, where: str) -> str:
        level = self.string(value, where).upper()
        if level not in LEVELS:
            raise self.fail(where, f"unknown compatibility level {value!r}; allowed: {', '.join(LEVELS)}")
        return level

    def approval(self, value: Any, where: str) -> Approval:
        item = self.mapping(value, where, {"rule", "schema", "at", "reason"})
        missing = [key for key in ("rule", "schema", "at", "reason") if key not in item]
        if missing:
            raise self.fail(
                where,
                f"an approval names rule, schema, at (a JSON pointer) and reason; missing {', '.join(missing)}",
            )
        return Approval(
            rule=self.string(item["rule"], f"{where}.rule"),
            schema=self.string(item["schema"], f"{where}.schema"),
            at=str(item["at"]) if item["at"] == "" else self.string(item["at"], f"{where}.at"),
            reason=self.string(item["reason"], f"{where}.reason"),
        )
