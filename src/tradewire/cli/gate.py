"""`tradewire lint`, `tradewire breaking` and `tradewire rules`: the compatibility gate."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath

import click
from rich.progress import Progress
from rich.table import Table

from tradewire.avro.catalog import Catalog
from tradewire.cli.context import EXIT_FINDINGS, EXIT_OK, CliState, console_err, console_out
from tradewire.config import Config
from tradewire.errors import ConfigError
from tradewire.gate.breaking import BreakingReport, changed_subjects, compare, directions_for, history_from_catalogs
from tradewire.gate.findings import FORMATS, Finding, normalize, render
from tradewire.gate.git import GitRepository, RefError
from tradewire.gate.lint import lint as run_lint
from tradewire.gate.online import online_report
from tradewire.gate.rules import RULES, Rule
from tradewire.registry.client import RegistryClient
from tradewire.topics import check_prefix

__all__ = ["breaking", "lint", "rules"]

_FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json (one object per line), github (workflow annotations), junit (XML).",
)


def _emit(findings: Sequence[Finding], output_format: str, checked: Sequence[str], suite: str) -> None:
    text = render(findings, output_format, checked=checked, suite=suite)
    if text:
        click.echo(text, nl=False)


def _summary(findings: Sequence[Finding], what: str) -> None:
    files = len({f.path for f in findings})
    if findings:
        console_err().print(f"[red]{len(findings)} finding(s) in {files} file(s)[/] ({what})")
    else:
        console_err().print(f"[green]no findings[/] ({what})")


@click.command()
@_FORMAT_OPTION
@click.pass_obj
def lint(state: CliState, output_format: str) -> int:
    """Check every schema against the house rules (see `tradewire rules`)."""
    sources = state.sources()
    catalog = sources.catalog
    findings = normalize([*run_lint(catalog, state.config), *sources.findings])
    checked = sorted(catalog.files)
    _emit(findings, output_format, checked, "tradewire.lint")
    _summary(findings, f"{len(checked)} schema file(s) linted")
    return EXIT_FINDINGS if findings else EXIT_OK


@click.command()
@click.option(
    "--against",
    metavar="REF",
    default=None,
    help="git ref holding the earlier versions (default: merge base of HEAD and the configured branch).",
)
@click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    default=None,
    help="Compare with what a schema registry holds, at the levels configured there (instead of git).",
)
@click.option(
    "--topic-prefix",
    metavar="PREFIX",
    envvar="TRADEWIRE_TOPIC_PREFIX",
    default="",
    help="With --registry: events' subjects are <PREFIX><topic>-value, as `registry push --topic-prefix` "
    "registers them (default: $TRADEWIRE_TOPIC_PREFIX); shared types' subjects are never prefixed.",
)
@_FORMAT_OPTION
@click.pass_obj
def breaking(
    state: CliState, against: str | None, registry_url: str | None, topic_prefix: str, output_format: str
) -> int:
    """Refuse schema changes that break readers or writers, per subject compatibility level."""
    config = state.config
    sources = state.sources()
    current = sources.catalog
    if registry_url is not None:
        if against is not None:
            raise click.UsageError("--against (git) and --registry are alternatives; pass one")
        try:
            prefix = check_prefix(topic_prefix)
        except ConfigError as error:
            raise click.BadParameter(str(error), param_hint="--topic-prefix") from None
        client = RegistryClient.from_env(registry_url)
        report, levels = online_report(current, config, client, prefix=prefix)
        label = f"the registry at {client.url}"
        for subject, level in sorted(levels.items()):
            wanted = config.compatibility.level(subject)
            if level != wanted:
                console_err().print(
                    f"[yellow]note:[/] the registry checks {subject} at {level}; tradewire.yaml says {wanted} "
                    "(`tradewire registry push` sets it)"
                )
    else:
        with GitRepository.discover(config.root) as repo:
            report, label = _offline_report(repo, config, current, against)
    findings = normalize([*report.findings, *sources.findings])
    _emit(findings, output_format, report.checked, "tradewire.breaking")
    err = console_err()
    for finding, approval in report.approved:
        err.print(f"approved: {finding.text()} -- {approval.reason}")
    for approval in report.unused_approvals:
        err.print(
            f"[yellow]warning:[/] approval of {approval.rule} at {approval.schema} {approval.at} matches no finding; "
            "remove it from tradewire.yaml"
        )
    _summary(findings, f"{report.compared} changed schema(s) compared with {label}")
    return EXIT_FINDINGS if findings else EXIT_OK


def _offline_report(
    repo: GitRepository, config: Config, current: Catalog, against: str | None
) -> tuple[BreakingReport, str]:
    if against is not None:
        try:
            commit = repo.resolve(against)
        except RefError as error:
            raise click.BadParameter(str(error), param_hint="'--against'") from None
        label = f"{against} ({commit[:8]})"
    else:
        try:
            commit = repo.merge_base(config.breaking.against_branch)
        except RefError as error:
            raise ConfigError(f"breaking.against: {error}") from None
        label = f"merge base with {config.breaking.against_branch} ({commit[:8]})"
    prefix = PurePosixPath(config.root.resolve().relative_to(repo.root.resolve()).as_posix())
    directory = (prefix / config.schemas).as_posix() if str(prefix) != "." else config.schemas

    def catalog_at(revision: str) -> Catalog:
        texts = repo.texts(revision, directory)
        if str(prefix) != ".":
            texts = {PurePosixPath(p).relative_to(prefix).as_posix(): t for p, t in texts.items()}
        return Catalog.from_texts(texts)

    baseline = catalog_at(commit)
    catalogs: list[tuple[str, Catalog]] = []
    changed = changed_subjects(current, baseline)
    transitive = any(directions_for(config.compatibility.level(subject))[1] for subject in changed)
    if transitive:
        revisions = [r for r in repo.history(commit, directory) if r != commit]
        with Progress(console=console_err(), transient=True, disable=len(revisions) < 20) as progress:
            task = progress.add_task("reading schema history", total=len(revisions))
            for revision in revisions:
                catalogs.append((revision[:8], catalog_at(revision)))
                progress.advance(task)
    catalogs.append((label, baseline))
    history = history_from_catalogs(catalogs)
    return compare(current, history, config, baseline_label=label, baseline=baseline), label


@click.command()
@click.option(
    "--check", "check", type=click.Choice(["input", "lint", "breaking"]), default=None, help="Only one check."
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
def rules(check: str | None, output_format: str) -> int:
    """List every rule with its id, category and purpose."""
    selected = [r for r in RULES if check is None or r.check == check]
    if output_format == "json":
        for r in selected:
            click.echo(json.dumps({"id": r.id, "check": r.check, "category": r.category, "purpose": r.purpose}))
    elif output_format == "markdown":
        click.echo(markdown_rules_table(selected), nl=False)
    else:
        table = Table("id", "check", "category", "purpose", box=None)
        for r in selected:
            table.add_row(r.id, r.check, r.category, r.purpose)
        console_out().print(table)
    return EXIT_OK


def markdown_rules_table(selected: Sequence[Rule] = RULES) -> str:
    """The rules as a Markdown table (the README embeds this exact text)."""
    lines = ["| id | check | category | purpose |", "| --- | --- | --- | --- |"]
    lines.extend(f"| `{r.id}` | {r.check} | {r.category} | {r.purpose} |" for r in selected)
    return "\n".join(lines) + "\n"
