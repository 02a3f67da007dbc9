#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with every dependency group.
# Idempotent and quick when nothing changed: the install is keyed on a hash of pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "bootstrap: $python not found; install Python 3.11 or newer" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap: $("$python" --version 2>&1) is too old; tradewire needs Python 3.11 or newer" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    # Debian's python3 ships venv separately; install it when we are allowed to.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "bootstrap: installing python3-venv" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf .venv
      "$python" -m venv .venv
    else
      echo "bootstrap: '$python -m venv' failed; install your distribution's venv package (python3-venv)" >&2
      exit 1
    fi
  fi
fi

stamp=.venv/.tradewire-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing tradewire and its dependency groups into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
  .venv/bin/python -m pip install --quiet -e . --group dev
  echo "$want" > "$stamp"
fi
