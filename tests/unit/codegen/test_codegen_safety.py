"""Schemas are untrusted input: no injection, clear refusals, and `generate --check` for CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tradewire.avro.catalog import Catalog
from tradewire.avro.reflect import schema_of
from tradewire.cli import main
from tradewire.config import parse_config
from tradewire.errors import CodegenError
from tradewire_codegen import generate_sources

HERE = Path(__file__).resolve().parent
HOSTILE = HERE / "schemas/showcase/showcase.hostile.text.avsc"


def test_hostile_docs_and_defaults_cannot_run_code(tmp_path: Path) -> None:
    """Importing code generated from a schema full of quotes, backslashes and newlines runs nothing."""
    script = "import showcase_contracts.showcase as m; print(m.HostileText.__avro_name__)"
    golden = HERE / "golden"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(golden), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "showcase.showcase.HostileText\n") == (completed.returncode, completed.stdout), completed.stderr
    assert [] == list(tmp_path.iterdir())


def test_hostile_text_survives_exactly() -> None:
    """Docs and string defaults with every awkward character come back unchanged."""
    from showcase_contracts.showcase import HostileText

    source = json.loads(HOSTILE.read_text(encoding="utf-8"))
    reflected = schema_of(HostileText)
    assert source["doc"] == reflected["doc"]
    assert [f["doc"] for f in source["fields"]] == [f["doc"] for f in reflected["fields"]]
    assert source["fields"][1]["default"] == HostileText.__dataclass_fields__["note"].default


def _catalog(*schemas: dict[str, object]) -> Catalog:
    texts = {f"schemas/x/type{index}.avsc": json.dumps(schema) for index, schema in enumerate(schemas)}
    return Catalog.from_texts(texts)


def _generate(*schemas: dict[str, object]) -> dict[str, str]:
    config = parse_config({"version": "v1", "namespace": "tw"}, Path("/nonexistent"))
    return generate_sources(_catalog(*schemas), config)


def _record(name: str, fields: list[dict[str, object]], namespace: str = "tw.x") -> dict[str, object]:
    return {"type": "record", "name": name, "namespace": namespace, "fields": fields}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            _record("Thing", [{"name": "to_avro", "type": "string"}]),
            "field 'to_avro' would shadow the generated method",
        ),
        (_record("Thing", [{"name": "_secret", "type": "string"}]), "field '_secret' starts with an underscore"),
        (_record("Thing", [{"name": "str", "type": "string"}]), "field 'str' would shadow a type used in annotations"),
        (_record("str", [{"name": "a", "type": "string"}]), "type 'str' would shadow a Python builtin"),
        (
            _record("Thing", [{"name": "a", "type": "string"}], namespace="elsewhere"),
            "namespaces of the form tw.<module>",
        ),
        (
            _record("Thing", [{"name": "class", "type": "int"}, {"name": "class_", "type": "int"}]),
            "fields collide on the Python name 'class_'",
        ),
        (
            {"type": "enum", "name": "E", "namespace": "tw.x", "symbols": ["None", "None_"]},
            "symbols 'None_' and 'None_' collide|symbols 'None' and 'None_' collide",
        ),
        (
            _record("Thing", [{"name": "u", "type": [{"type": "enum", "name": "E", "symbols": ["A"]}, "string"]}]),
            "a union of an enum with another enum or a string",
        ),
    ],
    ids=[
        "method-name",
        "underscore",
        "builtin-field",
        "builtin-type",
        "foreign-namespace",
        "mangled-clash",
        "symbol-clash",
        "enum-string-union",
    ],
)
def test_schemas_codegen_cannot_express_are_refused_with_a_reason(schema: dict[str, object], message: str) -> None:
    """A schema that would generate unsafe or ambiguous Python raises CodegenError saying why."""
    with pytest.raises(CodegenError, match=message):
        _generate(schema)


def test_invalid_schemas_are_refused_before_generation() -> None:
    """Generation stops on a schema with a fatal problem and names it."""
    broken = _record("Thing", [{"name": "a", "type": "Missing"}])
    with pytest.raises(CodegenError, match="UNKNOWN_TYPE unknown type 'Missing'"):
        _generate(broken)


def test_namespaces_that_import_each_other_are_refused() -> None:
    """Two namespace modules referencing each other would be a circular import, so codegen refuses."""
    first = _record("A", [{"name": "b", "type": ["null", "tw.y.B"], "default": None}], namespace="tw.x")
    second = _record(
        "B",
        [{"name": "c", "type": {"type": "record", "name": "C", "namespace": "tw.x", "fields": []}}],
        namespace="tw.y",
    )
    with pytest.raises(CodegenError, match="namespaces reference each other in a cycle"):
        _generate(second, first)


@pytest.fixture
def contracts_repo(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the repository's schemas and config, with contracts generated into it."""
    (tmp_path / "tradewire.yaml").write_text((repo_root / "tradewire.yaml").read_text(encoding="utf-8"))
    for path in (repo_root / "schemas").rglob("*.avsc"):
        target = tmp_path / path.relative_to(repo_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"))
    assert 0 == main(["--config", str(tmp_path / "tradewire.yaml"), "generate"])
    return tmp_path


def test_check_passes_on_fresh_output(contracts_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """generate --check exits 0 when the generated files match the schemas."""
    capsys.readouterr()
    assert 0 == main(["--config", str(contracts_repo / "tradewire.yaml"), "generate", "--check"])
    assert "" == capsys.readouterr().out


def test_check_names_every_stale_file_and_leaves_hand_written_files_alone(
    contracts_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An edited module and a leftover generated module are named; a hand-written module is not."""
    out = contracts_repo / "src/tradewire/contracts"
    trading = out / "trading.py"
    trading.write_text(trading.read_text(encoding="utf-8") + "# edited by hand\n")
    leftover = out / "retired.py"
    leftover.write_text((out / "agent.py").read_text(encoding="utf-8"))
    helper = out / "helpers.py"
    helper.write_text('"""Hand-written."""\n')
    capsys.readouterr()
    assert 100 == main(["--config", str(contracts_repo / "tradewire.yaml"), "generate", "--check"])
    reported = capsys.readouterr().out.splitlines()
    assert [
        "src/tradewire/contracts/trading.py: out of date; run `tradewire generate`",
        "src/tradewire/contracts/retired.py: out of date; run `tradewire generate`",
    ] == reported
    assert 0 == main(["--config", str(contracts_repo / "tradewire.yaml"), "generate"])
    assert (False, True) == (leftover.exists(), helper.exists())
    assert 0 == main(["--config", str(contracts_repo / "tradewire.yaml"), "generate", "--check"])
