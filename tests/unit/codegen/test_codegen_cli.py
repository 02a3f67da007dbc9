"""`tradewire generate` refuses schemas it cannot use with the findings exit code, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradewire.cli import main

EXIT_FINDINGS = 100
SIGNAL = "schemas/trading/trading.signals.generated.avsc"


@pytest.fixture
def schemas_repo(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the repository's schemas and config, with nothing generated yet."""
    (tmp_path / "tradewire.yaml").write_text((repo_root / "tradewire.yaml").read_text(encoding="utf-8"))
    for path in (repo_root / "schemas").rglob("*.avsc"):
        target = tmp_path / path.relative_to(repo_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"))
    return tmp_path


def generate(repo: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str, bool]:
    """Exit code, stdout, stderr (one line) of `tradewire generate`, and whether it wrote anything."""
    capsys.readouterr()
    code = main(["--config", str(repo / "tradewire.yaml"), "generate", *options])
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split()), (repo / "src").exists()


@pytest.mark.parametrize("options", [(), ("--check",)], ids=["generate", "check"])
def test_an_invalid_schema_is_refused_with_its_finding(
    schemas_repo: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, ...]
) -> None:
    """A schema that is not JSON gives its INVALID_JSON finding, exit 100 (not 1) and no generated file."""
    (schemas_repo / "schemas/trading/draft.avsc").write_text('{"type": "record", "name": "Draft",\n')
    assert (
        EXIT_FINDINGS,
        "schemas/trading/draft.avsc:2:1: INVALID_JSON invalid JSON: expected a double-quoted property name\n",
        "1 finding(s) in 1 file(s): nothing generated (see `tradewire lint`)",
        False,
    ) == generate(schemas_repo, capsys, *options)


def test_an_oversized_schema_is_refused_before_any_code_is_generated(
    schemas_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 5 MB doc (which took 28 s to generate into a 10.5 MB module) is a SCHEMA_TOO_LARGE finding:
    exit 100 and nothing written."""
    signal = json.loads((schemas_repo / SIGNAL).read_text(encoding="utf-8"))
    signal["doc"] = "x" * 5_000_000
    text = json.dumps(signal, indent=2)
    (schemas_repo / SIGNAL).write_text(text)
    assert (
        EXIT_FINDINGS,
        f"{SIGNAL}:1:1: SCHEMA_TOO_LARGE the file is {len(text):,} bytes; a schema file may have at most 262,144 "
        "(256 KiB). Keep docs to a few sentences and link to longer documents instead\n",
        "1 finding(s) in 1 file(s): nothing generated (see `tradewire lint`)",
        False,
    ) == generate(schemas_repo, capsys)


def test_a_schema_codegen_cannot_express_exits_100_naming_the_reason(
    schemas_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid schema outside the `<root>.<module>` namespaces cannot become a module: exit 100, the reason
    on stderr, nothing written."""
    outsider = {"type": "record", "name": "Outsider", "namespace": "elsewhere", "doc": "Not ours.", "fields": []}
    (schemas_repo / "schemas/trading/outsider.avsc").write_text(json.dumps(outsider))
    assert (
        EXIT_FINDINGS,
        "",
        "cannot generate code: elsewhere.Outsider: codegen needs namespaces of the form tradewire.<module> "
        "(one lowercase identifier), not 'elsewhere'",
        False,
    ) == generate(schemas_repo, capsys)
