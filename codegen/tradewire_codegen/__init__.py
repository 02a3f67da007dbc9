"""The tradewire code generator: Avro contracts in `schemas/` to typed Python classes.

`generate_sources` is pure (catalog in, `{path: source}` out) and byte-for-byte
deterministic: classes in dependency order, sorted imports, no timestamps. `write`
puts the files in place and removes generated files that no schema produces any more;
`stale` lists what `write` would change, for `tradewire generate --check`.
"""

from __future__ import annotations

import keyword
from pathlib import Path

from tradewire.avro.catalog import Catalog
from tradewire.avro.model import Fixed, Named
from tradewire.avro.pynames import python_name_problem
from tradewire.config import Config
from tradewire.errors import CodegenError
from tradewire_codegen.literals import string_literal
from tradewire_codegen.module import HEADER, ModulePlan, definitions, first_party_imports, render_module
from tradewire_codegen.typemap import PyName

__all__ = ["HEADER", "generate_sources", "stale", "write"]


def _module_of(named: Named, root: str) -> str:
    namespace = named.namespace
    prefix = root + "."
    module = namespace[len(prefix) :] if namespace.startswith(prefix) else ""
    if not module.isidentifier() or keyword.iskeyword(module) or module.startswith("_"):
        raise CodegenError(
            f"{named.fullname}: codegen needs namespaces of the form {root}.<module> "
            f"(one lowercase identifier), not {namespace or '(none)'!r}"
        )
    return module


def plan_modules(catalog: Catalog, config: Config) -> tuple[dict[str, ModulePlan], dict[str, PyName]]:
    """Assign every named type to a module and a Python name."""
    fatal = catalog.problems(include_warnings=False)
    if fatal:
        listing = "; ".join(f"{p.origin.file}: {p.rule} {p.message}" for p in fatal[:5])
        raise CodegenError(f"cannot generate code from invalid schemas (run `tradewire lint`): {listing}")
    plans: dict[str, ModulePlan] = {}
    names: dict[str, PyName] = {}
    for schema_file in catalog.dependency_order():
        assert schema_file.node is not None
        if schema_file.top is None:
            raise CodegenError(f"{schema_file.path}: the top level must be a record, enum or fixed")
        for named in definitions(schema_file.node, schema_file.path):
            module = _module_of(named, config.namespace)
            problem = python_name_problem("type", named.name)
            if problem:
                raise CodegenError(f"{schema_file.path}: {problem}")
            is_fixed = isinstance(named, Fixed)
            names[named.fullname] = PyName(module, named.name, schema_file.path, named is schema_file.top, is_fixed)
            plan = plans.setdefault(module, ModulePlan(module, named.namespace, [], []))
            plan.types.append((named, schema_file))
            if schema_file not in plan.files:
                plan.files.append(schema_file)
    return plans, names


def generate_sources(catalog: Catalog, config: Config) -> dict[str, str]:
    """`{repository-relative path: source}` of every generated file."""
    plans, names = plan_modules(catalog, config)
    package = config.contracts.package
    out = config.contracts.out.rstrip("/")
    sources: dict[str, str] = {}
    imports: dict[str, set[str]] = {}
    for module in sorted(plans):
        text = render_module(plans[module], names, package)
        sources[f"{out}/{module}.py"] = text
        imports[module] = {m for m in plans if f"from {package}.{m} import" in text}
    _refuse_cycles(imports)
    sources[f"{out}/__init__.py"] = _render_package(plans, names, package, catalog)
    return sources


def _refuse_cycles(imports: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == 2:
            return
        if state.get(module) == 1:
            cycle = [*trail[trail.index(module) :], module]
            raise CodegenError(
                f"namespaces reference each other in a cycle ({' -> '.join(cycle)}); "
                "move the shared types to a common namespace"
            )
        state[module] = 1
        for dependency in sorted(imports[module]):
            visit(dependency, [*trail, module])
        state[module] = 2

    for module in sorted(imports):
        visit(module, [])


def _render_package(plans: dict[str, ModulePlan], names: dict[str, PyName], package: str, catalog: Catalog) -> str:
    counts: dict[str, int] = {}
    for target in names.values():
        counts[target.name] = counts.get(target.name, 0) + 1
    events: list[tuple[str, str]] = []
    lines = [
        HEADER,
        '"""Typed event contracts generated from the Avro schemas (do not edit).',
        "",
        "Import event classes from here; `EVENTS` lists every event type and `BY_TOPIC` finds",
        "the class of a topic. Names defined in several namespaces are only importable from",
        "their own module.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    exported: list[str] = []
    classes: dict[str, set[str]] = {}
    for module in sorted(plans):
        module_names = [
            names[named.fullname].name for named, _ in plans[module].types if counts[names[named.fullname].name] == 1
        ]
        if module_names:
            exported.extend(module_names)
            classes[module] = set(module_names)
    lines.extend(first_party_imports({"record"}, classes, package))
    for schema_file in catalog.dependency_order():
        top = schema_file.top
        if top is not None and schema_file.topic is not None and counts[names[top.fullname].name] == 1:
            events.append((schema_file.topic, names[top.fullname].name))
    everything = sorted([*exported, "BY_TOPIC", "EVENTS"], key=_all_order)
    lines.append("")
    lines.append("__all__ = [")
    lines.extend(f"    {string_literal(name)}," for name in everything)
    lines.append("]")
    lines.append("")
    lines.append("EVENTS: tuple[type[_record.Event], ...] = (")
    lines.extend(f"    {name}," for _, name in sorted(events))
    lines.append(")")
    lines.append('"""Every event type, ordered by topic."""')
    lines.append("")
    lines.append("BY_TOPIC: dict[str, type[_record.Event]] = {event.TOPIC: event for event in EVENTS}")
    lines.append('"""The event type carried by each topic."""')
    return "\n".join(lines) + "\n"


def _all_order(name: str) -> tuple[int, str]:
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def _is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") == HEADER
    except OSError:
        return False


def stale(sources: dict[str, str], root: Path, out: str) -> list[str]:
    """Paths whose content differs from `sources`, plus generated files no schema produces."""
    changed = []
    for path, text in sorted(sources.items()):
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            changed.append(path)
    out_dir = root / out
    if out_dir.is_dir():
        for candidate in sorted(out_dir.glob("*.py")):
            relative = candidate.relative_to(root).as_posix()
            if relative not in sources and _is_generated(candidate):
                changed.append(relative)
    return changed


def write(sources: dict[str, str], root: Path, out: str) -> list[str]:
    """Write `sources` below `root`; delete generated files no schema produces. Returns changed paths."""
    changed = stale(sources, root, out)
    for path in changed:
        target = root / path
        if path in sources:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(sources[path], encoding="utf-8", newline="\n")
        else:
            target.unlink()
    return changed
