#!/usr/bin/env bash
# Runs every JavaScript test file with node's own test runner (node --test): the SDK's
# (tests/js) and the mini program's (miniprogram/test). Also installs, exactly as its lock file
# says, the third-party OpenID Connect client that tests/oidc/test_third_party_clients.py drives.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd tests/oidc/clients && npm ci --no-audit --no-fund --loglevel=error)
mapfile -t files < <(find tests/js miniprogram/test -name '*.test.js' -o -name '*.test.mjs' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no JavaScript tests"
  exit 0
fi
exec node --test "${files[@]}"
