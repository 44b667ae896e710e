#!/usr/bin/env bash
# The README's test command: installs what is missing, builds a Release tree in build/ with
# every core, and runs the whole CTest suite. Exits non-zero on any failure.
# tests/run.sh --cuda: the same against LibTorch 2.x from the torch wheel with the CUDA
# toolkit, in build-cuda/ (launch/setup_cuda.sh; the tests run on the CPU).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ "${1:-}" == --cuda ]]; then
  bash "$root/launch/setup_cuda.sh" --tests
  cd "$root/build-cuda"
else
  bash "$root/launch/setup.sh" --tests
  cd "$root/build"
fi
# The Python test tools (torch, onnx, onnxruntime, tensorboard) in their cached virtual
# environment; exit 3 (the package registry unreachable) lets those tests skip, saying why.
bash "$root/launch/python_env.sh" >/dev/null || [[ $? -eq 3 ]]
ctest --output-on-failure -j "$(nproc)" --timeout 600
