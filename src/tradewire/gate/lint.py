"""`tradewire lint`: house rules for contracts, each finding located in its `.avsc`.

Input problems (a file that is not JSON, not Avro, or names an unknown type) are always
reported; the lint rules themselves are chosen with `lint.use` / `lint.except` and can be
ignored per path in `tradewire.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from tradewire.avro.catalog import KEY_ATTRIBUTE, TOPIC_ATTRIBUTE, Catalog, SchemaFile
from tradewire.avro.model import (
    Array,
    AvroType,
    Enum,
    Field,
    Fixed,
    Map,
    Named,
    Origin,
    Primitive,
    Record,
    Ref,
    Union,
    deref,
)
from tradewire.avro.parse import Problem
from tradewire.avro.pynames import python_name_problem
from tradewire.avro.sourcemap import join_pointer
from tradewire.config import Config, LintConfig
from tradewire.errors import ConfigError
from tradewire.gate.findings import Finding, normalize
from tradewire.gate.rules import rules_of

__all__ = ["enabled_lint_rules", "lint", "problem_findings"]

_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*\Z")
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*\Z")
_TOPIC = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
_DOMAIN = re.compile(r"[a-z][a-z0-9_]*\Z")
_MONEY_WORDS = frozenset(
    {
        "amount", "balance", "cash", "commission", "cost", "equity", "exposure", "fee", "fees",
        "limit", "margin", "notional", "pnl", "price", "prices", "proceeds", "qty", "quantity",
        "quantities", "size", "value", "volume",
    }
)  # fmt: skip
METADATA_FIELD = "metadata"
COMMON_DOMAIN = "common"


def enabled_lint_rules(config: LintConfig) -> set[str]:
    """The lint rule ids switched on by `use` and not switched off by `except`."""
    lint_rules = rules_of("lint")
    known = {r.id for r in lint_rules} | {r.category for r in lint_rules} | {"DEFAULT"}

    def expand(names: tuple[str, ...], where: str) -> set[str]:
        unknown = sorted(set(names) - known)
        if unknown:
            raise ConfigError(f"lint.{where}: unknown rule or category {', '.join(unknown)} (see `tradewire rules`)")
        return {r.id for r in lint_rules if {"DEFAULT", r.id, r.category} & set(names)}

    return expand(config.use, "use") - expand(config.except_, "except")


def problem_findings(
    catalog: Catalog, problems: list[Problem], subject_of: dict[str, str] | None = None
) -> list[Finding]:
    """Findings for parse problems."""
    findings = []
    for problem in problems:
        position = catalog.locate(problem.origin)
        findings.append(
            Finding(
                problem.origin.file,
                position.line,
                position.col,
                problem.rule,
                problem.message,
                problem.origin.pointer,
                (subject_of or {}).get(problem.origin.file, ""),
            )
        )
    return findings


def lint(catalog: Catalog, config: Config) -> list[Finding]:
    """Run input checks and the enabled lint rules over every file of `catalog`; each finding names the
    file's registry subject (`<topic>-value` for an event, the full name for a shared type) when it parsed."""
    enabled = enabled_lint_rules(config.lint)
    input_rules = {r.id for r in rules_of("input")}
    findings: list[Finding] = []
    raw = [_Raw(p.rule, p.origin, p.message) for p in catalog.problems()]
    raw.extend(_Linter(catalog, config).run())
    for item in raw:
        if item.rule not in input_rules and (item.rule not in enabled or _ignored(config.lint, item)):
            continue
        position = catalog.locate(item.origin, key=item.key)
        schema_file = catalog.files.get(item.origin.file)
        findings.append(
            Finding(
                item.origin.file,
                position.line,
                position.col,
                item.rule,
                item.message,
                item.origin.pointer,
                (schema_file.subject if schema_file is not None else None) or "",
            )
        )
    return normalize(findings)


def _ignored(config: LintConfig, item: _Raw) -> bool:
    def under(prefixes: tuple[str, ...]) -> bool:
        path = PurePosixPath(item.origin.file)
        return any(path == PurePosixPath(p) or PurePosixPath(p) in path.parents for p in prefixes)

    return under(config.ignore) or under(config.ignore_only.get(item.rule, ()))


@dataclass(frozen=True, slots=True)
class _Raw:
    rule: str
    origin: Origin
    message: str
    key: bool = False


def _walk_definitions(node: AvroType, home: str) -> Iterator[Named]:
    """Named types defined (not merely referenced) in file `home`, outermost first."""
    if isinstance(node, Ref):
        return
    if isinstance(node, Named):
        if node.origin.file != home:
            return
        yield node
        if isinstance(node, Record):
            for item in node.fields:
                yield from _walk_definitions(item.type, home)
    elif isinstance(node, Array):
        yield from _walk_definitions(node.items, home)
    elif isinstance(node, Map):
        yield from _walk_definitions(node.values, home)
    elif isinstance(node, Union):
        for branch in node.branches:
            yield from _walk_definitions(branch, home)


