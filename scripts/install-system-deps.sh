#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (Playwright's browser) and
# CJK fonts so screenshots of Chinese pages are legible. Installs only what is missing.
set -euo pipefail
needed=()
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || needed+=(fonts-noto-cjk)
# Redis and PostgreSQL 15 for the multi-instance tests, which start servers of their own.
command -v redis-server >/dev/null 2>&1 || needed+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || needed+=(postgresql-15)
# `make test` validates compose.yaml: with the Docker CLI's compose plugin when there is one,
# else with Debian's docker-compose (no Docker engine needed for either).
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  needed+=(docker-compose)
fi
# Node for the JavaScript tests, npm for the SDK's package and TypeScript.
command -v node >/dev/null 2>&1 || needed+=(nodejs)
command -v npm >/dev/null 2>&1 || needed+=(npm)
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#needed[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
fi
# PostgreSQL refuses to run as root: tests running as root give their cluster to an
# unprivileged user (tests/support/postgres_server.py), postgres or else this one.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1 && ! id minilogin-test >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin minilogin-test
fi
