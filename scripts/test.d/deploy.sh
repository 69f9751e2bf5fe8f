#!/usr/bin/env bash
# Deployment checks, offline (a step of scripts/test.sh): every Kustomize overlay renders and validates
# against the Kubernetes schemas, the policy holds for every workload (probes, limits, budgets,
# autoscalers, network policies, non-root, read-only root, secrets referenced), the broken fixtures are
# caught, and the compose files validate. Needs kubectl (kustomize) and `npm ci` in tools/.
# Last line: "N passed, N failed"; exit code 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v kubectl >/dev/null 2>&1; then
  # The machine image has it; try the package when a machine lacks it.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl >/dev/null 2>&1 || true
fi
if ! command -v kubectl >/dev/null 2>&1; then
  echo "deploy: kubectl (for kustomize) is not installed"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -d tools/node_modules/kubernetes-models ]; then
  echo "deploy: tools/node_modules is missing: run (cd tools && npm ci)"
  echo "0 passed, 1 failed"
  exit 1
fi
# One line per check, then the totals (--quiet: only the failed checks and the totals).
exec node deploy/checks/check.mjs "$@"
