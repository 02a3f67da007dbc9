"""`tradewire breaking` against real git history: every breaking rule, every level, approvals and baselines."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from gate_support import (
    METADATA_PATH,
    METADATA_SUBJECT,
    SIGNAL_PATH,
    SIGNAL_SUBJECT,
    CliResult,
    CliRunner,
    GitProject,
    Project,
    fixture_text,
    position,
)

from tradewire.gate.rules import rules_of

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 100

# A located expectation: (rule id, token whose first character is the location, text the token is searched after).
Expected = tuple[str, str, str]


def found(result: CliResult) -> tuple[int, list[tuple[str, str, int, int]]]:
    """Exit code and (rule, path, line, col) of every finding printed with `--format json`."""
    return result.code, [(f["rule_id"], f["path"], f["line"], f["col"]) for f in result.json_findings()]


def located(fixture: str, expected: list[Expected], path: str = SIGNAL_PATH) -> list[tuple[str, str, int, int]]:
    """The (rule, path, line, col) of each expectation, located in the fixture's text."""
    text = fixture_text(fixture)
    return [(rule_id, path, *position(text, token, after=after)) for rule_id, token, after in expected]


def change_signal(git_repo: GitProject, old: str, new: str, level: str) -> CliResult:
    """Commit `old` as the signal schema on main, put `new` in the working tree and run the gate at `level`."""
    git_repo.configure(default=level)
    git_repo.put(SIGNAL_PATH, old)
    git_repo.commit("signal v1")
    git_repo.put(SIGNAL_PATH, new)
    return git_repo.breaking()


VENUE_ADDED: list[Expected] = [("FIELD_ADDED_WITHOUT_DEFAULT", '{"name": "venue"', "")]

BREAKING_CASES = [
    pytest.param(
        "signal.avsc",
        "signal_adds_required_venue.avsc",
        "BACKWARD",
        [("FIELD_ADDED_WITHOUT_DEFAULT", '{"name": "venue"', "")],
        id="FIELD_ADDED_WITHOUT_DEFAULT",
    ),
    pytest.param(
        "signal.avsc",
        "signal_removes_required_strategy.avsc",
        "FORWARD",
        [("FIELD_REMOVED_WITHOUT_DEFAULT", "[", '"fields": [')],
        id="FIELD_REMOVED_WITHOUT_DEFAULT",
    ),
    pytest.param(
        "signal.avsc",
        "signal_horizon_seconds_string.avsc",
        "BACKWARD",
        [("FIELD_TYPE_CHANGED", '"string"', '{"name": "horizon_seconds", "type": "string"')],
        id="FIELD_TYPE_CHANGED-int-to-string",
    ),
    pytest.param(
        "signal.avsc",
        "signal_horizon_seconds_long.avsc",
        "FORWARD",
        [("FIELD_TYPE_CHANGED", '"long"', "")],
        id="FIELD_TYPE_CHANGED-int-to-long-forward",
    ),
    pytest.param(
        "signal_direction_without_default.avsc",
        "signal_direction_without_default_drops_flat.avsc",
        "BACKWARD",
        [("ENUM_SYMBOL_REMOVED", "[", '"symbols": [')],
        id="ENUM_SYMBOL_REMOVED",
    ),
    pytest.param(
        "signal_direction_without_default.avsc",
        "signal_direction_without_default_adds_exit.avsc",
        "FORWARD",
        [("ENUM_SYMBOL_ADDED", "[", '"symbols": [')],
        id="ENUM_SYMBOL_ADDED",
    ),
    pytest.param(
        "signal_note_string_or_long.avsc",
        "signal.avsc",
        "BACKWARD",
        [("UNION_BRANCH_REMOVED", '["null", "string"]', "")],
        id="UNION_BRANCH_REMOVED",
    ),
    pytest.param(
        "signal.avsc",
        "signal_note_string_or_long.avsc",
        "FORWARD",
        [("UNION_BRANCH_ADDED", '"long"', "")],
        id="UNION_BRANCH_ADDED",
    ),
    pytest.param(
        "signal_fingerprint_16_bytes.avsc",
        "signal_fingerprint_32_bytes.avsc",
        "BACKWARD",
        [("FIXED_SIZE_CHANGED", "32", '"size": 32')],
        id="FIXED_SIZE_CHANGED",
    ),
    pytest.param(
        "signal_direction_with_default.avsc",
        "signal_direction_renamed_trade_direction.avsc",
        "BACKWARD",
        [("NAME_CHANGED", '"TradeDirection"', "")],
        id="NAME_CHANGED-nested-enum",
    ),
    pytest.param(
        "signal.avsc",
        "signal_renamed_signal_emitted.avsc",
        "BACKWARD",
        [("NAME_CHANGED", '"SignalEmitted"', "")],
        id="NAME_CHANGED-event-record",
    ),
    pytest.param(
        "signal_venue_and_exchange.avsc",
        "signal_venue_aliased_to_exchange.avsc",
        "BACKWARD",
        [("FIELD_ALIAS_AMBIGUOUS", '{"name": "venue"', "")],
        id="FIELD_ALIAS_AMBIGUOUS",
    ),
    pytest.param(
        "signal.avsc",
        "signal_moved_to_topic_trading_signals_emitted.avsc",
        "FULL_TRANSITIVE",
        [("TOPIC_CHANGED", '"tradewire.topic"', "")],
        id="TOPIC_CHANGED",
    ),
    pytest.param(
        "signal.avsc",
        "signal_keyed_by_strategy.avsc",
        "FULL_TRANSITIVE",
        [("KEY_CHANGED", '"tradewire.key"', "")],
        id="KEY_CHANGED",
    ),
]

