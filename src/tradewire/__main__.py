"""`python -m tradewire`: the same as the `tradewire` command."""

from tradewire.cli import run

run()
