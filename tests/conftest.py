"""Shared pytest fixtures for every test suite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of this repository (where tradewire.yaml lives)."""
    return REPO_ROOT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that need git, so they are easy to select; git is required, never skipped."""
    for item in items:
        if "git_repo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.git)


@pytest.fixture
def git_executable() -> str:
    """The git executable (tests that need it fail loudly when it is missing)."""
    found = shutil.which("git")
    assert found is not None, "git is required by the gate tests"
    return found
