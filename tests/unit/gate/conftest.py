"""Fixtures of the compatibility-gate tests: the CLI in-process, throwaway projects and git repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gate_support import METADATA_PATH, CliResult, CliRunner, GitProject, Project

from tradewire.cli import main


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `tradewire` in-process with the given arguments and capture its exit code and output."""

    def run(*argv: str) -> CliResult:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def project(tmp_path: Path, cli: CliRunner) -> Project:
    """A fresh project directory (no git) with a configuration and the shared EventMetadata schema."""
    created = Project(tmp_path / "project", cli)
    created.configure()
    created.put(METADATA_PATH, "event_metadata.avsc")
    return created


@pytest.fixture
def git_repo(tmp_path: Path, cli: CliRunner, git_executable: str, monkeypatch: pytest.MonkeyPatch) -> GitProject:
    """A fresh git repository (nothing committed yet) with a configuration and the shared EventMetadata schema."""
    for name in [name for name in os.environ if name.startswith("GIT_")]:
        # Run from a git hook, GIT_DIR and friends would point every git call at the enclosing repository.
        monkeypatch.delenv(name)
    created = GitProject(tmp_path / "repo", cli, git_executable)
    created.configure()
    created.put(METADATA_PATH, "event_metadata.avsc")
    return created
