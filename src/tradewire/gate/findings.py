"""Findings, the gate's only output, and the formats they are printed in.

A finding is a value: where (file, line, column, JSON pointer in the schema), which
rule, and a message that says what is wrong and what to do instead. Findings are
sorted and deduplicated before printing, so output is stable across runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from xml.etree import ElementTree

__all__ = ["FORMATS", "Finding", "normalize", "render"]

FORMATS = ("text", "json", "github", "junit")


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem at one place: `path:line:col: RULE_ID message`."""

    path: str
    line: int
    col: int
    rule_id: str
    message: str
    json_path: str = ""
    subject: str = ""

    def text(self) -> str:
        """The finding as one line of human-readable text."""
        where = f" (at {self.json_path})" if self.json_path else ""
        return f"{self.path}:{self.line}:{self.col}: {self.rule_id} {self.message}{where}"


def normalize(findings: Iterable[Finding]) -> list[Finding]:
    """Sort findings and drop repeats of the same rule at the same place."""
    seen: set[tuple[str, int, int, str]] = set()
    result = []
    for finding in sorted(findings):
        key = (finding.path, finding.line, finding.col, finding.rule_id)
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return result


def render(
    findings: Sequence[Finding],
    output_format: str,
    *,
    checked: Sequence[str] = (),
    suite: str = "tradewire",
) -> str:
    """Render normalised findings; `checked` lists the files examined (for JUnit)."""
    if output_format == "text":
        return "".join(finding.text() + "\n" for finding in findings)
    if output_format == "json":
        return "".join(json.dumps(asdict(finding), sort_keys=True) + "\n" for finding in findings)
    if output_format == "github":
        return "".join(_github(finding) + "\n" for finding in findings)
    if output_format == "junit":
        return _junit(findings, checked, suite)
    raise ValueError(f"unknown output format {output_format!r}; choose one of {', '.join(FORMATS)}")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _github(finding: Finding) -> str:
    where = f" (at {finding.json_path})" if finding.json_path else ""
    return (
        f"::error file={_escape_property(finding.path)},line={finding.line},col={finding.col},"
        f"title={_escape_property(finding.rule_id)}::{_escape_data(finding.message + where)}"
    )


def _junit(findings: Sequence[Finding], checked: Sequence[str], suite: str) -> str:
    by_file: dict[str, list[Finding]] = {path: [] for path in checked}
    for finding in findings:
        by_file.setdefault(finding.path, []).append(finding)
    root = ElementTree.Element(
        "testsuites", tests=str(len(by_file)), failures=str(sum(1 for f in by_file.values() if f))
    )
    suite_element = ElementTree.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(by_file)),
        failures=str(sum(1 for f in by_file.values() if f)),
        errors="0",
    )
    for path in sorted(by_file):
        case = ElementTree.SubElement(suite_element, "testcase", classname=suite, name=path)
        for finding in by_file[path]:
            failure = ElementTree.SubElement(
                case,
                "failure",
                message=f"{finding.rule_id} {finding.message}",
                type=finding.rule_id,
            )
            failure.text = finding.text()
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
