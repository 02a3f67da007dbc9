"""What every command shares: exit codes, consoles, and the repository configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from tradewire.avro.catalog import Catalog
from tradewire.config import CONFIG_FILE, Config, find_config, load_config
from tradewire.errors import ConfigError
from tradewire.gate.sources import SchemaReadError, SchemaSources, read_schema_sources

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
        """Every schema of the working tree, parsed together, with the findings about their bytes."""
        if self._sources is None:
            config = self.config
            if not config.schemas_path.is_dir():
                raise ConfigError(
                    f"schema directory {config.schemas_path} does not exist (see 'schemas' in {CONFIG_FILE})"
                )
            self._sources = read_schema_sources(config.root, config.schemas)
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