SAFE_CASES = [
    pytest.param("signal.avsc", "signal_adds_optional_venue.avsc", "FULL_TRANSITIVE", id="adds-optional-field"),
    pytest.param("signal.avsc", "signal_adds_required_venue.avsc", "FORWARD", id="adds-required-field-forward"),
    pytest.param("signal.avsc", "signal_removes_optional_note.avsc", "FULL_TRANSITIVE", id="removes-optional-field"),
    pytest.param(
        "signal.avsc", "signal_removes_required_strategy.avsc", "BACKWARD", id="removes-required-field-backward"
    ),
    pytest.param("signal.avsc", "signal_horizon_seconds_long.avsc", "BACKWARD", id="int-to-long-backward"),
    pytest.param(
        "signal_direction_with_default.avsc",
        "signal_direction_with_default_drops_flat.avsc",
        "BACKWARD",
        id="enum-with-default-drops-symbol",
    ),
    pytest.param(
        "signal_direction_without_default.avsc",
        "signal_direction_without_default_adds_exit.avsc",
        "BACKWARD",
        id="enum-adds-symbol-backward",
    ),
    pytest.param(
        "signal_direction_with_default.avsc",
        "signal_direction_with_default_adds_exit.avsc",
        "FORWARD",
        id="enum-with-default-adds-symbol-forward",
    ),
    pytest.param("signal.avsc", "signal_note_string_or_long.avsc", "BACKWARD", id="union-adds-branch-backward"),
    pytest.param("signal_note_string_or_long.avsc", "signal.avsc", "FORWARD", id="union-drops-branch-forward"),
    pytest.param(
        "signal_fingerprint_16_bytes.avsc",
        "signal_fingerprint_16_bytes_adds_optional_sha256.avsc",
        "FULL_TRANSITIVE",
        id="new-fixed-in-new-optional-field",
    ),
    pytest.param(
        "signal_direction_with_default.avsc",
        "signal_direction_renamed_with_full_alias.avsc",
        "BACKWARD",
        id="enum-renamed-with-full-alias",
    ),
    pytest.param(
        "signal_direction_with_default.avsc",
        "signal_direction_renamed_with_relative_alias.avsc",
        "BACKWARD",
        id="enum-renamed-with-alias-relative-to-namespace",
    ),
    pytest.param(
        "signal.avsc",
        "signal_renamed_signal_emitted_with_alias.avsc",
        "BACKWARD",
        id="event-record-renamed-with-alias",
    ),
    pytest.param(
        "signal_venue_and_exchange.avsc",
        "signal_exchange_renamed_to_market.avsc",
        "BACKWARD",
        id="field-renamed-with-unambiguous-alias",
    ),
    pytest.param("signal.avsc", "signal_documents_strategy_better.avsc", "FULL_TRANSITIVE", id="doc-only-change"),
]


