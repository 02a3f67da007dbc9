"""What every command shares: exit codes, consoles, and the repository configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from rich.console import Console

from tradewire.avro.catalog import Catalog
from tradewire.config import CONFIG_FILE, Config, check_against_catalog, find_config, load_config
from tradewire.errors import ConfigError, GitError
from tradewire.gate.git import GitRepository
from tradewire.gate.sources import SchemaReadError, SchemaSources, read_schema_sources
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


UNBOUNDED_WIDTH = 100_000
"""The width results are laid out in when standard output is not a terminal: wider than any row."""


def console_out() -> Console:
    """Standard output, for results (never styled when piped). Outside a terminal (a pipe, a file, CI)
    there is no width to fit: tables take the width their cells need, so nothing is cut or wrapped."""
    console = Console(soft_wrap=True, highlight=False)
    if not console.is_terminal:
        console.width = UNBOUNDED_WIDTH
    return console


def console_err() -> Console:
    """Standard error, for progress and summaries."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass
class CliState:
    """Per-invocation state: the `--config` option, resolved lazily."""

    config_path: str | None
    _config: Config | None = field(default=None, init=False)
    _sources: SchemaSources | None = field(default=None, init=False)

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

    def sources(self) -> SchemaSources:
        """Every schema of the working tree, parsed together, with the findings about their bytes; once every
        schema parses, the configuration's subjects, event topics and domains are checked against them."""
        if self._sources is None:
            config = self.config
            if not config.schemas_path.is_dir():
                raise ConfigError(
                    f"schema directory {config.schemas_path} does not exist (see 'schemas' in {CONFIG_FILE})"
                )
            sources = read_schema_sources(config.root, config.schemas)
            catalog = sources.catalog
            if not sources.findings and all(schema_file.ok for schema_file in catalog):
                # once every schema parses (else their own findings come first), the configuration's
                # subjects, event topics and domains are checked against them (ConfigError naming unknown ones)
                subjects = set(catalog.by_subject())
                if not set(config.compatibility.subjects) <= subjects:
                    subjects |= committed_subjects(config)
                check_against_catalog(config, subjects, events_of_catalog(catalog, config.namespace))
            self._sources = sources
        return self._sources

    def catalog(self) -> Catalog:
        """Every schema of the working tree, parsed together, for commands that use schemas without
        reporting findings (`registry push`, `drift`): a file over the size limit or not UTF-8 is refused
        with SchemaReadError, rather than sent somewhere with its undecodable bytes replaced."""
        sources = self.sources()
        if sources.findings:
            listing = "; ".join(finding.text() for finding in sources.findings)
            raise SchemaReadError(f"{listing} (see `tradewire lint`)")
        return sources.catalog


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
