#!/usr/bin/env bash
# Prepare a fresh machine: system packages (ffmpeg, espeak-ng, sox; chromium and its driver for the transcript
# page test) and the .venv with the given requirements file.
# Usage: scripts/bootstrap.sh [requirements-file]   (default: requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements-dev.txt}"

missing=()
for tool in ffmpeg ffprobe espeak-ng sox chromium chromedriver; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages for: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq ffmpeg espeak-ng sox chromium chromium-driver >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
echo "bootstrap: installing $requirements into .venv (the first run downloads torch, about 3 minutes)"
.venv/bin/python -m pip install -q -r "$requirements"
