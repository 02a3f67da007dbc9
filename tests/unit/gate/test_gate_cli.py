"""The `tradewire` command line of the gate: exit codes, `rules`, `lint` output formats and configuration errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from gate_support import METADATA_PATH, SIGNAL_PATH, CliRunner, Project, fixture_text, position

from tradewire.gate.rules import RULES

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 100


def strategy_without_doc(project: Project) -> tuple[int, int]:
    """Put a signal whose `strategy` field has no doc into the project; the (line, col) of that field's name."""
    text = project.put(SIGNAL_PATH, "signal_strategy_without_doc.avsc")
    return position(text, '"strategy"')


def test_lint_of_a_clean_project_exits_0(project: Project) -> None:
    """`lint` on schemas that follow every rule prints nothing on stdout, a summary on stderr, and exits 0."""
    project.put(SIGNAL_PATH, "signal.avsc")
    result = project.run("lint")
    assert (EXIT_OK, "", "no findings (2 schema file(s) linted)") == (result.code, result.out, result.err.strip())


def test_lint_text_output_is_one_located_line_per_finding(project: Project) -> None:
    """`lint` prints `path:line:col: RULE_ID message (at pointer)` per finding and exits 100."""
    line, col = strategy_without_doc(project)
    result = project.run("lint", "--format", "text")
    expected = f"{SIGNAL_PATH}:{line}:{col}: DOC_FIELD field 'strategy' has no doc (at /fields/2/name)\n"
    assert (EXIT_FINDINGS, expected, "1 finding(s) in 1 file(s) (2 schema file(s) linted)") == (
        result.code,
        result.out,
        result.err.strip(),
    )


def test_lint_json_output_is_one_object_per_line(project: Project) -> None:
    """`lint --format json` prints each finding as a JSON object with its location, rule and message."""
    line, col = strategy_without_doc(project)
    result = project.run("lint", "--format", "json")
    expected = {
        "path": SIGNAL_PATH,
        "line": line,
        "col": col,
        "rule_id": "DOC_FIELD",
        "message": "field 'strategy' has no doc",
        "json_path": "/fields/2/name",
        "subject": "trading.signals.generated-value",
    }
    assert (EXIT_FINDINGS, [expected]) == (result.code, [json.loads(item) for item in result.out.splitlines()])


def test_lint_github_output_is_an_error_annotation(project: Project) -> None:
    """`lint --format github` prints one `::error` workflow annotation per finding."""
    line, col = strategy_without_doc(project)
    result = project.run("lint", "--format", "github")
    expected = (
        f"::error file={SIGNAL_PATH},line={line},col={col},title=DOC_FIELD::"
        "field 'strategy' has no doc (at /fields/2/name)\n"
    )
    assert (EXIT_FINDINGS, expected) == (result.code, result.out)


def test_lint_junit_output_has_a_testcase_per_file(project: Project) -> None:
    """`lint --format junit` is JUnit XML with a testcase per schema file and a failure typed by rule."""
    line, col = strategy_without_doc(project)
    result = project.run("lint", "--format", "junit")
    header, _, body = result.out.partition("\n")
    suite = ElementTree.fromstring(body).find("testsuite")
    assert suite is not None
    failures = {
        case.get("name"): [(f.get("type"), f.text) for f in case.findall("failure")]
        for case in suite.findall("testcase")
    }
    expected_text = f"{SIGNAL_PATH}:{line}:{col}: DOC_FIELD field 'strategy' has no doc (at /fields/2/name)"
    assert (
        EXIT_FINDINGS,
        '<?xml version="1.0" encoding="UTF-8"?>',
        ("tradewire.lint", "2", "1"),
        {METADATA_PATH: [], SIGNAL_PATH: [("DOC_FIELD", expected_text)]},
    ) == (
        result.code,
        header,
        (suite.get("name"), suite.get("tests"), suite.get("failures")),
        failures,
    )


