#!/usr/bin/env bash
# The main job: set up, then run the contract pipeline over the repository's schemas:
# generated code is fresh, every schema passes lint, and no change breaks compatibility.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
tw=.venv/bin/tradewire

echo "== tradewire generate --check"
$tw generate --check
echo "== tradewire lint"
$tw lint
echo "== tradewire breaking"
if git rev-parse --verify --quiet main >/dev/null || git rev-parse --verify --quiet origin/main >/dev/null; then
  $tw breaking
else
  echo "(no main branch here: comparing the working tree with HEAD)"
  $tw breaking --against HEAD
fi
echo "== contracts are fresh, clean and compatible"
