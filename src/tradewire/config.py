"""The repository configuration, `tradewire.yaml`: where schemas live, levels, lint, approvals, topics.

Parsed once into frozen objects; unknown keys are refused with the list of allowed ones,
so a typo never silently disables a check. What can only be checked against the schemas
(a subject, event or domain that no schema defines) is checked by `check_against_catalog`
once the catalog is known.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from tradewire.errors import ConfigError

__all__ = [
    "CLEANUP_POLICIES",
    "CONFIG_FILE",
    "DEFAULT_TOPIC_SETTINGS",
    "LEVELS",
    "TOPIC_KEYS",
    "Approval",
    "BreakingConfig",
    "CompatibilityConfig",
    "Config",
    "ContractsConfig",
    "LintConfig",
    "TopicSettings",
    "TopicsConfig",
    "check_against_catalog",
    "find_config",
    "load_config",
    "parse_config",
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
class TopicSettings:
    """How a topic is made: partitions, replication and the topic configs tradewire manages.

    In `tradewire.yaml` the keys are Kafka's own names (`replication.factor`, `retention.ms`, ...);
    a field left None takes its value from the level below (event over domain over defaults)."""

    partitions: int | None = None
    replication_factor: int | None = None
    min_insync_replicas: int | None = None
    retention_ms: int | None = None
    """-1 keeps records forever."""
    cleanup_policy: str | None = None
    """delete, compact, or compact,delete."""
    max_message_bytes: int | None = None

    def over(self, base: TopicSettings) -> TopicSettings:
        """These settings, with every unset field taken from `base`."""
        return replace(
            base, **{f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        )


TOPIC_KEYS: Mapping[str, str] = {
    "partitions": "partitions",
    "replication.factor": "replication_factor",
    "min.insync.replicas": "min_insync_replicas",
    "retention.ms": "retention_ms",
    "cleanup.policy": "cleanup_policy",
    "max.message.bytes": "max_message_bytes",
}
"""The keys of a topics entry in `tradewire.yaml` (Kafka's names) and their TopicSettings fields."""

CLEANUP_POLICIES = ("delete", "compact", "compact,delete")

DEFAULT_TOPIC_SETTINGS = TopicSettings(
    partitions=6,
    replication_factor=3,
    min_insync_replicas=2,
    retention_ms=7 * 24 * 3600 * 1000,
    cleanup_policy="delete",
    max_message_bytes=1_048_588,
)
"""Production defaults: 6 partitions, 3 replicas with 2 in sync (acks=all survives a broker), 7 days'
retention, delete, Kafka's default largest record (1 MiB plus record overhead)."""


@dataclass(frozen=True, slots=True)
class TopicsConfig:
    """Every contract topic's settings: `defaults`, overridden per domain, then per event topic."""

    defaults: TopicSettings = DEFAULT_TOPIC_SETTINGS
    """Complete (every field set): the built-in defaults under the file's `topics.defaults`."""
    domains: Mapping[str, TopicSettings] = field(default_factory=dict)
    events: Mapping[str, TopicSettings] = field(default_factory=dict)
    """Keyed by the event's topic as the schema declares it (without any prefix)."""

    def settings(self, topic: str, domain: str) -> TopicSettings:
        """The complete settings of the event topic `topic` of `domain`."""
        settings = self.defaults
        if domain in self.domains:
            settings = self.domains[domain].over(settings)
        if topic in self.events:
            settings = self.events[topic].over(settings)
        return settings


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
    topics: TopicsConfig = TopicsConfig()

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
        {"version", "schemas", "namespace", "contracts", "compatibility", "lint", "breaking", "topics"},
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
        topics=_topics(reader, top.get("topics", {})),
    )


def _topics(reader: _Reader, raw: Any) -> TopicsConfig:
    section = reader.mapping(raw, "topics", {"defaults", "domains", "events"})
    defaults = reader.topic_settings(section.get("defaults", {}), "topics.defaults").over(DEFAULT_TOPIC_SETTINGS)
    reader.check_replicas(defaults, "topics.defaults")
    levels: dict[str, dict[str, TopicSettings]] = {}
    for level in ("domains", "events"):
        entries = reader.mapping(section.get(level, {}), f"topics.{level}", None)
        levels[level] = {}
        for name, value in entries.items():
            where = f"topics.{level}.{name}"
            settings = reader.topic_settings(value, where)
            reader.check_replicas(settings.over(defaults), where)
            levels[level][reader.string(name, f"topics.{level}")] = settings
    return TopicsConfig(defaults, levels["domains"], levels["events"])


def check_against_catalog(
    config: Config, subjects: Collection[str], domains_of_events: Mapping[str, str], source: str = CONFIG_FILE
) -> None:
    """Refuse what names a subject, event topic or domain that no schema defines (ConfigError naming
    the unknown ones and the known ones); `domains_of_events` maps each event topic to its domain.

    Also refuses an event whose settings, once merged with its domain's, keep fewer replicas than
    `min.insync.replicas` (no acks=all write could ever succeed)."""
    domains = set(domains_of_events.values())
    checks = (
        ("compatibility.subjects", config.compatibility.subjects, subjects, "subject"),
        ("topics.domains", config.topics.domains, domains, "domain"),
        ("topics.events", config.topics.events, domains_of_events, "event topic"),
    )
    for where, named, known, what in checks:
        unknown = sorted(set(named) - set(known))
        if unknown:
            raise ConfigError(
                f"{source}: {where}: unknown {what}(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
    reader = _Reader(source)
    for topic, domain in sorted(domains_of_events.items()):
        reader.check_replicas(config.topics.settings(topic, domain), f"topics (event {topic} of domain {domain})")


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

    def integer(self, value: Any, where: str, minimum: int, *, forever: bool = False) -> int:
        number = isinstance(value, int) and not isinstance(value, bool)
        if not number or not (value >= minimum or (forever and value == -1)):
            expected = f"an integer >= {minimum}" + (" or -1 (forever)" if forever else "")
            raise self.fail(where, f"expected {expected}, found {value!r}")
        return int(value)

    def topic_settings(self, value: Any, where: str) -> TopicSettings:
        item = self.mapping(value if value is not None else {}, where, set(TOPIC_KEYS))
        values: dict[str, Any] = {}
        for key, name in TOPIC_KEYS.items():
            if key not in item:
                continue
            here = f"{where}.{key}"
            if key == "cleanup.policy":
                raw = item[key]
                words = raw if isinstance(raw, list) else str(raw).split(",") if isinstance(raw, str) else [raw]
                policy = ",".join(sorted({str(word).strip() for word in words}))
                if policy not in CLEANUP_POLICIES:
                    raise self.fail(here, f"unknown cleanup policy {raw!r}; allowed: {', '.join(CLEANUP_POLICIES)}")
                values[name] = policy
            elif key == "retention.ms":
                values[name] = self.integer(item[key], here, 1, forever=True)
            else:
                values[name] = self.integer(item[key], here, 1)
        return TopicSettings(**values)

    def check_replicas(self, settings: TopicSettings, where: str) -> None:
        replicas, in_sync = settings.replication_factor, settings.min_insync_replicas
        if replicas is not None and in_sync is not None and in_sync > replicas:
            raise self.fail(
                where,
                f"min.insync.replicas {in_sync} is more than replication.factor {replicas}: "
                "no write with acks=all could succeed",
            )

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
