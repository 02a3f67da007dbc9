"""Schema files as they were at git revisions: the baseline of the offline gate.

Reads trees and blobs with plain `git` plumbing (one long-lived `cat-file --batch`
process per repository), so comparing against every earlier version stays fast.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from tradewire.errors import GitError

__all__ = ["GitRepository", "RefError"]


class RefError(GitError):
    """A ref names no commit, or shares no history with HEAD: the user's choice of baseline, not a git failure."""


class GitRepository:
    """A git work tree; all paths are relative to its top level, with forward slashes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._blobs: dict[str, str] = {}
        self._trees: dict[str, dict[str, str]] = {}
        self._batch: subprocess.Popen[bytes] | None = None

    @classmethod
    def discover(cls, start: Path) -> GitRepository:
        """The repository that contains `start`."""
        top = _run(["git", "rev-parse", "--show-toplevel"], start).strip()
        return cls(Path(top))

    def close(self) -> None:
        """Stop the background `git cat-file` process."""
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait(timeout=10)
            if self._batch.stdout:
                self._batch.stdout.close()
            self._batch = None

    def __enter__(self) -> GitRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def git(self, *args: str) -> str:
        """Run a git command in the repository and return its standard output."""
        return _run(["git", *args], self.root)

    def resolve(self, ref: str) -> str:
        """The commit id `ref` names; GitError naming the ref when it names nothing."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").strip()
        except GitError:
            raise RefError(f"git ref {ref!r} does not name a commit in {self.root}") from None

    def merge_base(self, branch: str) -> str:
        """The merge base of HEAD and `branch` (or `origin/<branch>` when only that exists)."""
        for candidate in (branch, f"origin/{branch}"):
            try:
                commit = self.resolve(candidate)
            except RefError:
                continue
            head = self.resolve("HEAD")
            try:
                return self.git("merge-base", head, commit).strip()
            except GitError:
                raise RefError(
                    f"HEAD and {candidate} share no history, so there is no merge base; pass --against <ref>"
                ) from None
        raise RefError(
            f"cannot find branch {branch!r} (nor origin/{branch}) to take the merge base with; pass --against <ref>"
        )

    def history(self, commit: str, directory: str) -> list[str]:
        """Commits reachable from `commit` that changed `directory`, oldest first."""
        output = self.git("rev-list", "--reverse", "--topo-order", commit, "--", directory)
        return output.split()

    def tree(self, commit: str, directory: str, suffix: str = ".avsc") -> Mapping[str, str]:
        """`{path: blob id}` of the files below `directory` at `commit` ending in `suffix`."""
        key = f"{commit}:{directory}:{suffix}"
        if key not in self._trees:
            output = self.git("ls-tree", "-r", "-z", "--full-tree", commit, "--", directory)
            entries = {}
            for record in output.split("\0"):
                if not record:
                    continue
                meta, _, path = record.partition("\t")
                kind, blob = meta.split()[1:3]
                if kind == "blob" and path.endswith(suffix):
                    entries[path] = blob
            self._trees[key] = entries
        return self._trees[key]

    def texts(self, commit: str, directory: str) -> dict[str, str]:
        """`{path: text}` of the schema files below `directory` at `commit`."""
        return {path: self.blob(blob) for path, blob in self.tree(commit, directory).items()}

    def blob(self, blob: str) -> str:
        """The text of a blob (cached)."""
        if blob not in self._blobs:
            self._blobs[blob] = self._read_blob(blob).decode("utf-8", errors="replace")
        return self._blobs[blob]

    def _read_blob(self, blob: str) -> bytes:
        if self._batch is None:
            self._batch = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._batch.stdin is not None and self._batch.stdout is not None
        self._batch.stdin.write(blob.encode() + b"\n")
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().decode().split()
        if len(header) != 3 or header[1] == "missing":
            raise GitError(f"git object {blob} is missing")
        data = self._batch.stdout.read(int(header[2]))
        self._batch.stdout.read(1)
        return data


def _run(command: list[str], cwd: Path) -> str:
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"{' '.join(command)} did not finish within 120 s") from None
    if completed.returncode != 0:
        raise GitError(f"{' '.join(command)} failed: {completed.stderr.strip() or completed.returncode}")
    return completed.stdout
