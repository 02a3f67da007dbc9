"""`tradewire generate`: typed Python classes from the Avro contracts.

Schemas with input findings (unreadable JSON or Avro, unknown types, a file over the size limit)
are refused before any code is generated: the findings are printed as `lint` prints them, nothing
is written, and the exit code is the findings code, 100. So is a schema that parses but cannot
be turned into Python (the reason is named).
"""

from __future__ import annotations

import click
from rich.markup import escape

from tradewire.cli.context import EXIT_FINDINGS, EXIT_OK, CliState, console_err
from tradewire.errors import CodegenError
from tradewire.gate.findings import normalize, render
from tradewire.gate.lint import problem_findings
from tradewire_codegen import generate_sources, stale, write

__all__ = ["generate"]


@click.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 100 naming every file that is out of date.")
@click.pass_obj
def generate(state: CliState, check: bool) -> int:
    """Generate typed contract classes from the schemas (deterministic; --check for CI).

    Exit 100, writing nothing, when a schema has input findings or cannot be turned into Python.
    """
    config = state.config
    sources = state.sources()
    catalog = sources.catalog
    err = console_err()
    refused = normalize([*problem_findings(catalog, catalog.problems(include_warnings=False)), *sources.findings])
    if refused:
        click.echo(render(refused, "text"), nl=False)
        err.print(
            f"[red]{len(refused)} finding(s) in {len({f.path for f in refused})} file(s)[/]: nothing generated "
            "(see `tradewire lint`)"
        )
        return EXIT_FINDINGS
    try:
        sources_by_path = generate_sources(catalog, config)
    except CodegenError as error:
        err.print(f"[red]cannot generate code:[/] {escape(str(error))}")
        return EXIT_FINDINGS
    if check:
        outdated = stale(sources_by_path, config.root, config.contracts.out)
        for path in outdated:
            click.echo(f"{path}: out of date; run `tradewire generate`")
        if outdated:
            err.print(f"[red]{len(outdated)} generated file(s) out of date[/]")
            return EXIT_FINDINGS
        err.print(f"[green]generated contracts are up to date[/] ({len(sources_by_path)} files)")
        return EXIT_OK
    changed = write(sources_by_path, config.root, config.contracts.out)
    for path in changed:
        click.echo(f"{'wrote' if path in sources_by_path else 'removed'} {path}")
    err.print(
        f"{len(changed)} file(s) changed, {len(sources_by_path) - len(changed)} unchanged in {config.contracts.out}"
    )
    return EXIT_OK
