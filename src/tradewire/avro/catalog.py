"""A set of `.avsc` files parsed together, so that names can cross files.

Every event schema references the shared metadata defined in `schemas/common/` by
name; the catalog resolves such names across files (they become Confluent schema
references), orders files so that dependencies come first, and keeps every problem
with the file and JSON pointer where it arises.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewire.avro.model import Array, AvroType, Map, Named, Origin, Record, Ref, Union
from tradewire.avro.parse import InvalidSchema, Problem, SchemaParser, UnionDefaultRule, qualify
from tradewire.avro.sourcemap import JsonSyntaxError, Position, SourceMap, join_pointer, parse_json

__all__ = ["MAX_TYPE_DEPTH", "Catalog", "SchemaFile"]

MAX_TYPE_DEPTH = 128
"""The deepest nesting of types a schema may have, counting through the types it references.

Every walker of the model (compatibility, canonical forms, code generation, serialisation)
recurses once or a few times per level; this bound keeps them far from Python's recursion
limit. A single file's JSON is bounded separately (256 levels, `sourcemap`)."""
_MAX_NESTED_BUILDS = 32
"""How many files deep parsing may recurse through references while a cycle is being found."""
TOPIC_ATTRIBUTE = "tradewire.topic"
KEY_ATTRIBUTE = "tradewire.key"


@dataclass(eq=False)
class SchemaFile:
    """One `.avsc` file: its text, JSON, source map, parsed top-level type and problems."""

    path: str
    text: str
    value: Any = None
    sourcemap: SourceMap | None = None
    node: AvroType | None = None
    problems: list[Problem] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    building: bool = False

    @property
    def top(self) -> Named | None:
        """The named type this file defines at top level, when it parsed."""
        return self.node if isinstance(self.node, Named) else None

    @property
    def ok(self) -> bool:
        """Whether the file parsed without a fatal problem."""
        return self.node is not None

    @property
    def topic(self) -> str | None:
        """The Kafka topic an event schema declares, if any."""
        top = self.top
        value = top.props.get(TOPIC_ATTRIBUTE) if isinstance(top, Record) else None
        return value if isinstance(value, str) else None

    @property
    def key_field(self) -> str | None:
        """The field an event schema declares as its partition key, if any."""
        top = self.top
        value = top.props.get(KEY_ATTRIBUTE) if isinstance(top, Record) else None
        return value if isinstance(value, str) else None

    @property
    def subject(self) -> str | None:
        """The registry subject: `<topic>-value` for events, the full name for shared types."""
        if self.topic is not None:
            return f"{self.topic}-value"
        return self.top.fullname if self.top is not None else None