@pytest.mark.parametrize(("old", "new", "level", "expected"), BREAKING_CASES)
def test_breaking_change_is_caught_in_the_new_file(
    git_repo: GitProject, old: str, new: str, level: str, expected: list[Expected]
) -> None:
    """A breaking change gets exactly its rule's finding, at its line and column in the new file, and exit 100."""
    assert (EXIT_FINDINGS, located(new, expected)) == found(change_signal(git_repo, old, new, level))


@pytest.mark.parametrize(("old", "new", "level"), SAFE_CASES)
def test_safe_change_passes(git_repo: GitProject, old: str, new: str, level: str) -> None:
    """A change that the level allows passes with exit 0 and no finding."""
    assert (EXIT_OK, []) == found(change_signal(git_repo, old, new, level))


def test_every_breaking_rule_has_a_case() -> None:
    """The cases cover every breaking rule but SCHEMA_REMOVED (tested below) and INCOMPATIBLE (no genuine case)."""
    covered = {rule_id for case in BREAKING_CASES for rule_id, _, _ in case.values[3]}
    assert sorted({r.id for r in rules_of("breaking")} - {"INCOMPATIBLE", "SCHEMA_REMOVED"}) == sorted(covered)


def test_schema_removed_is_reported_at_the_old_file(git_repo: GitProject) -> None:
    """Deleting an event schema is a SCHEMA_REMOVED finding at line 1 of the file as it was at the baseline."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.delete(SIGNAL_PATH)
    result = git_repo.breaking()
    assert (EXIT_FINDINGS, [("SCHEMA_REMOVED", SIGNAL_PATH, 1, 1)]) == found(result)
    assert [SIGNAL_SUBJECT] == [f["subject"] for f in result.json_findings()]


def test_schema_removed_passes_when_its_subject_is_at_level_none(git_repo: GitProject) -> None:
    """Deleting a schema whose subject is at level NONE passes."""
    git_repo.configure(subjects={SIGNAL_SUBJECT: "NONE"})
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.delete(SIGNAL_PATH)
    assert (EXIT_OK, []) == found(git_repo.breaking())


def test_approved_schema_removal_passes(git_repo: GitProject) -> None:
    """Removing a schema with an approval of SCHEMA_REMOVED at the empty pointer passes with an `approved:` note."""
    git_repo.configure(approve=[approval(rule="SCHEMA_REMOVED", at="")])
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.delete(SIGNAL_PATH)
    result = git_repo.breaking()
    approved = [line for line in result.err.splitlines() if line.startswith("approved:")]
    assert (EXIT_OK, "", 1) == (result.code, result.out, len(approved))
    assert approved[0].startswith(f"approved: {SIGNAL_PATH}:1:1: SCHEMA_REMOVED ")


LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")
BACKWARD_BREAKING_LEVELS = {"BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}
FORWARD_BREAKING_LEVELS = {"FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}


@pytest.mark.parametrize("level", LEVELS)
def test_adding_a_required_field_breaks_levels_that_check_backward(git_repo: GitProject, level: str) -> None:
    """A new field without a default fails exactly the levels whose new schema must read old data."""
    result = change_signal(git_repo, "signal.avsc", "signal_adds_required_venue.avsc", level)
    expected = (
        (EXIT_FINDINGS, located("signal_adds_required_venue.avsc", VENUE_ADDED))
        if level in BACKWARD_BREAKING_LEVELS
        else (EXIT_OK, [])
    )
    assert expected == found(result)


@pytest.mark.parametrize("level", LEVELS)
def test_removing_a_required_field_breaks_levels_that_check_forward(git_repo: GitProject, level: str) -> None:
    """Removing a field without a default fails exactly the levels whose old readers must read new data."""
    result = change_signal(git_repo, "signal.avsc", "signal_removes_required_strategy.avsc", level)
    expected = (
        (
            EXIT_FINDINGS,
            located("signal_removes_required_strategy.avsc", [("FIELD_REMOVED_WITHOUT_DEFAULT", "[", '"fields": [')]),
        )
        if level in FORWARD_BREAKING_LEVELS
        else (EXIT_OK, [])
    )
    assert expected == found(result)


@pytest.mark.parametrize(
    ("level", "breaks"),
    [
        pytest.param("BACKWARD", False, id="BACKWARD"),
        pytest.param("BACKWARD_TRANSITIVE", True, id="BACKWARD_TRANSITIVE"),
        pytest.param("FORWARD", False, id="FORWARD"),
        pytest.param("FORWARD_TRANSITIVE", True, id="FORWARD_TRANSITIVE"),
        pytest.param("FULL", False, id="FULL"),
        pytest.param("FULL_TRANSITIVE", True, id="FULL_TRANSITIVE"),
        pytest.param("NONE", False, id="NONE"),
    ],
)
def test_transitive_levels_compare_with_every_earlier_version(git_repo: GitProject, level: str, breaks: bool) -> None:
    """v3 (venue: int) is compatible with v2 (no venue) but not with v1 (venue: string): only transitive levels fail."""
    git_repo.configure(default=level)
    git_repo.put(SIGNAL_PATH, "signal_with_venue_string.avsc")
    git_repo.commit("signal v1: venue is a string")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v2: venue dropped")
    git_repo.put(SIGNAL_PATH, "signal_with_venue_int.avsc")
    expected_findings = located(
        "signal_with_venue_int.avsc", [("FIELD_TYPE_CHANGED", '"int"', '{"name": "venue", "type": "int"')]
    )
    expected = (EXIT_FINDINGS, expected_findings) if breaks else (EXIT_OK, [])
    assert expected == found(git_repo.breaking())


@pytest.mark.parametrize(
    ("subjects", "expected_code"),
    [
        pytest.param({}, EXIT_FINDINGS, id="default-level-applies"),
        pytest.param({SIGNAL_SUBJECT: "FORWARD"}, EXIT_OK, id="subject-relaxed-to-FORWARD"),
        pytest.param({SIGNAL_SUBJECT: "NONE"}, EXIT_OK, id="subject-relaxed-to-NONE"),
    ],
)
def test_per_subject_level_overrides_the_default(
    git_repo: GitProject, subjects: dict[str, str], expected_code: int
) -> None:
    """compatibility.subjects sets the level of one subject; the default (FULL_TRANSITIVE) applies to the rest."""
    git_repo.configure(default="FULL_TRANSITIVE", subjects=subjects)
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = git_repo.breaking()
    expected_findings = located("signal_adds_required_venue.avsc", VENUE_ADDED)
    assert (expected_code, expected_findings if expected_code else []) == found(result)


def test_change_in_shared_type_is_reported_in_the_common_file(git_repo: GitProject) -> None:
    """A breaking change to EventMetadata is one finding located in schemas/common/, under the shared type's subject."""
    git_repo.configure(default="BACKWARD")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    text = git_repo.put(METADATA_PATH, "event_metadata_adds_required_trace_id.avsc")
    result = git_repo.breaking()
    line, col = position(text, '{"name": "trace_id"')
    expected: dict[str, Any] = {
        "path": METADATA_PATH,
        "line": line,
        "col": col,
        "rule_id": "FIELD_ADDED_WITHOUT_DEFAULT",
        "json_path": "/fields/3",
        "subject": METADATA_SUBJECT,
    }
    actual = [{key: f[key] for key in expected} for f in result.json_findings()]
    assert (EXIT_FINDINGS, [expected]) == (result.code, actual)


