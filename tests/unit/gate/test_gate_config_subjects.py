"""Specification: a `compatibility.subjects` entry no schema produces is refused by every command with the catalog."""

from __future__ import annotations

import pytest
from gate_support import SIGNAL_PATH, SIGNAL_SUBJECT, GitProject, Project

EXIT_OK, EXIT_USAGE = 0, 2
UNREACHABLE = "http://127.0.0.1:9"
KNOWN = "known: tradewire.common.EventMetadata, trading.signals.generated-value"


@pytest.mark.parametrize(
    "command",
    [
        ("lint",),
        ("generate", "--check"),
        ("registry", "push", "--registry", UNREACHABLE),
        ("registry", "drift", "--registry", UNREACHABLE),
        ("topics", "plan", "--bootstrap-servers", "127.0.0.1:9"),
        ("topics", "apply", "--bootstrap-servers", "127.0.0.1:9"),
        ("topics", "drift", "--bootstrap-servers", "127.0.0.1:9"),
    ],
    ids=lambda command: "-".join(part for part in command if not part.startswith(("-", "http", "127"))),
)
def test_a_subject_typo_is_a_usage_error_naming_it_and_the_known_subjects(
    project: Project, command: tuple[str, ...]
) -> None:
    """`nope-value` in compatibility.subjects exits 2 before anything is contacted, naming it and the known subjects."""
    project.configure(subjects={"nope-value": "BACKWARD"})
    project.put(SIGNAL_PATH, "signal.avsc")
    result = project.run(*command)
    assert (EXIT_USAGE, True) == (
        result.code,
        f"compatibility.subjects: unknown subject(s) nope-value; {KNOWN}" in result.err,
    )


def test_the_offline_gate_refuses_a_subject_typo_too(git_repo: GitProject) -> None:
    """`breaking` exits 2 on a subject typo instead of silently applying the default level."""
    git_repo.configure(subjects={"trading.signals.emitted-value": "NONE"})
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    result = git_repo.breaking()
    assert (EXIT_USAGE, True) == (result.code, "unknown subject(s) trading.signals.emitted-value" in result.err)


def test_a_schema_being_removed_keeps_its_level_until_the_removal_is_merged(git_repo: GitProject) -> None:
    """While the removed schema is still in HEAD or the merge base, its level is accepted; once merged, refused."""
    git_repo.configure(subjects={SIGNAL_SUBJECT: "NONE"})
    git_repo.put(SIGNAL_PATH, "signal.avsc")
    git_repo.commit("signal v1")
    git_repo.delete(SIGNAL_PATH)
    accepted = (git_repo.run("lint").code, git_repo.breaking().code)
    git_repo.commit("remove the signal")
    refused = git_repo.run("lint")
    assert ((EXIT_OK, EXIT_OK), EXIT_USAGE) == (accepted, refused.code)
    assert f"unknown subject(s) {SIGNAL_SUBJECT}; known: tradewire.common.EventMetadata" in refused.err