class Catalog:
    """Schema files parsed together; build one with `from_texts` or `from_directory`."""

    def __init__(self, texts: Mapping[str, str], union_default: UnionDefaultRule = "first") -> None:
        self.files: dict[str, SchemaFile] = {path: SchemaFile(path, texts[path]) for path in sorted(texts)}
        self.union_default: UnionDefaultRule = union_default
        self.types: dict[str, Named] = {}
        self.definitions: dict[str, str] = {}
        self._nested_builds = 0
        for schema_file in self.files.values():
            self._load_json(schema_file)
        for schema_file in self._acyclic_build_order():
            self._build(schema_file)  # dependencies first: long reference chains need no recursion
        for schema_file in self.files.values():
            self._build(schema_file)  # the rest (files reaching a reference cycle), in path order
        self._check_depths()

    @classmethod
    def from_texts(cls, texts: Mapping[str, str], union_default: UnionDefaultRule = "first") -> Catalog:
        """Parse files given as `{repository-relative path: text}`."""
        return cls(texts, union_default)

    @classmethod
    def from_directory(cls, repo_root: Path, schemas_dir: str) -> Catalog:
        """Parse every `*.avsc` below `repo_root / schemas_dir`."""
        base = repo_root / schemas_dir
        texts = {
            path.relative_to(repo_root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(base.rglob("*.avsc"))
        }
        return cls(texts)

    # -- queries -------------------------------------------------------------------
    def __iter__(self) -> Iterator[SchemaFile]:
        return iter(self.files.values())

    def problems(self, *, include_warnings: bool = True) -> list[Problem]:
        """Every problem of every file (consequences of a problem reported elsewhere left out)."""
        return [
            problem
            for schema_file in self.files.values()
            for problem in schema_file.problems
            if problem.primary and (include_warnings or problem.fatal)
        ]

    def locate(self, origin: Origin, *, key: bool = False) -> Position:
        """Line and column of a node's origin (of its key, when `key` and it has one)."""
        schema_file = self.files.get(origin.file)
        if schema_file is None or schema_file.sourcemap is None:
            return Position(1, 1)
        if key:
            return schema_file.sourcemap.locate_key(origin.pointer)
        return schema_file.sourcemap.locate(origin.pointer)

    def file_of(self, named: Named) -> SchemaFile:
        """The file where `named` is defined."""
        return self.files[named.origin.file]

    def by_fullname(self) -> dict[str, SchemaFile]:
        """Files that parsed, keyed by the full name of their top-level type."""
        return {f.top.fullname: f for f in self.files.values() if f.top is not None}

    def by_subject(self) -> dict[str, SchemaFile]:
        """Files that parsed, keyed by their registry subject."""
        return {f.subject: f for f in self.files.values() if f.subject is not None}

    def dependency_order(self, files: Iterable[SchemaFile] | None = None) -> list[SchemaFile]:
        """Parsed files, each after the files it references: files are visited in path order and
        each one's dependencies are placed before it in the order it first uses them."""
        wanted = list(self.files.values() if files is None else files)
        ordered: list[SchemaFile] = []
        seen: set[str] = set()

        def visit(schema_file: SchemaFile) -> None:
            if schema_file.path in seen or not schema_file.ok:
                return
            seen.add(schema_file.path)
            for dependency in schema_file.dependencies:
                visit(self.files[dependency])
            ordered.append(schema_file)

        for schema_file in sorted(wanted, key=lambda f: f.path):
            visit(schema_file)
        return ordered

    def closure(self, schema_file: SchemaFile) -> list[SchemaFile]:
        """`schema_file` and everything it references, dependencies first."""
        ordered: list[SchemaFile] = []

        def visit(current: SchemaFile) -> None:
            if current in ordered:
                return
            for dependency in current.dependencies:
                visit(self.files[dependency])
            ordered.append(current)

        visit(schema_file)
        return ordered

    # -- building --------------------------------------------------------------------
    def _acyclic_build_order(self) -> list[SchemaFile]:
        """Files no reference cycle is reachable from, each after the files it (probably) references.

        References are estimated from the names written in type positions before anything is
        parsed; building in this order means a lookup always finds its target already built, so
        a chain of references of any length parses without recursing from file to file. Files
        that reach a cycle are left to the path-order pass, which reports the cycle as before.
        """
        edges = {
            path: sorted(
                {
                    self.definitions[name]
                    for name in _referenced_names(schema_file.value)
                    if name in self.definitions and self.definitions[name] != path
                }
            )
            for path, schema_file in self.files.items()
        }
        ordered: list[SchemaFile] = []
        reaches_cycle: set[str] = set()
        for component in _components_dependencies_first(edges):
            targets = {target for path in component for target in edges[path]}
            if len(component) > 1 or targets & reaches_cycle:
                reaches_cycle.update(component)
            else:
                ordered.append(self.files[component[0]])
        return ordered

    def _check_depths(self) -> None:
        """Make every file nesting types deeper than MAX_TYPE_DEPTH unusable, with an INVALID_AVRO problem
        (a consequence, not reported again, when a file it references is too deep already)."""
        memo: dict[int, int] = {}
        too_deep: set[str] = set()
        for schema_file in self.files.values():
            if schema_file.node is None:
                continue
            depth = _type_depth(schema_file.node, memo)
            if depth <= MAX_TYPE_DEPTH:
                continue
            too_deep.add(schema_file.path)
            schema_file.problems.append(
                Problem(
                    "INVALID_AVRO",
                    Origin(schema_file.path, ""),
                    f"types nest {depth} levels deep (counting the types it references); "
                    f"at most {MAX_TYPE_DEPTH} are allowed",
                    primary=not too_deep.intersection(schema_file.dependencies),
                )
            )
            schema_file.node = None

    def _load_json(self, schema_file: SchemaFile) -> None:
        try:
            schema_file.value, schema_file.sourcemap = parse_json(schema_file.text)
        except JsonSyntaxError as error:
            schema_file.problems.append(
                Problem("INVALID_JSON", Origin(schema_file.path, ""), f"invalid JSON: {error.reason}")
            )
            schema_file.sourcemap = SourceMap({"": error.position}, {})
            return
        for fullname, pointer in _definitions(schema_file.value, "", ""):
            first = self.definitions.setdefault(fullname, schema_file.path)
            if first != schema_file.path:
                schema_file.problems.append(
                    Problem(
                        "DUPLICATE_TYPE",
                        Origin(schema_file.path, join_pointer(pointer, "name")),
                        f"type {fullname!r} is already defined in {first}",
                    )
                )

    def _build(self, schema_file: SchemaFile) -> None:
        if schema_file.ok or schema_file.building or any(p.fatal for p in schema_file.problems):
            return
        schema_file.building = True
        self._nested_builds += 1
        parser = SchemaParser(schema_file.path, self._lookup_from(schema_file), self.union_default)
        try:
            node = parser.parse(schema_file.value)
        except InvalidSchema as invalid:
            schema_file.problems.append(invalid.problem)
        else:
            schema_file.node = node
            self.types.update(parser.defined)
        finally:
            schema_file.building = False
            self._nested_builds -= 1
        schema_file.problems.extend(parser.warnings)

    def _lookup_from(self, schema_file: SchemaFile) -> Any:
        def lookup(fullname: str, origin: Origin) -> Named | None:
            path = self.definitions.get(fullname)
            if path is None or path == schema_file.path:
                return None
            other = self.files[path]
            if other.building:
                raise InvalidSchema(
                    Problem(
                        "REFERENCE_CYCLE",
                        origin,
                        f"{schema_file.path} and {path} reference each other; "
                        "registry references must not form a cycle",
                    )
                )
            if not other.ok and self._nested_builds >= _MAX_NESTED_BUILDS:
                raise InvalidSchema(
                    Problem(
                        "REFERENCE_CYCLE",
                        origin,
                        f"{schema_file.path} reaches a reference cycle through more than {_MAX_NESTED_BUILDS} files",
                    )
                )
            self._build(other)
            target = self.types.get(fullname)
            if target is None:
                in_cycle = any(p.rule == "REFERENCE_CYCLE" for p in other.problems)
                raise InvalidSchema(
                    Problem(
                        "REFERENCE_CYCLE" if in_cycle else "UNKNOWN_TYPE",
                        origin,
                        f"{path} is part of a reference cycle"
                        if in_cycle
                        else f"type {fullname!r} is defined in {path}, which is not a valid schema",
                        primary=not in_cycle,
                    )
                )
            if path not in schema_file.dependencies:
                schema_file.dependencies.append(path)
            return target

        return lookup


def _children(node: AvroType) -> list[AvroType]:
    if isinstance(node, Record):
        return [field_.type for field_ in node.fields]
    if isinstance(node, Array):
        return [node.items]
    if isinstance(node, Map):
        return [node.values]
    if isinstance(node, Union):
        return list(node.branches)
    if isinstance(node, Ref):
        return [node.target]
    return []


def _type_depth(root: AvroType, memo: dict[int, int]) -> int:
    """How many types deep `root` nests, following references (a reference is no level of its own;
    a recursive reference adds nothing). Without recursion; `memo` is shared between calls."""
    in_progress: set[int] = set()
    work: list[tuple[AvroType, bool]] = [(root, False)]
    while work:
        node, expanded = work.pop()
        key = id(node)
        if expanded:
            in_progress.discard(key)
            below = max((memo.get(id(child), 0) for child in _children(node)), default=0)
            memo[key] = below + (0 if isinstance(node, Ref) else 1)
            continue
        if key in memo or key in in_progress:
            continue
        in_progress.add(key)
        work.append((node, True))
        work.extend((child, False) for child in _children(node) if id(child) not in memo)
    return memo[id(root)]


def _referenced_names(value: Any) -> set[str]:
    """Full names a schema JSON value may use in a type position (a superset of what it uses)."""
    names: set[str] = set()
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:
        current, namespace = pending.pop()
        if isinstance(current, str):
            names.update({qualify(current, namespace), current})
        elif isinstance(current, list):
            pending.extend((branch, namespace) for branch in current)
        elif isinstance(current, dict):
            kind, name, space = current.get("type"), current.get("name"), namespace
            if kind in ("record", "error", "enum", "fixed") and isinstance(name, str):
                explicit = current.get("namespace")
                fullname = name if "." in name else qualify(name, explicit if isinstance(explicit, str) else namespace)
                space = fullname.rpartition(".")[0]
            elif isinstance(kind, (str, dict, list)):
                pending.append((kind, namespace))
            fields = current.get("fields")
            if kind in ("record", "error") and isinstance(fields, list):
                pending.extend((f.get("type"), space) for f in fields if isinstance(f, dict))
            pending.extend((current[key], space) for key in ("items", "values") if key in current)
    return names


def _components_dependencies_first(edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of a graph (Tarjan's algorithm, without recursion), each after
    every component it has an edge to."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, next_edge = work.pop()
            if next_edge == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if next_edge < len(targets):
                work.append((node, next_edge + 1))
                target = targets[next_edge]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _definitions(value: Any, pointer: str, namespace: str) -> Iterator[tuple[str, str]]:
    """Yield (full name, pointer) of every named type defined in a schema JSON value."""
    if isinstance(value, list):
        for index, branch in enumerate(value):
            yield from _definitions(branch, join_pointer(pointer, index), namespace)
        return
    if not isinstance(value, dict):
        return
    kind = value.get("type")
    name = value.get("name")
    space = namespace
    if kind in ("record", "error", "enum", "fixed") and isinstance(name, str):
        explicit = value.get("namespace")
        if "." in name:
            fullname = name
        elif isinstance(explicit, str):
            fullname = qualify(name, explicit)
        else:
            fullname = qualify(name, namespace)
        space = fullname.rpartition(".")[0]
        yield fullname, pointer
    if isinstance(kind, (dict, list)):
        yield from _definitions(kind, join_pointer(pointer, "type"), space)
    fields = value.get("fields")
    if kind in ("record", "error") and isinstance(fields, list):
        for index, field_value in enumerate(fields):
            if isinstance(field_value, dict):
                yield from _definitions(field_value.get("type"), join_pointer(pointer, "fields", index, "type"), space)
    for key in ("items", "values"):
        if kind in ("array", "map") and key in value:
            yield from _definitions(value[key], join_pointer(pointer, key), space)
