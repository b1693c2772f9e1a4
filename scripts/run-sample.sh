#!/usr/bin/env bash
# Transcribe the sample clip that ships with the repo, on this machine, offline (CPU, packaged tiny.en model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
.venv/bin/podwhisperer transcribe samples/two-voices.mp3 --output-dir out/sample "$@"
echo "Results are in out/sample/ (work files and checkpoints under out/sample/.podwhisperer/)"