def test_safe_change_in_shared_type_passes(git_repo: GitProject) -> None:
    """Adding an optional field to EventMetadata passes FULL_TRANSITIVE for it and every event that uses it."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put(METADATA_PATH, "event_metadata_adds_optional_trace_id.avsc")
    assert (EXIT_OK, []) == found(git_repo.breaking())


def test_json_output_carries_every_field(git_repo: GitProject) -> None:
    """`--format json` prints one object per finding with path, line, col, rule_id, message, json_path and subject."""
    result = change_signal(git_repo, "signal.avsc", "signal_adds_required_venue.avsc", "BACKWARD")
    [finding] = result.json_findings()
    line, col = position(fixture_text("signal_adds_required_venue.avsc"), '{"name": "venue"')
    expected = {
        "path": SIGNAL_PATH,
        "line": line,
        "col": col,
        "rule_id": "FIELD_ADDED_WITHOUT_DEFAULT",
        "json_path": "/fields/5",
        "subject": SIGNAL_SUBJECT,
    }
    assert expected == {key: finding[key] for key in expected}
    assert sorted([*expected, "message"]) == sorted(finding)
    assert "venue" in finding["message"]


def test_text_output_is_one_located_line_per_finding(git_repo: GitProject) -> None:
    """`--format text` prints `path:line:col: RULE_ID message (at pointer)`."""
    git_repo.configure(default="BACKWARD")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    text = git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = git_repo.run("breaking", "--format", "text")
    line, col = position(text, '{"name": "venue"')
    [printed] = result.out.splitlines()
    assert (EXIT_FINDINGS, f"{SIGNAL_PATH}:{line}:{col}: FIELD_ADDED_WITHOUT_DEFAULT ", " (at /fields/5)") == (
        result.code,
        printed[: printed.index("FIELD_ADDED_WITHOUT_DEFAULT") + len("FIELD_ADDED_WITHOUT_DEFAULT ")],
        printed[printed.rindex(" (at ") :],
    )


def test_github_output_is_an_error_annotation(git_repo: GitProject) -> None:
    """`--format github` prints a workflow `::error` annotation with file, line, col and the rule as title."""
    git_repo.configure(default="BACKWARD")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    text = git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = git_repo.run("breaking", "--format", "github")
    line, col = position(text, '{"name": "venue"')
    [printed] = result.out.splitlines()
    prefix = f"::error file={SIGNAL_PATH},line={line},col={col},title=FIELD_ADDED_WITHOUT_DEFAULT::"
    assert (EXIT_FINDINGS, prefix, " (at /fields/5)") == (
        result.code,
        printed[: len(prefix)],
        printed[printed.rindex(" (at ") :],
    )


def test_junit_output_has_a_testcase_per_schema_and_a_failure_per_finding(git_repo: GitProject) -> None:
    """`--format junit` is JUnit XML: one testcase per checked file, a failure typed by rule for the broken one."""
    git_repo.configure(default="BACKWARD")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = git_repo.run("breaking", "--format", "junit")
    root = ElementTree.fromstring(result.out.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): [f.get("type") for f in case.findall("failure")] for case in suite.findall("testcase")}
    assert (EXIT_FINDINGS, "tradewire.breaking", "2", "1") == (
        result.code,
        suite.get("name"),
        suite.get("tests"),
        suite.get("failures"),
    )
    assert {METADATA_PATH: [], SIGNAL_PATH: ["FIELD_ADDED_WITHOUT_DEFAULT"]} == cases


def approval(schema: str = SIGNAL_SUBJECT, at: str = "/fields/5", rule: str = "FIELD_ADDED_WITHOUT_DEFAULT") -> dict:
    """One `breaking.approve` entry."""
    return {"rule": rule, "schema": schema, "at": at, "reason": "no producer is live yet (TRADE-42)"}


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(SIGNAL_SUBJECT, id="by-subject"),
        pytest.param("tradewire.trading.SignalGenerated", id="by-full-name"),
        pytest.param(SIGNAL_PATH, id="by-path"),
    ],
)
def test_exact_approval_lets_that_finding_pass(git_repo: GitProject, schema: str) -> None:
    """An approval naming the finding's rule, schema and pointer turns it into an `approved:` note and exit 0."""
    git_repo.configure(default="BACKWARD", approve=[approval(schema)])
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    text = git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = git_repo.breaking()
    line, col = position(text, '{"name": "venue"')
    approved = [line for line in result.err.splitlines() if line.startswith("approved:")]
    assert (EXIT_OK, "", 1) == (result.code, result.out, len(approved))
    assert approved[0].startswith(f"approved: {SIGNAL_PATH}:{line}:{col}: FIELD_ADDED_WITHOUT_DEFAULT ")
    assert approved[0].endswith(" -- no producer is live yet (TRADE-42)")
    assert "warning" not in result.err


