#!/usr/bin/env bash
# The test command (README and CI run exactly this): install the dev set, then lint, type-check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy (strict on runtime/)"
.venv/bin/mypy podwhisperer/runtime podwhisperer/worker podwhisperer/components podwhisperer/cli.py
echo "== pytest"
.venv/bin/python -m pytest "$@"
