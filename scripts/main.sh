#!/usr/bin/env bash
# The main job: set up, check the contracts (generated code is fresh, every schema passes lint,
# no change breaks compatibility), then run the agent pipeline over a real Kafka and the dev
# registry (started and stopped by the harness): `steady`, then `poison`. Prints each
# scenario's ledger and SLO table and where its report is; exits non-zero when one fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/ensure-tools.sh kafka
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
echo "== tradewire harness run --scenario steady --scenario poison"
$tw harness run --scenario steady --scenario poison --report "${TRADEWIRE_REPORT_DIR:-.tradewire/harness}" "$@"
