#!/usr/bin/env bash
# Runs every test: installs what the tests need on a fresh Debian machine (only what is missing;
# Debian packages only, never a browser download), then lint, typecheck, svelte-check, the
# Electronegativity scan, the vitest suites and the Playwright e2e suites.
# Prints a final plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
# One real boot of Debian's 7.3 kernel under QEMU (test/capture/boot-7x.test.ts) needs these.
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -r /usr/include/bpf/libbpf.h ] || need+=(libbpf-dev)
[ -r /usr/include/libelf.h ] || need+=(libelf-dev)
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
# The PostgreSQL store's tests run against a real throw-away cluster (test/support/pg-global-setup.ts).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
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
echo "== svelte-check"; npx --no-install svelte-check --tsconfig ./tsconfig.json --threshold error --output machine | tail -3 || status=1
echo "== security scan (Electronegativity over the built app; docs/security.md)"; npm run -s security:scan 2>&1 | grep -v "Could not retrieve updated translations" || status=1
echo "== unit and integration tests (vitest)"
mkdir -p test-results
# No PostgreSQL server fails the run instead of skipping its tests (unless KPTRSCOPE_TEST_PG names one).
export KPTRSCOPE_REQUIRE_PG=1
npx --no-install vitest run --reporter=default --reporter=json --outputFile=test-results/vitest.json || status=1
echo "== end-to-end (Playwright, Debian chromium, browser host)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$PWD/test-results/e2e.json" npx --no-install playwright test -c test/e2e/playwright.config.ts --reporter=list,json || status=1
node -e '
  const fs = require("fs");
  let r = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0 };
  try { r = JSON.parse(fs.readFileSync("test-results/vitest.json", "utf8")); } catch { r.numFailedTests = 1; }
  let e = { expected: 0, unexpected: 0, skipped: 0 };
  try { e = JSON.parse(fs.readFileSync("test-results/e2e.json", "utf8")).stats; } catch { e.unexpected = 1; }
  const other = process.argv[1] === "0" ? 0 : 1;
  const passed = r.numPassedTests + e.expected, failed = r.numFailedTests + e.unexpected, skipped = r.numPendingTests + e.skipped;
  console.log(`${passed} passed, ${Math.max(failed, other)} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$status"
exit $status