def test_approval_does_not_cover_a_different_finding(git_repo: GitProject) -> None:
    """With two breaking changes and one approved, the other still fails."""
    git_repo.configure(default="BACKWARD", approve=[approval()])
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    metadata = git_repo.put(METADATA_PATH, "event_metadata_adds_required_trace_id.avsc")
    result = git_repo.breaking()
    expected = [("FIELD_ADDED_WITHOUT_DEFAULT", METADATA_PATH, *position(metadata, '{"name": "trace_id"'))]
    assert (EXIT_FINDINGS, expected) == found(result)
    assert 1 == sum(line.startswith("approved:") for line in result.err.splitlines())


@pytest.mark.parametrize(
    "unused",
    [
        pytest.param(approval(at="/fields/4"), id="other-pointer"),
        pytest.param(approval(rule="FIELD_TYPE_CHANGED"), id="other-rule"),
        pytest.param(approval(schema="execution.order.placed-value"), id="other-schema"),
    ],
)
def test_approval_matching_no_finding_fails_and_warns(git_repo: GitProject, unused: dict) -> None:
    """An approval that differs from the finding in rule, schema or pointer approves nothing and is warned about."""
    git_repo.configure(default="BACKWARD", approve=[unused])
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = git_repo.breaking()
    expected_warning = (
        f"warning: approval of {unused['rule']} at {unused['schema']} {unused['at']} matches no finding; "
        "remove it from tradewire.yaml"
    )
    assert (EXIT_FINDINGS, ["FIELD_ADDED_WITHOUT_DEFAULT"], [expected_warning]) == (
        result.code,
        [f["rule_id"] for f in result.json_findings()],
        [line for line in result.err.splitlines() if line.startswith("warning:")],
    )


