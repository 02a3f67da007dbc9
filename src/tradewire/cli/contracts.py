"""`tradewire generate`: typed Python classes from the Avro contracts."""

from __future__ import annotations

import click

from tradewire.cli.context import EXIT_FINDINGS, EXIT_OK, CliState, console_err
from tradewire_codegen import generate_sources, stale, write

__all__ = ["generate"]


@click.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 100 naming every file that is out of date.")
@click.pass_obj
def generate(state: CliState, check: bool) -> int:
    """Generate typed contract classes from the schemas (deterministic; --check for CI)."""
    config = state.config
    sources = generate_sources(state.catalog(), config)
    err = console_err()
    if check:
        outdated = stale(sources, config.root, config.contracts.out)
        for path in outdated:
            click.echo(f"{path}: out of date; run `tradewire generate`")
        if outdated:
            err.print(f"[red]{len(outdated)} generated file(s) out of date[/]")
            return EXIT_FINDINGS
        err.print(f"[green]generated contracts are up to date[/] ({len(sources)} files)")
        return EXIT_OK
    changed = write(sources, config.root, config.contracts.out)
    for path in changed:
        click.echo(f"{'wrote' if path in sources else 'removed'} {path}")
    err.print(f"{len(changed)} file(s) changed, {len(sources) - len(changed)} unchanged in {config.contracts.out}")
    return EXIT_OK
