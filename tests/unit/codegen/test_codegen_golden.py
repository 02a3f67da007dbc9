"""The generator's output: golden files, determinism, formatting, and the class -> schema round trip."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tradewire.avro.canonical import fingerprint, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.record import AvroEnum, Contract
from tradewire.avro.reflect import schema_of
from tradewire.config import Config, load_config, parse_config
from tradewire_codegen import generate_sources, stale

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("TRADEWIRE_UPDATE_GOLDEN") == "1"


def showcase_config() -> Config:
    """The configuration the showcase schemas are generated with."""
    return parse_config(
        {
            "version": "v1",
            "namespace": "showcase",
            "contracts": {"out": "golden/showcase_contracts", "package": "showcase_contracts"},
        },
        HERE,
    )


def showcase_catalog() -> Catalog:
    """Every schema under tests/unit/codegen/schemas."""
    return Catalog.from_directory(HERE, "schemas")


def top_level_classes(package: str, catalog: Catalog) -> list[tuple[type, object]]:
    """(generated class, schema node) for every top-level type that is a class."""
    found = []
    for schema_file in catalog.dependency_order():
        assert schema_file.top is not None
        module_name = schema_file.top.namespace.rpartition(".")[2]
        module = importlib.import_module(f"{package}.{module_name}")
        cls = getattr(module, schema_file.top.name)
        if isinstance(cls, type):
            found.append((cls, schema_file.node))
    return found


def test_generated_showcase_matches_the_golden_files() -> None:
    """Generating the showcase schemas reproduces the committed golden package byte for byte."""
    sources = generate_sources(showcase_catalog(), showcase_config())
    if UPDATE:
        for path, text in sources.items():
            (HERE / path).write_text(text, encoding="utf-8")
    golden = {p.relative_to(HERE).as_posix(): p.read_text(encoding="utf-8") for p in GOLDEN.rglob("*.py")}
    assert sorted(golden) == sorted(sources)
    for path, text in sources.items():
        assert golden[path] == text, f"{path} differs from its golden file (TRADEWIRE_UPDATE_GOLDEN=1 refreshes)"


def test_generation_is_deterministic_whatever_the_file_order() -> None:
    """The same schemas read in another order give byte-identical sources."""
    texts = {p.relative_to(HERE).as_posix(): p.read_text(encoding="utf-8") for p in (HERE / "schemas").rglob("*.avsc")}
    forward = generate_sources(Catalog.from_texts(dict(sorted(texts.items()))), showcase_config())
    backward = generate_sources(Catalog.from_texts(dict(sorted(texts.items(), reverse=True))), showcase_config())
    again = generate_sources(showcase_catalog(), showcase_config())
    assert forward == backward == again


def test_repository_contracts_are_up_to_date(repo_root: Path) -> None:
    """src/tradewire/contracts is exactly what the repository's schemas generate."""
    config = load_config(repo_root / "tradewire.yaml")
    sources = generate_sources(Catalog.from_directory(repo_root, config.schemas), config)
    assert [] == stale(sources, repo_root, config.contracts.out)


def test_generated_code_is_already_formatted_and_lint_clean(repo_root: Path) -> None:
    """ruff format and ruff check find nothing to change in the generated packages."""
    ruff = str(Path(sys.executable).parent / "ruff")
    targets = [str(GOLDEN), str(repo_root / "src/tradewire/contracts")]
    formatted = subprocess.run(
        [ruff, "format", "--check", *targets], cwd=repo_root, capture_output=True, text=True, check=False
    )
    assert (0, "") == (formatted.returncode, formatted.stderr), formatted.stdout
    checked = subprocess.run([ruff, "check", *targets], cwd=repo_root, capture_output=True, text=True, check=False)
    assert 0 == checked.returncode, checked.stdout


def test_every_showcase_class_reflects_back_to_its_source_schema() -> None:
    """schema_of(class), built only from type hints, defaults and docs, equals the source schema."""
    catalog = showcase_catalog()
    classes = top_level_classes("showcase_contracts", catalog)
    assert len(classes) >= 4
    for cls, node in classes:
        assert to_json(node) == schema_of(cls), cls.__name__


def test_every_repository_contract_reflects_back_to_its_source_schema(repo_root: Path) -> None:
    """Every generated contract class of the repository reflects back to its .avsc exactly."""
    catalog = Catalog.from_directory(repo_root, "schemas")
    classes = top_level_classes("tradewire.contracts", catalog)
    assert len(catalog.files) == len(classes)
    for cls, node in classes:
        assert to_json(node) == schema_of(cls), cls.__name__


def test_classes_carry_schema_subject_and_fingerprint(repo_root: Path) -> None:
    """Each contract class holds its registry schema text, subject and fingerprint."""
    catalog = Catalog.from_directory(repo_root, "schemas")
    for cls, node in top_level_classes("tradewire.contracts", catalog):
        if issubclass(cls, AvroEnum):
            continue
        assert issubclass(cls, Contract)
        schema_file = catalog.files[cls.__avro_source__]
        assert schema_file.subject == cls.SUBJECT
        assert fingerprint(node) == cls.__avro_fingerprint__
        assert to_json(node) == json.loads(cls.__avro_schema__)


def test_modules_start_with_the_do_not_edit_header_and_source_fingerprints() -> None:
    """Every generated module names its sources with their fingerprints and says not to edit it."""
    sources = generate_sources(showcase_catalog(), showcase_config())
    module = sources["golden/showcase_contracts/common.py"]
    expected_head = [
        "# Generated by tradewire codegen. Do not edit: change the schema and run `tradewire generate`.",
        "# Sources (fingerprint: CRC-64-AVRO of the Parsing Canonical Form):",
    ]
    assert expected_head == module.splitlines()[:2]
    catalog = showcase_catalog()
    for path in ("schemas/common/checksum.avsc", "schemas/common/event_metadata.avsc"):
        node = catalog.files[path].node
        assert node is not None
        assert f"#   {path}  {fingerprint(node)}" in module.splitlines()