def test_unused_approval_warns_when_nothing_breaks(git_repo: GitProject) -> None:
    """A stale approval on a clean change still passes, with a warning asking to remove it."""
    git_repo.configure(default="BACKWARD", approve=[approval()])
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put(SIGNAL_PATH, "signal_adds_optional_venue.avsc")
    result = git_repo.breaking()
    expected_warning = (
        f"warning: approval of FIELD_ADDED_WITHOUT_DEFAULT at {SIGNAL_SUBJECT} /fields/5 matches no finding; "
        "remove it from tradewire.yaml"
    )
    assert (EXIT_OK, "", [expected_warning]) == (
        result.code,
        result.out,
        [line for line in result.err.splitlines() if line.startswith("warning:")],
    )


def test_approval_of_a_non_breaking_rule_is_a_usage_error(git_repo: GitProject) -> None:
    """An approval naming a lint rule is refused with exit 2 and a message naming the rule."""
    git_repo.configure(approve=[approval(rule="DOC_FIELD")])
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    result = git_repo.breaking()
    expected = (
        "configuration error: breaking.approve: 'DOC_FIELD' is not a breaking rule "
        "(see `tradewire rules --check breaking`)"
    )
    assert (EXIT_USAGE, "", expected) == (result.code, result.out, result.err.strip())


def branch_off_then_remove_strategy_on_main(git_repo: GitProject) -> None:
    """main: signal v1; feature (checked out): adds an optional field; main meanwhile drops the required strategy."""
    git_repo.configure(default="BACKWARD")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.git("checkout", "--quiet", "-b", "feature")
    git_repo.put(SIGNAL_PATH, "signal_adds_optional_venue.avsc")
    git_repo.commit("feature: optional venue")
    git_repo.git("checkout", "--quiet", "main")
    git_repo.put(SIGNAL_PATH, "signal_removes_required_strategy.avsc")
    git_repo.commit("main: strategy dropped")
    git_repo.git("checkout", "--quiet", "feature")


