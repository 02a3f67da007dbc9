#!/usr/bin/env bash
# Install what the integration tests need and a fresh machine may lack: Java 17+ and Maven
# (the native Kafka), redis-server, promtool, and the Docker Compose CLI plugin (to validate
# registry-compose.yml; no Docker engine is needed for that). Debian packages are installed
# when running as root. `ensure-tools.sh kafka` stops after Java and Maven.
set -euo pipefail

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: please install: $*" >&2
    exit 1
  fi
  echo "ensure-tools: installing $*" >&2
  if [ -z "${_apt_updated:-}" ]; then apt-get update -qq; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then apt_install openjdk-17-jre-headless; fi
if ! command -v mvn >/dev/null 2>&1; then apt_install maven; fi
# `ensure-tools.sh kafka`: only what the native Kafka needs (the main job).
if [ "${1:-all}" = kafka ]; then exit 0; fi
# redis-server: the Redis idempotency store's integration tests start a throwaway one.
if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server; fi
# promtool: checks and unit-tests the Prometheus alerting rules in monitoring/prometheus/.
# The tests start their own Prometheus on loopback; a packaged service (0.0.0.0:9090) is stopped.
if ! command -v promtool >/dev/null 2>&1; then
  apt_install prometheus
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then service prometheus stop >/dev/null 2>&1 || true; fi
fi

# docker compose: the CLI plugin, built from the Go module proxy when the machine has none.
compose_version=v2.40.3
if ! docker compose version >/dev/null 2>&1; then
  if ! command -v docker >/dev/null 2>&1; then apt_install docker-cli 2>/dev/null || apt_install docker.io; fi
  cache=${TRADEWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tradewire}/docker-compose-$compose_version
  if [ ! -x "$cache" ]; then
    command -v go >/dev/null 2>&1 || apt_install golang-go
    echo "ensure-tools: building the docker compose plugin $compose_version from the Go module proxy (a few minutes, once)" >&2
    dir=$(go mod download -json "github.com/docker/compose/v2@$compose_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$(dirname "$cache")"
    (cd "$dir" && GOFLAGS=-buildvcs=false go build -o "$cache.tmp" ./cmd) && mv "$cache.tmp" "$cache"
  fi
  mkdir -p "$HOME/.docker/cli-plugins"
  cp "$cache" "$HOME/.docker/cli-plugins/docker-compose"
  docker compose version >/dev/null
fi
