#!/usr/bin/env bash
# The README's test command: installs what is missing, builds a Release tree in build/ with
# every core, and runs the whole CTest suite. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/launch/setup.sh" --tests
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