def test_default_baseline_is_the_merge_base_with_main(git_repo: GitProject) -> None:
    """On a feature branch the baseline is where it left main, not main's later commits."""
    branch_off_then_remove_strategy_on_main(git_repo)
    merge_base = git_repo.git("merge-base", "HEAD", "main").strip()
    result = git_repo.breaking()
    assert (EXIT_OK, []) == found(result)
    assert f"compared with merge base with main ({merge_base[:8]})" in result.err


def test_against_ref_compares_with_that_ref(git_repo: GitProject) -> None:
    """`--against main` compares the feature branch with main's tip, where strategy no longer exists."""
    branch_off_then_remove_strategy_on_main(git_repo)
    text = fixture_text("signal_adds_optional_venue.avsc")
    expected = [("FIELD_ADDED_WITHOUT_DEFAULT", SIGNAL_PATH, *position(text, '{"name": "strategy"'))]
    assert (EXIT_FINDINGS, expected) == found(git_repo.breaking("--against", "main"))


def test_against_tag_reaches_past_the_merge_base(git_repo: GitProject) -> None:
    """`--against v1` (a tag) compares with that release even though HEAD already contains the breaking commit."""
    git_repo.configure(default="BACKWARD")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.git("tag", "v1")
    text = git_repo.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    git_repo.commit("signal v2: required venue")
    assert (EXIT_OK, []) == found(git_repo.breaking())
    expected = [("FIELD_ADDED_WITHOUT_DEFAULT", SIGNAL_PATH, *position(text, '{"name": "venue"'))]
    assert (EXIT_FINDINGS, expected) == found(git_repo.breaking("--against", "v1"))


def test_unknown_ref_is_a_usage_error_naming_the_ref(git_repo: GitProject) -> None:
    """`--against` a ref that names no commit exits 2 with a usage message naming the option and the ref."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    result = git_repo.breaking("--against", "release-9.9")
    expected = (
        f"Error: Invalid value for '--against': git ref 'release-9.9' does not name a commit in "
        f"{git_repo.root.resolve()}"
    )
    assert (EXIT_USAGE, "", expected) == (result.code, result.out, result.err.strip().splitlines()[-1])


def test_missing_baseline_branch_is_a_configuration_error(git_repo: GitProject) -> None:
    """Without --against, a `breaking.against` branch that exists neither locally nor on origin exits 2
    naming the key, the branch and the way out."""
    git_repo.configure(against="trunk")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    result = git_repo.breaking()
    expected = (
        "configuration error: breaking.against: cannot find branch 'trunk' (nor origin/trunk) to take the merge "
        "base with; pass --against <ref>"
    )
    assert (EXIT_USAGE, "", expected) == (result.code, result.out, result.err.strip())


def test_invalid_json_in_the_working_tree_is_one_located_finding(git_repo: GitProject) -> None:
    """A schema that no longer parses gets one INVALID_JSON finding where the parser stopped, and exit 100."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    text = git_repo.put(SIGNAL_PATH, "signal_missing_comma.avsc")
    expected = [("INVALID_JSON", SIGNAL_PATH, *position(text, '"fields"'))]
    assert (EXIT_FINDINGS, expected) == found(git_repo.breaking())


def test_invalid_baseline_is_reported(git_repo: GitProject) -> None:
    """A schema whose version at the baseline cannot be read is a BASELINE_INVALID finding, not silently new."""
    git_repo.put(SIGNAL_PATH, "signal_missing_comma.avsc")
    git_repo.commit("signal v1, broken")
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    result = git_repo.breaking()
    assert (EXIT_FINDINGS, [("BASELINE_INVALID", SIGNAL_PATH)]) == (
        result.code,
        [(f["rule_id"], f["path"]) for f in result.json_findings()],
    )


