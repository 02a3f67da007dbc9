"""`tradewire registry push` and `tradewire registry drift` (added to the `registry` group)."""

from __future__ import annotations

import click

from tradewire.cli.context import EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, CliState, console_err
from tradewire.registry.client import RegistryClient
from tradewire.registry.publish import detect_drift, push

__all__ = ["drift", "push_command", "registry_option"]

registry_option = click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    default=None,
    help="Schema registry URL (default: $TRADEWIRE_REGISTRY_URL; basic auth from $TRADEWIRE_REGISTRY_BASIC_AUTH).",
)


def _client(url: str | None) -> RegistryClient:
    try:
        return RegistryClient.from_env(url)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@click.command("push")
@registry_option
@click.option("--dry-run", is_flag=True, help="Register nothing; say what would change and whether it is compatible.")
@click.pass_obj
def push_command(state: CliState, registry_url: str | None, dry_run: bool) -> int:
    """Register every schema, shared types first, with references; set levels from tradewire.yaml."""
    client = _client(registry_url)
    actions = push(state.catalog(), state.config, client, dry_run=dry_run)
    width = max((len(a.subject) for a in actions), default=0)
    for action in actions:
        where = f" v{action.version} (id {action.schema_id})" if action.version is not None else ""
        detail = f": {action.detail}" if action.detail else ""
        click.echo(f"{action.subject:<{width}}  {action.outcome}{where}{detail}")
    failed = [a for a in actions if a.outcome in ("failed", "skipped")]
    refused = [a for a in actions if a.outcome == "would-register" and a.detail.startswith("INCOMPATIBLE")]
    changed = [a for a in actions if a.outcome in ("registered", "would-register", "level-set")]
    verb = "would change" if dry_run else "changed"
    console_err().print(f"{len(changed)} {verb}, {len(failed)} failed, against {client.url}")
    if failed:
        return EXIT_FAILURE
    return EXIT_FINDINGS if refused else EXIT_OK


@click.command()
@registry_option
@click.pass_obj
def drift(state: CliState, registry_url: str | None) -> int:
    """Fail when the registry's latest versions and the repository's schemas differ, naming each subject."""
    client = _client(registry_url)
    drifts = detect_drift(state.catalog(), state.config, client)
    for item in drifts:
        click.echo(f"{item.subject}: {item.kind}: {item.detail}")
    if drifts:
        console_err().print(f"[red]{len(drifts)} subject(s) drifted[/] between the repository and {client.url}")
        return EXIT_FINDINGS
    console_err().print(f"[green]no drift[/]: the registry at {client.url} holds exactly the repository's schemas")
    return EXIT_OK
