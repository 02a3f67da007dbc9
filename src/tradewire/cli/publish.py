"""`tradewire registry push` and `tradewire registry drift` (added to the `registry` group)."""

from __future__ import annotations

import click

from tradewire.cli.context import EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, CliState, console_err
from tradewire.errors import ConfigError
from tradewire.registry.client import RegistryClient
from tradewire.registry.publish import detect_drift, push
from tradewire.topics import check_prefix

__all__ = ["drift", "push_command", "registry_option", "topic_prefix_option"]

registry_option = click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    default=None,
    help="Schema registry URL (default: $TRADEWIRE_REGISTRY_URL; basic auth from $TRADEWIRE_REGISTRY_BASIC_AUTH).",
)


topic_prefix_option = click.option(
    "--topic-prefix",
    metavar="PREFIX",
    envvar="TRADEWIRE_TOPIC_PREFIX",
    default="",
    help="Events' subjects are <PREFIX><topic>-value, as prefixed producers name them (default: "
    "$TRADEWIRE_TOPIC_PREFIX); shared types' subjects are never prefixed.",
)


def _prefix(value: str) -> str:
    try:
        return check_prefix(value)
    except ConfigError as error:
        raise click.BadParameter(str(error), param_hint="--topic-prefix") from None


def _client(url: str | None) -> RegistryClient:
    try:
        return RegistryClient.from_env(url)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@click.command("push")
@registry_option
@topic_prefix_option
@click.option("--dry-run", is_flag=True, help="Register nothing; say what would change and whether it is compatible.")
@click.pass_obj
def push_command(state: CliState, registry_url: str | None, topic_prefix: str, dry_run: bool) -> int:
    """Register every schema, shared types first, with references; set levels from tradewire.yaml."""
    prefix = _prefix(topic_prefix)
    client = _client(registry_url)
    actions = push(state.catalog(), state.config, client, dry_run=dry_run, prefix=prefix)
    width = max((len(a.subject) for a in actions), default=0)
    for action in actions:
        where = f" v{action.version} (id {action.schema_id})" if action.version is not None else ""
        detail = f": {action.detail}" if action.detail else ""
        click.echo(f"{action.subject:<{width}}  {action.outcome}{where}{detail}")
    failed = [a for a in actions if a.outcome in ("failed", "skipped")]
    refused = [a for a in actions if a.outcome == "would-register" and a.detail.startswith("INCOMPATIBLE")]
    changed = [a for a in actions if a.outcome in ("registered", "would-register", "level-set")]
    verb = "would change" if dry_run else "changed"
    under = f" (topic prefix {prefix!r})" if prefix else ""
    console_err().print(f"{len(changed)} {verb}, {len(failed)} failed, against {client.url}{under}")
    if failed:
        return EXIT_FAILURE
    return EXIT_FINDINGS if refused else EXIT_OK


@click.command()
@registry_option
@topic_prefix_option
@click.pass_obj
def drift(state: CliState, registry_url: str | None, topic_prefix: str) -> int:
    """Fail when the registry's latest versions and the repository's schemas differ, naming each subject
    (and every registered subject no schema produces: under a prefix, those starting with it or in the root
    namespace)."""
    prefix = _prefix(topic_prefix)
    client = _client(registry_url)
    drifts = detect_drift(state.catalog(), state.config, client, prefix=prefix)
    for item in drifts:
        click.echo(f"{item.subject}: {item.kind}: {item.detail}")
    under = f" (topic prefix {prefix!r})" if prefix else ""
    if drifts:
        console_err().print(f"[red]{len(drifts)} subject(s) drifted[/] between the repository and {client.url}{under}")
        return EXIT_FINDINGS
    console_err().print(
        f"[green]no drift[/]: the registry at {client.url} holds exactly the repository's schemas{under}"
    )
    return EXIT_OK
