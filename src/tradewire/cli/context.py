"""What every command shares: exit codes, consoles, and the repository configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from rich.console import Console

from tradewire.avro.catalog import Catalog
from tradewire.config import CONFIG_FILE, Config, check_against_catalog, find_config, load_config
from tradewire.errors import ConfigError, GitError
from tradewire.gate.git import GitRepository
from tradewire.topics.contract import events_of_catalog

__all__ = [
    "EXIT_FAILURE",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliState",
    "console_err",
    "console_out",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 100


def console_out() -> Console:
    """Standard output, for results (never styled when piped)."""
    return Console(soft_wrap=True, highlight=False)


def console_err() -> Console:
    """Standard error, for progress and summaries."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass
class CliState:
    """Per-invocation state: the `--config` option, resolved lazily."""

    config_path: str | None
    _config: Config | None = field(default=None, init=False)

    @property
    def config(self) -> Config:
        """The repository configuration; ConfigError when there is none."""
        if self._config is None:
            if self.config_path is not None:
                path = Path(self.config_path)
                if not path.is_file():
                    raise ConfigError(f"{path}: no such configuration file")
            else:
                found = find_config(Path.cwd())
                if found is None:
                    raise ConfigError(
                        f"no {CONFIG_FILE} in {Path.cwd()} or its parents; run tradewire inside the repository "
                        "or pass --config"
                    )
                path = found
            self._config = load_config(path)
        return self._config

    def catalog(self) -> Catalog:
        """Every schema of the working tree, parsed together; once every schema parses, the configuration's
        subjects, event topics and domains are checked against it (ConfigError naming unknown ones)."""
        config = self.config
        if not config.schemas_path.is_dir():
            raise ConfigError(f"schema directory {config.schemas_path} does not exist (see 'schemas' in {CONFIG_FILE})")
        catalog = Catalog.from_directory(config.root, config.schemas)
        if all(schema_file.ok for schema_file in catalog):  # else the schemas' own findings come first
            subjects = set(catalog.by_subject())
            if not set(config.compatibility.subjects) <= subjects:
                subjects |= committed_subjects(config)
            check_against_catalog(config, subjects, events_of_catalog(catalog, config.namespace))
        return catalog


def committed_subjects(config: Config) -> set[str]:
    """The subjects of the schemas committed at HEAD and at the merge base with `breaking.against`.

    A schema being removed keeps its `compatibility.subjects` level (the gate reads it) until the
    removal is merged; then its entry is refused like a typo. Empty outside a git repository."""
    subjects: set[str] = set()
    try:
        with GitRepository.discover(config.root) as repo:
            prefix = PurePosixPath(config.root.resolve().relative_to(repo.root.resolve()).as_posix())
            directory = (prefix / config.schemas).as_posix() if str(prefix) != "." else config.schemas
            for commit in (repo.resolve("HEAD"), repo.merge_base(config.breaking.against_branch)):
                texts = repo.texts(commit, directory)
                if str(prefix) != ".":
                    texts = {PurePosixPath(path).relative_to(prefix).as_posix(): text for path, text in texts.items()}
                subjects |= set(Catalog.from_texts(texts).by_subject())
    except (GitError, ValueError):  # not a repository, no commit yet, no such branch: nothing committed to go by
        pass
    return subjects
