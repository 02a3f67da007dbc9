"""`tradewire breaking`: refuse schema changes that break readers or writers in production.

Each schema that changed is compared with its earlier versions under the subject's
compatibility level, with Confluent's semantics: BACKWARD (the new schema reads data
written with the old), FORWARD (the old reads the new), FULL (both); non-transitive
levels compare with the latest earlier version only, transitive ones with every
earlier version. Versions come from git (offline) or, later, a registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import avro.errors
import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog, SchemaFile
from tradewire.avro.compat import Incompatibility, Kind, check_compatibility
from tradewire.avro.model import Array, Map, Origin, Record, Ref, Union
from tradewire.config import Approval, Config
from tradewire.errors import ConfigError
from tradewire.gate.findings import Finding, normalize
from tradewire.gate.lint import problem_findings
from tradewire.gate.rules import RULES

__all__ = ["BreakingReport", "Version", "changed_subjects", "compare", "directions_for", "history_from_catalogs"]


@dataclass(frozen=True, slots=True)
class Version:
    """One earlier version of a schema: where it came from and the catalog it parsed in."""

    label: str
    catalog: Catalog
    schema_file: SchemaFile


@dataclass
class BreakingReport:
    """What `breaking` found: failing findings, approved ones, stale approvals."""

    findings: list[Finding] = field(default_factory=list)
    approved: list[tuple[Finding, Approval]] = field(default_factory=list)
    unused_approvals: list[Approval] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    compared: int = 0


def directions_for(level: str) -> tuple[tuple[str, ...], bool]:
    """The directions (`backward`, `forward`) a level checks, and whether it is transitive."""
    base, _, transitive = level.partition("_")
    directions = {
        "BACKWARD": ("backward",),
        "FORWARD": ("forward",),
        "FULL": ("backward", "forward"),
    }
    return directions.get(base, ()), transitive == "TRANSITIVE"


def _fix(rule_id: str) -> str:
    return {
        "FIELD_ADDED_WITHOUT_DEFAULT": 'give it a default (an optional value is ["null", T] with "default": null)',
        "FIELD_REMOVED_WITHOUT_DEFAULT": "keep the field; or first release a version where it has a default, "
        "then remove it once no reader needs it",
        "FIELD_TYPE_CHANGED": "add a new field with the new type (with a default) and deprecate this one; "
        "only int->long->float->double and string<->bytes are safe changes",
        "ENUM_SYMBOL_REMOVED": "keep the symbol and document it as deprecated",
        "ENUM_SYMBOL_ADDED": "the earlier enum has no default, so its readers fail on the new symbol; "
        "release a version that declares an enum default first",
        "UNION_BRANCH_REMOVED": "keep the branch; data written with it must stay readable",
        "UNION_BRANCH_ADDED": "earlier readers cannot read the new branch; add a new optional field instead",
        "FIXED_SIZE_CHANGED": "define a new fixed type and a new field that uses it",
        "NAME_CHANGED": 'keep the old name, or list the old full name in the type\'s "aliases"',
        "FIELD_ALIAS_AMBIGUOUS": "make the field's name and aliases match exactly one earlier field",
        "INCOMPATIBLE": "make the change in compatible steps",
    }.get(rule_id, "make the change in compatible steps")


def _rule_for(incompatibility: Incompatibility, direction: str, new_is_union: bool) -> str:
    kind = incompatibility.kind
    if kind is Kind.READER_FIELD_MISSING_DEFAULT_VALUE:
        return "FIELD_ADDED_WITHOUT_DEFAULT" if direction == "backward" else "FIELD_REMOVED_WITHOUT_DEFAULT"
    if kind is Kind.MISSING_ENUM_SYMBOLS:
        return "ENUM_SYMBOL_REMOVED" if direction == "backward" else "ENUM_SYMBOL_ADDED"
    if kind is Kind.MISSING_UNION_BRANCH:
        if not new_is_union:
            return "FIELD_TYPE_CHANGED"
        return "UNION_BRANCH_REMOVED" if direction == "backward" else "UNION_BRANCH_ADDED"
    return {
        Kind.TYPE_MISMATCH: "FIELD_TYPE_CHANGED",
        Kind.NAME_MISMATCH: "NAME_CHANGED",
        Kind.FIXED_SIZE_MISMATCH: "FIXED_SIZE_CHANGED",
        Kind.AMBIGUOUS_FIELD_ALIAS: "FIELD_ALIAS_AMBIGUOUS",
    }[kind]


class _Comparison:
    def __init__(self, current: Catalog, config: Config) -> None:
        self.current = current
        self.config = config
        self.subjects = {f.path: f.subject or "" for f in current if f.subject}
        self.findings: list[Finding] = []

    def finding(self, origin: Origin, rule_id: str, message: str, *, key: bool = False) -> None:
        position = self.current.locate(origin, key=key)
        self.findings.append(
            Finding(
                origin.file,
                position.line,
                position.col,
                rule_id,
                message,
                origin.pointer,
                self.subjects.get(origin.file, ""),
            )
        )

    def compare_versions(self, new: SchemaFile, old: Version, direction: str) -> None:
        assert new.node is not None and old.schema_file.node is not None
        old_node = old.schema_file.node
        if direction == "backward":
            found = check_compatibility(new.node, old_node)
        else:
            found = check_compatibility(old_node, new.node)
        for item in found:
            new_origin, old_origin = (
                (item.reader, item.writer) if direction == "backward" else (item.writer, item.reader)
            )
            new_node_is_union = isinstance(self._node_at(new_origin), Union) or self._is_branch(new_origin)
            rule_id = _rule_for(item, direction, new_node_is_union)
            where = ".".join(item.path) or (new.top.name if new.top else new.path)
            old_position = old.catalog.locate(old_origin)
            was = f"{old_origin.file}:{old_position.line} at {old.label}"
            effect = (
                "the new schema cannot read data written with"
                if direction == "backward"
                else "readers still on it cannot read data written with the new one; compared with"
            )
            self.finding(
                new_origin,
                rule_id,
                f"{where}: {item.message}; {effect} {was}. Fix: {_fix(rule_id)}",
            )
        if not found:
            self.cross_check(new, old, direction)

    def cross_check(self, new: SchemaFile, old: Version, direction: str) -> None:
        """Let the Apache checker overrule a 'compatible' verdict, as a safety net."""
        assert new.node is not None and old.schema_file.node is not None
        try:
            new_schema = avro.schema.parse(dumps(to_json(new.node, expand=True)))
            old_schema = avro.schema.parse(dumps(to_json(old.schema_file.node, expand=True)))
        except (avro.errors.AvroException, ValueError, TypeError):
            return  # the Apache parser rejects something Java accepts (e.g. `error` types)
        reader, writer = (new_schema, old_schema) if direction == "backward" else (old_schema, new_schema)
        result = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)  # type: ignore[no-untyped-call]
        if result.compatibility is SchemaCompatibilityType.incompatible and new.top is not None:
            details = "; ".join(sorted(result.messages))
            self.finding(
                Origin(new.path, "/name"),
                "INCOMPATIBLE",
                f"the Apache Avro checker finds {new.top.fullname} {direction}-incompatible with {old.label}: "
                f"{details} at {', '.join(sorted(result.locations))}",
            )

    def _node_at(self, origin: Origin) -> object:
        schema_file = self.current.files.get(origin.file)
        if schema_file is None or schema_file.node is None:
            return None
        return _find_node(schema_file.node, origin)

    def _is_branch(self, origin: Origin) -> bool:
        parent_pointer, _, last = origin.pointer.rpartition("/")
        if not last.isdigit():
            return False
        return isinstance(self._node_at(Origin(origin.file, parent_pointer)), Union)


def _find_node(root: object, origin: Origin) -> object:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Ref):
            stack.append(node.target)
            continue
        if getattr(node, "origin", None) == origin:
            return node
        if isinstance(node, Record):
            stack.extend(f.type for f in node.fields)
        elif isinstance(node, Array):
            stack.append(node.items)
        elif isinstance(node, Map):
            stack.append(node.values)
        elif isinstance(node, Union):
            stack.extend(node.branches)
    return None


def _canonical(schema_file: SchemaFile) -> str:
    assert schema_file.node is not None
    return dumps(to_json(schema_file.node, expand=True))


def changed_subjects(current: Catalog, baseline: Catalog) -> set[str]:
    """Subjects whose schema differs between `baseline` and `current` (or exist only at the baseline)."""
    now = current.by_subject()
    changed = set()
    for subject, old in baseline.by_subject().items():
        new = now.get(subject)
        if new is None or _canonical(new) != _canonical(old):
            changed.add(subject)
    return changed


def compare(
    current: Catalog,
    history: Mapping[str, Sequence[Version]],
    config: Config,
    *,
    baseline_label: str,
    baseline: Catalog | None = None,
) -> BreakingReport:
    """Compare every schema of `current` with its earlier versions.

    `history` maps a registry subject to its distinct earlier versions, oldest first; the
    last one is the baseline (the version at the ref, or the registry's latest). `baseline`,
    when given, is the whole catalog at the ref, so that unreadable earlier versions are
    reported rather than silently skipped.
    """
    _check_approvals(config.breaking.approve)
    comparison = _Comparison(current, config)
    report = BreakingReport(checked=sorted(f.path for f in current))
    comparison.findings.extend(problem_findings(current, current.problems(include_warnings=False), comparison.subjects))
    present = current.by_subject()
    by_name = current.by_fullname()
    if baseline is not None:
        _unreadable_baselines(comparison, baseline, baseline_label)
    for subject, versions in sorted(history.items()):
        if not versions:
            continue
        latest = versions[-1]
        new = present.get(subject)
        if new is None:
            _subject_gone(comparison, latest, by_name, baseline_label)
            continue
        level = config.compatibility.level(subject)
        directions, transitive = directions_for(level)
        if level == "NONE" or _canonical(new) == _canonical(latest.schema_file):
            continue
        report.compared += 1
        _key_rule(comparison, new, latest, baseline_label)
        targets = list(reversed(versions)) if transitive else [latest]
        for version in targets:
            for direction in directions:
                comparison.compare_versions(new, version, direction)
    findings = normalize(comparison.findings)
    return _apply_approvals(report, findings, config.breaking.approve, by_name)


def _unreadable_baselines(comparison: _Comparison, baseline: Catalog, label: str) -> None:
    for old in baseline:
        new = comparison.current.files.get(old.path)
        if old.ok or new is None or not new.ok:
            continue
        problem = next((p for p in old.problems if p.fatal), None)
        reason = f"{problem.rule} {problem.message}" if problem else "it does not parse"
        comparison.finding(
            Origin(new.path, ""),
            "BASELINE_INVALID",
            f"the version of {old.path} at {label} is not a valid schema ({reason}), so this change cannot be "
            "checked against it; review it by hand and approve it, or fix the history",
        )


def _subject_gone(comparison: _Comparison, latest: Version, by_name: Mapping[str, SchemaFile], label: str) -> None:
    old = latest.schema_file
    assert old.top is not None
    subject = old.subject or old.top.fullname
    if comparison.config.compatibility.level(subject) == "NONE":
        return
    unreadable = comparison.current.files.get(old.path)
    if unreadable is not None and not unreadable.ok:
        return  # the file is still there but does not parse: its input finding says so
    moved = by_name.get(old.top.fullname)
    if moved is not None and moved.topic != old.topic:
        comparison.finding(
            Origin(moved.path, "/tradewire.topic" if moved.topic else "/name"),
            "TOPIC_CHANGED",
            f"{old.top.name} moved from topic {old.topic!r} (at {label}) to {moved.topic!r}; consumers of the old "
            "topic stop receiving it. Instead, add a new event type for the new topic",
            key=True,
        )
        return
    comparison.findings.append(
        Finding(
            old.path,
            1,
            1,
            "SCHEMA_REMOVED",
            f"{old.top.fullname} (subject {subject}) exists at {label} but no schema defines it now; "
            "agents may still produce or consume it. Instead, deprecate it first and approve the "
            "removal in tradewire.yaml once nothing uses it",
            "",
            subject,
        )
    )


def _key_rule(comparison: _Comparison, new: SchemaFile, latest: Version, label: str) -> None:
    old = latest.schema_file
    assert new.top is not None
    if old.key_field != new.key_field and old.key_field is not None:
        comparison.finding(
            Origin(new.path, "/tradewire.key" if new.key_field else "/name"),
            "KEY_CHANGED",
            f"{new.top.name} is now keyed by {new.key_field!r} instead of {old.key_field!r} (at {label}); events "
            "of one entity may be reordered across the switch. Instead, keep the key or introduce a new event type",
            key=True,
        )


def _check_approvals(approvals: Iterable[Approval]) -> None:
    known = {r.id for r in RULES if r.check == "breaking"}
    for approval in approvals:
        if approval.rule not in known:
            raise ConfigError(
                f"breaking.approve: {approval.rule!r} is not a breaking rule (see `tradewire rules --check breaking`)"
            )


def _apply_approvals(
    report: BreakingReport,
    findings: list[Finding],
    approvals: Sequence[Approval],
    present: Mapping[str, SchemaFile],
) -> BreakingReport:
    fullnames = {f.path: name for name, f in present.items()}
    used: set[int] = set()
    for finding in findings:
        names = {finding.path, finding.subject, fullnames.get(finding.path, "")} - {""}
        match = next(
            (
                index
                for index, approval in enumerate(approvals)
                if approval.rule == finding.rule_id and approval.schema in names and approval.at == finding.json_path
            ),
            None,
        )
        if match is None:
            report.findings.append(finding)
        else:
            used.add(match)
            report.approved.append((finding, approvals[match]))
    report.unused_approvals = [a for i, a in enumerate(approvals) if i not in used]
    return report


def history_from_catalogs(catalogs: Sequence[tuple[str, Catalog]]) -> dict[str, list[Version]]:
    """Distinct versions of every subject across catalogs given oldest first.

    A version reappearing later (a revert) is not a new version, as in the registry; the
    last catalog's version of each subject is moved to the end, since it is the baseline,
    and subjects absent from the last catalog are dropped (removed earlier, already judged).
    """
    history: dict[str, list[Version]] = {}
    for label, catalog in catalogs:
        for subject, schema_file in catalog.by_subject().items():
            versions = history.setdefault(subject, [])
            text = _canonical(schema_file)
            if all(_canonical(v.schema_file) != text for v in versions):
                versions.append(Version(label, catalog, schema_file))
    if not catalogs:
        return history
    label, last = catalogs[-1]
    latest = last.by_subject()
    for subject in list(history):
        if subject not in latest:
            del history[subject]
            continue
        text = _canonical(latest[subject])
        history[subject] = [v for v in history[subject] if _canonical(v.schema_file) != text]
        history[subject].append(Version(label, last, latest[subject]))
    return history
