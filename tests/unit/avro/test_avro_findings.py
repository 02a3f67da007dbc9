"""Specification of `tradewire.gate.findings`: the finding value, normalisation and the four output formats."""

from __future__ import annotations

import json
from dataclasses import asdict
from xml.etree import ElementTree

import pytest

from tradewire.gate.findings import Finding, normalize, render

FIELD_REMOVED = Finding(
    "schemas/exec/order.avsc", 12, 5, "FIELD_REMOVED", "field venue was removed", "/fields/3", "exec.order-value"
)
ENUM_NO_DEFAULT = Finding("schemas/common/side.avsc", 1, 1, "ENUM_NO_DEFAULT", "enum Side has no default")
SECOND_ORDER_FINDING = Finding("schemas/exec/order.avsc", 3, 7, "FIELD_DOC", "field symbol has no doc", "/fields/1")


def test_text_names_place_rule_message_and_pointer() -> None:
    """A finding's text is 'path:line:col: RULE message (at /pointer)'."""
    assert "schemas/exec/order.avsc:12:5: FIELD_REMOVED field venue was removed (at /fields/3)" == FIELD_REMOVED.text()


def test_text_without_pointer_has_no_at_suffix() -> None:
    """A finding without a JSON pointer prints no '(at ...)' suffix."""
    assert "schemas/common/side.avsc:1:1: ENUM_NO_DEFAULT enum Side has no default" == ENUM_NO_DEFAULT.text()


def test_normalize_sorts_by_path_line_column_and_rule() -> None:
    """normalize orders findings by path, then line, then column, then rule id."""
    same_place_other_rule = Finding("schemas/exec/order.avsc", 12, 5, "AAA_FIRST", "sorted before FIELD_REMOVED")
    findings = [FIELD_REMOVED, same_place_other_rule, SECOND_ORDER_FINDING, ENUM_NO_DEFAULT]
    assert [ENUM_NO_DEFAULT, SECOND_ORDER_FINDING, same_place_other_rule, FIELD_REMOVED] == normalize(findings)


def test_normalize_keeps_one_finding_per_rule_and_place() -> None:
    """Findings with the same path, line, column and rule collapse to the first in sort order."""
    reworded = Finding("schemas/exec/order.avsc", 12, 5, "FIELD_REMOVED", "a field was removed", "/fields/3")
    assert [SECOND_ORDER_FINDING, reworded] == normalize([FIELD_REMOVED, SECOND_ORDER_FINDING, reworded, FIELD_REMOVED])


def test_render_text_is_one_line_per_finding() -> None:
    """The text format prints each finding's text on its own line."""
    assert FIELD_REMOVED.text() + "\n" + ENUM_NO_DEFAULT.text() + "\n" == render(
        [FIELD_REMOVED, ENUM_NO_DEFAULT], "text"
    )


def test_render_json_is_one_object_per_line_with_every_field() -> None:
    """The json format prints one JSON object per line holding every attribute of the finding."""
    lines = render([FIELD_REMOVED, ENUM_NO_DEFAULT], "json").splitlines()
    assert [
        {
            "path": "schemas/exec/order.avsc",
            "line": 12,
            "col": 5,
            "rule_id": "FIELD_REMOVED",
            "message": "field venue was removed",
            "json_path": "/fields/3",
            "subject": "exec.order-value",
        },
        asdict(ENUM_NO_DEFAULT),
    ] == [json.loads(line) for line in lines]


def test_render_github_is_an_error_annotation_per_finding() -> None:
    """The github format prints '::error file=..,line=..,col=..,title=RULE::message (at pointer)'."""
    assert (
        "::error file=schemas/exec/order.avsc,line=12,col=5,title=FIELD_REMOVED::"
        "field venue was removed (at /fields/3)\n" == render([FIELD_REMOVED], "github")
    )


def test_render_github_escapes_properties_and_data_as_github_requires() -> None:
    """'%', CR and LF are escaped everywhere; ':' and ',' are escaped in properties only."""
    tricky = Finding("dir,x/a:b.avsc", 2, 3, "RULE:1,2", "100% wrong\r\nsecond line: a, b", "/x")
    assert (
        "::error file=dir%2Cx/a%3Ab.avsc,line=2,col=3,title=RULE%3A1%2C2::100%25 wrong%0D%0Asecond line: a, b (at /x)\n"
        == render([tricky], "github")
    )


def test_render_junit_has_one_testcase_per_checked_file_and_failures_for_findings() -> None:
    """JUnit XML has a testcase per checked file (plus files with findings), failures only where findings are."""
    checked = ["schemas/common/meta.avsc", "schemas/common/side.avsc", "schemas/exec/order.avsc"]
    root = ElementTree.fromstring(
        render([ENUM_NO_DEFAULT, SECOND_ORDER_FINDING, FIELD_REMOVED], "junit", checked=checked)
    )
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        ("testsuites", {"tests": "3", "failures": "2"}),
        {"name": "tradewire", "tests": "3", "failures": "2", "errors": "0"},
        [
            ("schemas/common/meta.avsc", []),
            ("schemas/common/side.avsc", [("ENUM_NO_DEFAULT", "ENUM_NO_DEFAULT enum Side has no default")]),
            (
                "schemas/exec/order.avsc",
                [
                    ("FIELD_DOC", "FIELD_DOC field symbol has no doc"),
                    ("FIELD_REMOVED", "FIELD_REMOVED field venue was removed"),
                ],
            ),
        ],
    ) == (
        (root.tag, root.attrib),
        suite.attrib,
        [
            (case.get("name"), [(f.get("type"), f.get("message")) for f in case.findall("failure")])
            for case in suite.findall("testcase")
        ],
    )


def test_render_junit_failure_text_is_the_finding_text_and_counts_unchecked_files() -> None:
    """A failure's text is the finding's text line; a file with findings counts even if not listed as checked."""
    tricky = Finding("other/<odd>&.avsc", 1, 2, "R", 'quote " and <tag> & amp')
    root = ElementTree.fromstring(render([tricky], "junit", checked=["a.avsc"], suite="gate"))
    cases = root.findall("testsuite/testcase")
    assert (
        {"tests": "2", "failures": "1"},
        ["a.avsc", "other/<odd>&.avsc"],
        [tricky.text()],
        {"gate"},
    ) == (
        root.attrib,
        [case.get("name") for case in cases],
        [failure.text for failure in root.iter("failure")],
        {case.get("classname") for case in cases},
    )


def test_render_junit_without_findings_reports_every_file_passing() -> None:
    """With no findings, the JUnit report still lists each checked file, with zero failures."""
    output = render([], "junit", checked=["a.avsc", "b.avsc"])
    root = ElementTree.fromstring(output)
    assert (True, {"tests": "2", "failures": "0"}, 0) == (
        output.startswith('<?xml version="1.0" encoding="UTF-8"?>\n'),
        root.attrib,
        len(list(root.iter("failure"))),
    )


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_no_findings_render_as_empty_output(output_format: str) -> None:
    """Line-based formats print nothing when there are no findings."""
    assert "" == render([], output_format)


def test_unknown_format_is_a_value_error_listing_the_formats() -> None:
    """An unknown format raises ValueError naming it and the formats to choose from."""
    with pytest.raises(ValueError, match=r"^unknown output format 'xml'; choose one of text, json, github, junit$"):
        render([FIELD_REMOVED], "xml")
