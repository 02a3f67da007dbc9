"""The README documents what the code does: its rule table is generated from the rule registry."""

from __future__ import annotations

from pathlib import Path

from tradewire.cli.gate import markdown_rules_table


def test_readme_rule_table_is_the_rule_registry(repo_root: Path) -> None:
    """The table between the rules markers is exactly `tradewire rules --format markdown`."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- rules:start -->\n") + len("<!-- rules:start -->\n")
    end = readme.index("<!-- rules:end -->")
    assert markdown_rules_table() == readme[start:end]


def test_readme_quick_start_is_the_ci_command(repo_root: Path) -> None:
    """.ci/run runs the README's test command and nothing else."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    ci = (repo_root / ".ci/run").read_text(encoding="utf-8")
    assert "./scripts/test.sh    # set up .venv" in readme
    assert ["exec ./scripts/test.sh"] == [line for line in ci.splitlines() if "scripts/" in line]