def test_new_schema_file_is_not_a_finding(git_repo: GitProject) -> None:
    """A schema absent at the baseline has nothing to break: exit 0, no output."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.put("schemas/trading/trading.signals.generated_v2.avsc", "signal_v2_own_topic.avsc")
    git_repo.put("schemas/common/order_side.avsc", "order_side.avsc")
    assert (EXIT_OK, []) == found(git_repo.breaking())


def test_unchanged_repository_passes(git_repo: GitProject) -> None:
    """With the working tree equal to the baseline nothing is compared and nothing is reported."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    result = git_repo.breaking()
    assert (EXIT_OK, "") == (result.code, result.out)
    assert "no findings (0 changed schema(s) compared with merge base with main" in result.err


def test_project_in_a_subdirectory_of_the_repository(git_repo: GitProject, cli: CliRunner) -> None:
    """A project whose tradewire.yaml sits below the repository root reads its baseline from that subdirectory."""
    project = Project(git_repo.root / "contracts", cli)
    project.configure(default="BACKWARD")
    project.put(METADATA_PATH, "event_metadata.avsc")
    project.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("contracts v1")
    text = project.put(SIGNAL_PATH, "signal_adds_required_venue.avsc")
    result = project.run("breaking", "--format", "json")
    expected = [("FIELD_ADDED_WITHOUT_DEFAULT", SIGNAL_PATH, *position(text, '{"name": "venue"'))]
    assert (EXIT_FINDINGS, expected) == found(result)


def test_the_approval_example_in_tradewire_yaml_approves_what_breaking_prints(
    git_repo: GitProject, repo_root: Path
) -> None:
    """The commented approval in the repository's tradewire.yaml, uncommented, approves exactly the finding
    `breaking` prints when the field it names is removed: same rule, subject and pointer."""
    lines = (repo_root / "tradewire.yaml").read_text(encoding="utf-8").splitlines()
    start = lines.index("breaking:") + 1
    end = next((index for index in range(start, len(lines)) if lines[index][:1].isalpha()), len(lines))
    lines = lines[start:end]  # the breaking section only: other sections have commented examples too
    example = yaml.safe_load(
        "\n".join(line.removeprefix("  # ") for line in lines if line.startswith(("  # - ", "  #   ")))
    )
    for path in (repo_root / "schemas").rglob("*.avsc"):
        git_repo.write(path.relative_to(repo_root).as_posix(), path.read_text(encoding="utf-8"))
    git_repo.commit("the repository's contracts")
    placed_path = "schemas/execution/execution.order.placed.avsc"
    placed = json.loads((git_repo.root / placed_path).read_text(encoding="utf-8"))
    removed = re.search(r"nobody reads (\w+) ", example[0]["reason"])
    assert removed is not None
    placed["fields"] = [item for item in placed["fields"] if item["name"] != removed.group(1)]
    git_repo.write(placed_path, json.dumps(placed, indent=2))
    unapproved = git_repo.breaking()
    git_repo.configure(approve=example)
    approved = git_repo.breaking()
    assert (EXIT_FINDINGS, [(example[0]["rule"], example[0]["schema"], example[0]["at"])]) == (
        unapproved.code,
        [(f["rule_id"], f["subject"], f["json_path"]) for f in unapproved.json_findings()],
    )
    assert (EXIT_OK, "", 1, []) == (
        approved.code,
        approved.out,
        len([line for line in approved.err.splitlines() if line.startswith("approved:")]),
        [line for line in approved.err.splitlines() if line.startswith("warning:")],
    )


def test_an_oversized_schema_is_an_input_finding_of_breaking_too(git_repo: GitProject) -> None:
    """A schema grown past 256 KiB on a branch is a SCHEMA_TOO_LARGE finding of `breaking`, as of `lint`."""
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    signal = json.loads(fixture_text("signal.avsc"))
    signal["doc"] = "A signal. " * 30_000
    git_repo.write(SIGNAL_PATH, json.dumps(signal, indent=2))
    assert (EXIT_FINDINGS, [("SCHEMA_TOO_LARGE", SIGNAL_PATH, 1, 1)]) == found(git_repo.breaking())
