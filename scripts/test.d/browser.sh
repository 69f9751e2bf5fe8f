#!/usr/bin/env bash
# Makes sure the end-to-end browser tests can run on a fresh machine: Debian's chromium (installed when
# missing) and playwright-core from tools/ (npm ci has run). The browser tests themselves run inside
# `dotnet test` (tests/Vigil.EndToEnd.Tests/BrowserTests.cs). Prints "N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0; failed=0
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq chromium >/dev/null 2>&1
fi
if [ -x /usr/bin/chromium ] && /usr/bin/chromium --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1; then
  echo "check passed: chromium ($(/usr/bin/chromium --version 2>/dev/null | head -1))"; passed=$((passed + 1))
else
  echo "check FAILED: chromium could not be installed"; failed=$((failed + 1))
fi
if (cd tools && node -e "require('playwright-core')") >/dev/null 2>&1; then
  echo "check passed: playwright-core"; passed=$((passed + 1))
else
  echo "check FAILED: playwright-core is not installed in tools/ (npm ci)"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
