"""The `tradewire` command: `main(argv) -> exit code`; `run()` is the console script.

Exit codes (documented in the README):
  0    clean: nothing to report
  1    tool failure: something tradewire needs did not work (git, a file, an internal error)
  2    usage error: bad options, arguments or configuration
  100  findings: the gate found problems, or generated code is stale
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from tradewire import __version__
from tradewire.cli.context import EXIT_FAILURE, EXIT_USAGE, CliState, console_err
from tradewire.cli.contracts import generate
from tradewire.cli.dev import dev
from tradewire.cli.dlq import dlq
from tradewire.cli.gate import breaking, lint, rules
from tradewire.cli.harness import harness
from tradewire.cli.latency import latency
from tradewire.cli.publish import drift, push_command
from tradewire.cli.registry import registry
from tradewire.cli.topics import topics
from tradewire.errors import ConfigError, TradingSystemError

__all__ = ["main", "run"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Path to tradewire.yaml (default: the nearest one above the current directory).",
)
@click.version_option(__version__, prog_name="tradewire")
@click.pass_context
def cli(context: click.Context, config_path: str | None) -> None:
    """Contract-first Kafka messaging for the trading agents."""
    context.obj = CliState(config_path)


cli.add_command(generate)
cli.add_command(lint)
cli.add_command(breaking)
cli.add_command(rules)
cli.add_command(dev)
cli.add_command(latency)
cli.add_command(harness)
cli.add_command(dlq)
cli.add_command(registry)
cli.add_command(topics)
registry.add_command(push_command)
registry.add_command(drift)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (never calls sys.exit)."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="tradewire", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        error.show()
        return EXIT_USAGE
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        console_err().print("aborted")
        return EXIT_FAILURE
    except ConfigError as error:
        console_err().print(f"[bold red]configuration error:[/] {error}", highlight=False)
        return EXIT_USAGE
    except TradingSystemError as error:
        console_err().print(f"[bold red]error:[/] {error}", highlight=False)
        return EXIT_FAILURE
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main(sys.argv[1:]))
