"""The schema files of the working tree as read from disk, and the input checks on their bytes.

Two things are wrong with a file before any parsing: it is larger than `MAX_SCHEMA_BYTES`
(SCHEMA_TOO_LARGE; no real contract comes near, and generating code from a huge one takes
minutes and writes a module of the same size), or it is not UTF-8 (INVALID_JSON, at the
first byte that does not decode: JSON text is UTF-8). Either is an input finding; the file
is still parsed (undecodable bytes replaced), so every other finding is reported as well.
A file that cannot be read at all is a tool failure (`SchemaReadError`), and so is, for a command
that uses schemas without reporting findings (`registry push`), a file with either finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tradewire.avro.catalog import Catalog
from tradewire.errors import TradingSystemError
from tradewire.gate.findings import Finding

__all__ = ["MAX_SCHEMA_BYTES", "SchemaReadError", "SchemaSources", "byte_findings", "read_schema_sources"]

MAX_SCHEMA_BYTES = 256 * 1024
"""256 KiB: the largest contract in this repository is 3 KB; a schema of this size still fits one
registry request (1 MiB) after JSON escaping, which at most doubles it, and one record of the
registry's `_schemas` topic (1 MB by default)."""


class SchemaReadError(TradingSystemError):
    """A schema file cannot be read (permissions, I/O error), or not as the text a schema must be."""


@dataclass(frozen=True, slots=True)
class SchemaSources:
    """Every schema file parsed together, and the findings about their bytes."""

    catalog: Catalog
    findings: tuple[Finding, ...]


def read_schema_sources(repo_root: Path, schemas_dir: str) -> SchemaSources:
    """Read every `*.avsc` file below `repo_root / schemas_dir`, check its bytes, and parse them together."""
    base = repo_root / schemas_dir
    texts: dict[str, str] = {}
    raw: dict[str, bytes] = {}
    for path in sorted(base.rglob("*.avsc")):
        if not path.is_file():
            continue  # a directory named *.avsc holds no schema
        relative = path.relative_to(repo_root).as_posix()
        try:
            data = path.read_bytes()
        except OSError as error:
            raise SchemaReadError(f"cannot read {relative}: {error.strerror or error}") from None
        raw[relative] = data
        texts[relative] = data.decode("utf-8", errors="replace")
    catalog = Catalog.from_texts(texts)
    findings = []
    for relative, data in raw.items():
        schema_file = catalog.files[relative]
        findings.extend(byte_findings(relative, data, schema_file.subject or ""))
    return SchemaSources(catalog, tuple(findings))


def byte_findings(path: str, data: bytes, subject: str = "") -> list[Finding]:
    """SCHEMA_TOO_LARGE and INVALID_JSON (not UTF-8) findings of one file's bytes."""
    findings = []
    if len(data) > MAX_SCHEMA_BYTES:
        findings.append(
            Finding(
                path,
                1,
                1,
                "SCHEMA_TOO_LARGE",
                f"the file is {len(data):,} bytes; a schema file may have at most {MAX_SCHEMA_BYTES:,} "
                "(256 KiB). Keep docs to a few sentences and link to longer documents instead",
                "",
                subject,
            )
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        col = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        findings.append(
            Finding(
                path,
                line,
                col,
                "INVALID_JSON",
                f"the file is not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} does not decode; "
                "save it as UTF-8",
                "",
                subject,
            )
        )
    return findings