def test_lint_finds_the_configuration_above_the_current_directory(
    project: Project, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config, `lint` uses the nearest tradewire.yaml above the working directory."""
    strategy_without_doc(project)
    monkeypatch.chdir(project.root / "schemas" / "trading")
    result = cli("lint", "--format", "json")
    assert (EXIT_FINDINGS, ["DOC_FIELD"]) == (
        result.code,
        [json.loads(item)["rule_id"] for item in result.out.splitlines()],
    )


@pytest.mark.parametrize(
    ("section", "expected_err"),
    [
        pytest.param(
            {"use": ["DEFAULT", "NO_SUCH_RULE"]},
            "configuration error: lint.use: unknown rule or category NO_SUCH_RULE (see `tradewire rules`)",
            id="use",
        ),
        pytest.param(
            {"except": ["DOCS", "NO_SUCH_CATEGORY"]},
            "configuration error: lint.except: unknown rule or category NO_SUCH_CATEGORY (see `tradewire rules`)",
            id="except",
        ),
    ],
)
def test_lint_with_an_unknown_rule_is_a_usage_error(project: Project, section: dict, expected_err: str) -> None:
    """An unknown rule or category in lint.use or lint.except exits 2 with a message naming it."""
    project.configure(lint=section)
    project.put(SIGNAL_PATH, "signal.avsc")
    result = project.run("lint")
    assert (EXIT_USAGE, "", expected_err) == (result.code, result.out, result.err.strip())


def test_lint_ignore_in_configuration_applies_through_the_cli(project: Project) -> None:
    """lint.ignore_only in tradewire.yaml silences that rule below the given path and `lint` exits 0."""
    project.configure(lint={"ignore_only": {"DOC_FIELD": ["schemas/trading"]}})
    strategy_without_doc(project)
    result = project.run("lint")
    assert (EXIT_OK, "") == (result.code, result.out)


def test_rules_json_lists_every_rule(cli: CliRunner) -> None:
    """`rules --format json` prints every declared rule with id, check, category and purpose, in declaration order."""
    result = cli("rules", "--format", "json")
    expected = [{"id": r.id, "check": r.check, "category": r.category, "purpose": r.purpose} for r in RULES]
    assert (EXIT_OK, expected) == (result.code, [json.loads(item) for item in result.out.splitlines()])


@pytest.mark.parametrize("check", ["input", "lint", "breaking"])
def test_rules_check_lists_one_check(cli: CliRunner, check: str) -> None:
    """`rules --check X --format json` lists exactly the rules of that check."""
    result = cli("rules", "--check", check, "--format", "json")
    assert (EXIT_OK, [r.id for r in RULES if r.check == check]) == (
        result.code,
        [json.loads(item)["id"] for item in result.out.splitlines()],
    )


def test_missing_configuration_is_a_usage_error(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside any project, `lint` exits 2 and says that no tradewire.yaml was found and what to do."""
    monkeypatch.chdir(tmp_path)
    result = cli("lint")
    expected = (
        f"configuration error: no tradewire.yaml in {tmp_path} or its parents; run tradewire inside the repository "
        "or pass --config"
    )
    assert (EXIT_USAGE, "", expected) == (result.code, result.out, result.err.strip())


def test_missing_config_file_given_explicitly_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    """`--config` naming a file that does not exist exits 2 with a message naming the path."""
    missing = tmp_path / "nowhere" / "tradewire.yaml"
    result = cli("--config", str(missing), "lint")
    assert (EXIT_USAGE, f"configuration error: {missing}: no such configuration file") == (
        result.code,
        result.err.strip(),
    )


def test_invalid_configuration_is_a_usage_error(project: Project) -> None:
    """A tradewire.yaml of another version exits 2 with a message naming the key."""
    project.config_path.write_text("version: v2\n", encoding="utf-8")
    result = project.run("lint")
    expected = f"configuration error: {project.config_path}: 'version' must be v1 (found 'v2')"
    assert (EXIT_USAGE, expected) == (result.code, result.err.strip())


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("lint", "--format", "xml"), id="bad-format-choice"),
        pytest.param(("lint", "--no-such-option"), id="unknown-option"),
        pytest.param(("no-such-command",), id="unknown-command"),
    ],
)
def test_bad_command_line_is_a_usage_error(project: Project, argv: tuple[str, ...]) -> None:
    """Options, choices or commands the CLI does not know exit 2 with click's usage message on stderr."""
    result = project.run(*argv)
    assert (EXIT_USAGE, "", True) == (result.code, result.out, result.err.startswith("Usage: tradewire"))


def test_breaking_outside_a_git_repository_is_a_tool_failure(project: Project) -> None:
    """`breaking` in a project that is not a git work tree exits 1 with git's complaint."""
    project.put(SIGNAL_PATH, "signal.avsc")
    result = project.run("breaking")
    assert (EXIT_FAILURE, "", True) == (
        result.code,
        result.out,
        result.err.startswith("error: git rev-parse --show-toplevel failed: fatal: not a git repository"),
    )


def test_tradewire_lint_subprocess_smoke(repo_root: Path) -> None:
    """The installed `tradewire lint` console script exits 0 on this repository's own schemas."""
    executable = Path(sys.executable).parent / "tradewire"
    completed = subprocess.run(
        [str(executable), "lint"], cwd=repo_root, capture_output=True, text=True, timeout=120, check=False
    )
    assert (EXIT_OK, "", True) == (
        completed.returncode,
        completed.stdout,
        completed.stderr.startswith("no findings ("),
    )