def _primitives(node: AvroType) -> Iterator[Primitive]:
    """Primitive types reachable without leaving the field (through unions, arrays, maps)."""
    if isinstance(node, Primitive):
        yield node
    elif isinstance(node, Array):
        yield from _primitives(node.items)
    elif isinstance(node, Map):
        yield from _primitives(node.values)
    elif isinstance(node, Union):
        for branch in node.branches:
            yield from _primitives(branch)


def _at(origin: Origin, *tokens: str | int) -> Origin:
    return Origin(origin.file, join_pointer(origin.pointer, *tokens))


class _Linter:
    def __init__(self, catalog: Catalog, config: Config) -> None:
        self.catalog = catalog
        self.config = config
        self.schemas = PurePosixPath(config.schemas)

    def run(self) -> Iterator[_Raw]:
        topics: dict[str, str] = {}
        for schema_file in self.catalog:
            if not schema_file.ok:
                continue
            yield from self.file_rules(schema_file, topics)
            for named in _walk_definitions(schema_file.node, schema_file.path) if schema_file.node else ():
                yield from self.named_rules(named)

    # -- files, routing, metadata --------------------------------------------------
    def file_rules(self, schema_file: SchemaFile, topics: dict[str, str]) -> Iterator[_Raw]:
        node = schema_file.node
        root = Origin(schema_file.path, "")
        top = schema_file.top
        if top is None:
            yield _Raw(
                "FILE_SINGLE_TYPE",
                root,
                f"the top level must be one record, enum or fixed, not a {node.type_name if node else 'schema'}",
            )
            return
        path = PurePosixPath(schema_file.path)
        relative = path.relative_to(self.schemas) if self.schemas in path.parents else path
        in_common = relative.parts[:1] == (COMMON_DOMAIN,)
        topic = schema_file.topic
        name_origin = _at(top.origin, "name")
        if in_common or not isinstance(top, Record):
            expected_ns = f"{self.config.namespace}.{COMMON_DOMAIN}"
            if top.namespace != expected_ns:
                yield _Raw(
                    "NAMESPACE",
                    name_origin,
                    f"shared type {top.fullname} belongs in namespace {expected_ns}",
                )
            expected = self.schemas / COMMON_DOMAIN / f"{_snake(top.name)}.avsc"
            if path != expected:
                yield _Raw("FILE_NAME", root, f"shared type {top.name} belongs in {expected}")
            if TOPIC_ATTRIBUTE in top.props:
                yield _Raw(
                    "EVENT_TOPIC",
                    _at(top.origin, TOPIC_ATTRIBUTE),
                    "shared types in common/ are not events and declare no topic",
                    key=True,
                )
            return
        if topic is None:
            yield _Raw(
                "EVENT_TOPIC",
                name_origin,
                f'event {top.name} declares no topic; add "{TOPIC_ATTRIBUTE}": "<domain>.<entity>.<event>" '
                "(or move a shared type to common/)",
            )
            return
        topic_origin = _at(top.origin, TOPIC_ATTRIBUTE)
        if not _TOPIC.match(topic) or len(topic) > 249:
            yield _Raw(
                "EVENT_TOPIC",
                topic_origin,
                f"topic {topic!r} must be lowercase dotted words like trading.signals.generated",
            )
        first = topics.setdefault(topic, schema_file.path)
        if first != schema_file.path:
            yield _Raw(
                "TOPIC_UNIQUE",
                topic_origin,
                f"topic {topic!r} is already carried by {first}; one event type per topic",
            )
        domain = topic.split(".", 1)[0]
        expected_ns = f"{self.config.namespace}.{domain}"
        if top.namespace != expected_ns or not _DOMAIN.match(domain):
            yield _Raw(
                "NAMESPACE",
                name_origin,
                f"event on topic {topic} belongs in namespace {expected_ns}",
            )
        expected_path = self.schemas / domain / f"{topic}.avsc"
        if path != expected_path:
            yield _Raw("FILE_NAME", root, f"the event for topic {topic} belongs in {expected_path}")
        yield from self.key_rule(top, schema_file)
        yield from self.metadata_rule(top)

    def key_rule(self, top: Record, schema_file: SchemaFile) -> Iterator[_Raw]:
        key = schema_file.key_field
        if key is None:
            yield _Raw(
                "EVENT_KEY",
                _at(top.origin, "name"),
                f'event {top.name} declares no partition key; add "{KEY_ATTRIBUTE}": "<field>"',
            )
            return
        key_origin = _at(top.origin, KEY_ATTRIBUTE)
        key_field = top.field_named(key)
        if key_field is None:
            yield _Raw("EVENT_KEY", key_origin, f"partition key {key!r} is not a field of {top.name}")
            return
        key_type = deref(key_field.type)
        if not (isinstance(key_type, Enum) or (isinstance(key_type, Primitive) and key_type.name == "string")):
            yield _Raw(
                "EVENT_KEY",
                key_origin,
                f"partition key {key!r} must be a required string, uuid or enum field, not {key_type.type_name}",
            )

    def metadata_rule(self, top: Record) -> Iterator[_Raw]:
        expected = f"{self.config.namespace}.{COMMON_DOMAIN}.EventMetadata"
        first = top.fields[0] if top.fields else None
        if (
            first is None
            or first.name != METADATA_FIELD
            or not isinstance(first.type, Ref)
            or first.type.target.fullname != expected
        ):
            where = first.origin if first is not None else _at(top.origin, "fields")
            yield _Raw(
                "EVENT_METADATA",
                where,
                f'the first field of event {top.name} must be {{"name": "{METADATA_FIELD}", "type": "{expected}"}}',
            )

    # -- named types and fields -----------------------------------------------------------
    def named_rules(self, named: Named) -> Iterator[_Raw]:
        name_origin = _at(named.origin, "name")
        if not _PASCAL.match(named.name):
            yield _Raw("NAME_CASE", name_origin, f"type name {named.name!r} should be PascalCase")
        problem = python_name_problem("type", named.name)
        if problem:
            yield _Raw("NAME_PYTHON_SAFE", name_origin, problem)
        if not (named.doc or "").strip():
            yield _Raw(
                "DOC_TYPE",
                name_origin,
                f"{named.type_name} {named.name} has no doc; say what it means to a trader",
            )
        if isinstance(named, Enum):
            yield from self.enum_rules(named)
        if isinstance(named, Fixed) and named.logical == "decimal" and "scale" not in named.props:
            yield _Raw(
                "DECIMAL_PRECISION_SCALE",
                named.origin,
                f"decimal {named.name} must state its scale explicitly",
            )
        if isinstance(named, Record):
            for item in named.fields:
                yield from self.field_rules(item)

    def enum_rules(self, enum: Enum) -> Iterator[_Raw]:
        if enum.default is None:
            yield _Raw(
                "ENUM_DEFAULT",
                _at(enum.origin, "symbols"),
                f'enum {enum.name} has no default; add "default": "<symbol>" (e.g. an UNKNOWN symbol) '
                "so older readers survive new symbols",
            )
        for index, symbol in enumerate(enum.symbols):
            where = _at(enum.origin, "symbols", index)
            if not _UPPER_SNAKE.match(symbol):
                yield _Raw("NAME_CASE", where, f"enum symbol {symbol!r} should be UPPER_SNAKE_CASE")
            problem = python_name_problem("symbol", symbol)
            if problem:
                yield _Raw("NAME_PYTHON_SAFE", where, problem)

    def field_rules(self, item: Field) -> Iterator[_Raw]:
        name_origin = _at(item.origin, "name")
        if not _SNAKE.match(item.name):
            yield _Raw("NAME_CASE", name_origin, f"field name {item.name!r} should be snake_case")
        problem = python_name_problem("field", item.name)
        if problem:
            yield _Raw("NAME_PYTHON_SAFE", name_origin, problem)
        if not (item.doc or "").strip():
            yield _Raw("DOC_FIELD", name_origin, f"field {item.name!r} has no doc")
        primitives = list(_primitives(item.type))
        words = set(item.name.split("_"))
        if words & _MONEY_WORDS and any(p.name in ("float", "double") for p in primitives):
            yield _Raw(
                "FLOAT_FOR_MONEY",
                _at(item.origin, "type"),
                f"field {item.name!r} holds money or quantity as a binary float; use "
                '{"type": "bytes", "logicalType": "decimal", "precision": P, "scale": S}',
            )
        for primitive in primitives:
            if primitive.logical == "decimal" and "scale" not in primitive.props:
                yield _Raw(
                    "DECIMAL_PRECISION_SCALE",
                    primitive.origin,
                    f"decimal field {item.name!r} must state its scale explicitly",
                )
            if primitive.logical in (
                "timestamp-millis",
                "timestamp-nanos",
                "local-timestamp-millis",
                "local-timestamp-micros",
                "local-timestamp-nanos",
            ):
                yield _Raw(
                    "TIMESTAMP_MICROS",
                    primitive.origin,
                    f"field {item.name!r} uses {primitive.logical}; instants are UTC timestamp-micros",
                )
        if item.name.endswith("_at"):
            instants = [p for p in primitives if p.name != "null"]
            if not instants or any(p.logical != "timestamp-micros" for p in instants):
                yield _Raw(
                    "TIMESTAMP_MICROS",
                    _at(item.origin, "type"),
                    f'field {item.name!r} names an instant; make it {{"type": "long", '
                    '"logicalType": "timestamp-micros"}',
                )
        yield from self.optional_rule(item)

    def optional_rule(self, item: Field) -> Iterator[_Raw]:
        union = item.type
        if not isinstance(union, Union):
            return
        nulls = [i for i, b in enumerate(union.branches) if isinstance(b, Primitive) and b.name == "null"]
        if not nulls:
            return
        if nulls[0] != 0:
            yield _Raw(
                "OPTIONAL_DEFAULT_NULL",
                _at(item.origin, "type"),
                f"optional field {item.name!r} must list null first so that its default can be null",
            )
        elif not item.has_default or item.default is not None:
            yield _Raw(
                "OPTIONAL_DEFAULT_NULL",
                item.origin,
                f'optional field {item.name!r} needs "default": null so it can be added and removed safely',
            )


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
