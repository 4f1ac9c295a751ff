#!/usr/bin/env bash
# Runs every test: installs what the tests need on a fresh Debian machine (only what is missing;
# Debian packages only, never a browser download), then lint, typecheck and the vitest suites.
# Prints a final plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test-all: installing ${need[*]} (Debian)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >&2 ||
      echo "test-all: could not install ${need[*]}; tests that need them will say so" >&2
  else
    echo "test-all: ${need[*]} missing and not root: tests that need them will say so" >&2
  fi
fi

status=0
echo "== lint"; npx --no-install eslint . || status=1
echo "== typecheck"; npx --no-install tsc -p tsconfig.json --noEmit || status=1
echo "== unit and integration tests (vitest)"
mkdir -p test-results
npx --no-install vitest run --reporter=default --reporter=json --outputFile=test-results/vitest.json || status=1
node -e '
  const fs = require("fs");
  let r = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0 };
  try { r = JSON.parse(fs.readFileSync("test-results/vitest.json", "utf8")); } catch { r.numFailedTests = 1; }
  const lint = process.argv[1] === "0" ? 0 : 1;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + lint} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$status"
exit $status