def test_lint_json_names_the_subject_of_a_shared_type(project: Project) -> None:
    """`lint --format json` gives a finding in a shared type the type's full name as its subject."""
    project.put(SIGNAL_PATH, "signal.avsc")
    project.put("schemas/common/order_side.avsc", "order_side_without_doc.avsc")
    result = project.run("lint", "--format", "json")
    assert (EXIT_FINDINGS, [("DOC_TYPE", "tradewire.common.OrderSide")]) == (
        result.code,
        [(f["rule_id"], f["subject"]) for f in result.json_findings()],
    )


def test_lint_refuses_a_schema_file_over_the_size_limit(project: Project) -> None:
    """A schema file larger than 256 KiB (here by its doc) is one SCHEMA_TOO_LARGE input finding at its start."""
    signal = json.loads(fixture_text("signal.avsc"))
    signal["doc"] = "A signal. " * 30_000
    text = json.dumps(signal, indent=2)
    project.write(SIGNAL_PATH, text)
    result = project.run("lint", "--format", "json")
    expected = {
        "path": SIGNAL_PATH,
        "line": 1,
        "col": 1,
        "rule_id": "SCHEMA_TOO_LARGE",
        "message": f"the file is {len(text.encode()):,} bytes; a schema file may have at most 262,144 (256 KiB). "
        "Keep docs to a few sentences and link to longer documents instead",
        "json_path": "",
        "subject": "trading.signals.generated-value",
    }
    assert (EXIT_FINDINGS, [expected]) == (result.code, result.json_findings())


def test_lint_accepts_a_schema_file_just_under_the_size_limit(project: Project) -> None:
    """A schema file of exactly 256 KiB is not a finding."""
    signal = json.loads(fixture_text("signal.avsc"))
    signal["doc"] = "A signal."
    padding = 262_144 - len(json.dumps(signal, indent=2).encode())
    signal["doc"] = "A signal." + " x" * (padding // 2) + "." * (padding % 2)
    text = json.dumps(signal, indent=2)
    project.write(SIGNAL_PATH, text)
    result = project.run("lint")
    assert (262_144, EXIT_OK, "") == (len(text.encode()), result.code, result.out)


def test_lint_reports_a_file_that_is_not_utf8_where_the_bad_byte_is(project: Project) -> None:
    """A schema file with a byte that is not UTF-8 is an INVALID_JSON finding at that byte, not a crash."""
    text = fixture_text("signal.avsc")
    line, col = position(text, "Instrument")
    data = text.encode().replace(b"Instrument", b"Instr\xfcment")
    (project.root / SIGNAL_PATH).parent.mkdir(parents=True, exist_ok=True)
    (project.root / SIGNAL_PATH).write_bytes(data)
    result = project.run("lint", "--format", "json")
    offset = data.index(b"\xfc")
    assert (EXIT_FINDINGS, [("INVALID_JSON", line, col + 5)]) == (
        result.code,
        [(f["rule_id"], f["line"], f["col"]) for f in result.json_findings()],
    )
    assert (
        f"the file is not UTF-8: byte 0xfc at offset {offset} does not decode; save it as UTF-8"
        == result.json_findings()[0]["message"]
    )


def test_a_directory_named_like_a_schema_file_is_not_a_schema(project: Project) -> None:
    """A directory whose name ends in .avsc is skipped, not read as a schema (which crashed)."""
    project.put(SIGNAL_PATH, "signal.avsc")
    (project.root / "schemas" / "trading" / "drafts.avsc").mkdir()
    result = project.run("lint")
    assert (EXIT_OK, "") == (result.code, result.out)


def test_registry_push_refuses_a_schema_file_that_is_not_utf8_before_contacting_the_registry(
    project: Project,
) -> None:
    """`registry push` names a file that is not UTF-8 and exits 1 without contacting the registry, instead of
    registering the schema with its undecodable byte replaced."""
    text = fixture_text("signal.avsc")
    (project.root / SIGNAL_PATH).parent.mkdir(parents=True, exist_ok=True)
    (project.root / SIGNAL_PATH).write_bytes(text.encode().replace(b"Instrument", b"Instr\xfcment"))
    line, col = position(text, "Instrument")
    result = project.run("registry", "push", "--registry", "http://127.0.0.1:1")
    assert (EXIT_FAILURE, "") == (result.code, result.out)
    assert " ".join(result.err.split()).startswith(
        f"error: {SIGNAL_PATH}:{line}:{col + 5}: INVALID_JSON the file is not UTF-8"
    )
