#!/usr/bin/env bash
# The test job: set up, then static checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/ensure-tools.sh
venv=.venv/bin

echo "== ruff"
$venv/ruff check .
$venv/ruff format --check .
echo "== mypy"
$venv/mypy
$venv/mypy examples
echo "== generated contracts are fresh"
$venv/tradewire generate --check
echo "== pytest (unit, conformance, integration; Kafka and the dev registry start and stop with the session)"
$venv/pytest "$@"
