#!/usr/bin/env bash
# The test command (README and CI run exactly this): install the dev set, then lint, type-check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy (strict on runtime/)"
.venv/bin/python scripts/typecheck.py   # mypy on the package as built (runtime/ is podwhisperer.runtime)
echo "== pytest"
.venv/bin/python -m pytest "$@"
