"""Helpers of the compatibility-gate tests: fixture schemas, positions in them, projects and git repositories."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
METADATA_PATH = "schemas/common/event_metadata.avsc"
SIGNAL_PATH = "schemas/trading/trading.signals.generated.avsc"
SIGNAL_SUBJECT = "trading.signals.generated-value"
METADATA_SUBJECT = "tradewire.common.EventMetadata"


def fixture_text(name: str) -> str:
    """The text of a fixture schema file."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def position(text: str, token: str, *, after: str = "") -> tuple[int, int]:
    """1-based (line, column) of `token` in `text`: the only one, or the first at or after the only `after`."""
    if after:
        assert text.count(after) == 1, f"{after!r} is not unique in the fixture"
        start = text.index(after)
    else:
        assert text.count(token) == 1, f"{token!r} is not unique in the fixture"
        start = 0
    index = text.index(token, start)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


@dataclass(frozen=True)
class CliResult:
    """What one in-process `tradewire` invocation returned and printed."""

    code: int
    out: str
    err: str

    def json_findings(self) -> list[dict[str, Any]]:
        """Standard output of `--format json`, one finding object per line."""
        return [json.loads(line) for line in self.out.splitlines()]


CliRunner = Callable[..., CliResult]


def config_yaml(
    *,
    default: str = "FULL_TRANSITIVE",
    subjects: Mapping[str, str] | None = None,
    lint: Mapping[str, Any] | None = None,
    approve: Sequence[Mapping[str, str]] = (),
    against: str = "main",
) -> str:
    """The text of a `tradewire.yaml` for a throwaway project."""
    raw: dict[str, Any] = {
        "version": "v1",
        "schemas": "schemas",
        "namespace": "tradewire",
        "compatibility": {"default": default, "subjects": dict(subjects or {})},
        "breaking": {"against": against, "approve": [dict(item) for item in approve]},
    }
    if lint is not None:
        raw["lint"] = dict(lint)
    return yaml.safe_dump(raw, sort_keys=False)


class Project:
    """A tradewire project in a directory: `tradewire.yaml` plus schema files."""

    def __init__(self, root: Path, cli: CliRunner) -> None:
        self.root = root
        self._cli = cli
        root.mkdir(parents=True, exist_ok=True)

    @property
    def config_path(self) -> Path:
        """Where the project's `tradewire.yaml` is."""
        return self.root / "tradewire.yaml"

    def configure(self, **options: Any) -> None:
        """(Re)write `tradewire.yaml`; options as for `config_yaml`."""
        self.config_path.write_text(config_yaml(**options), encoding="utf-8")

    def write(self, relative: str, text: str) -> None:
        """Write a file of the project."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def put(self, relative: str, fixture: str) -> str:
        """Copy a fixture schema into the project and return its text."""
        self.write(relative, fixture_text(fixture))
        return fixture_text(fixture)

    def delete(self, relative: str) -> None:
        """Remove a file of the project."""
        (self.root / relative).unlink()

    def run(self, *argv: str) -> CliResult:
        """Run `tradewire --config <this project's yaml> ...`."""
        return self._cli("--config", str(self.config_path), *argv)


class GitProject(Project):
    """A project that is also a git repository with a `main` branch."""

    def __init__(self, root: Path, cli: CliRunner, git: str) -> None:
        super().__init__(root, cli)
        self._git = git
        self.git("init", "--quiet", "-b", "main")
        self.git("config", "user.name", "Gate Test")
        self.git("config", "user.email", "gate-test@example.invalid")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        """Run git in the repository and return its standard output."""
        completed = subprocess.run(
            [self._git, *args], cwd=self.root, capture_output=True, text=True, check=True, timeout=60
        )
        return completed.stdout

    def commit(self, message: str) -> str:
        """Commit everything in the working tree and return the commit id."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def breaking(self, *argv: str) -> CliResult:
        """Run `tradewire breaking --format json ...` on this repository."""
        return self.run("breaking", "--format", "json", *argv)
