#!/usr/bin/env bash
# The second build (issue #12): ringzero against the LibTorch inside the `torch` pip wheel
# (2.x, built with CUDA) and this machine's CUDA toolkit, in build-cuda/. The default build
# stays Debian's LibTorch 1.13 in build/ (launch/setup.sh); this one is for GPU machines and to
# prove the code compiles, links and passes its tests against LibTorch 2.x.
#
#   launch/setup_cuda.sh [--tests]     (--tests also builds the tests; tests/run.sh --cuda)
#
# Installs what is missing: the Debian packages (through launch/setup.sh, which also brings
# build/ up to date, so the checkpoint cross-load test has both trees), then the wheel into
# ringzero's cached virtual environment (launch/python_env.sh; never the system Python). Needs
# the CUDA toolkit (nvcc): LibTorch 2.x's CMake package configures against it even though no
# file of ours is CUDA code. Exits non-zero with one line naming the fix when something is
# missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_tests=OFF
[[ "${1:-}" == "--tests" ]] && build_tests=ON

bash "$root/launch/setup.sh" ${1:+"$1"}

nvcc=$(command -v nvcc || true)
[[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
if [[ -z "$nvcc" ]]; then
  echo "ringzero: the CUDA toolkit (nvcc) is not installed; install it (NVIDIA's cuda-toolkit" \
       "package, CUDA 12 or 13) or put its bin/ on PATH, then rerun" >&2
  exit 1
fi

status=0
venv=$(bash "$root/launch/python_env.sh") || status=$?
if ((status != 0)); then
  echo "ringzero: the torch wheel could not be installed (launch/python_env.sh exit $status; see above)" >&2
  exit 1
fi
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
# CMAKE_PREFIX_PATH is the wheel's torch/ itself: TorchConfig's find_library(c10) must look in
# torch/lib before the system's libc10 (Debian's 1.13); see cmake/ringzero_torch.cmake.
mkdir -p "$root/build-cuda"
cmake -S "$root" -B "$root/build-cuda" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=$build_tests \
  -DCMAKE_PREFIX_PATH="$torch_dir" -DCMAKE_CUDA_COMPILER="$nvcc" >"$root/build-cuda/configure.log" 2>&1 ||
  { tail -n 30 "$root/build-cuda/configure.log" >&2
    echo "ringzero: configuring build-cuda/ failed (log: $root/build-cuda/configure.log)" >&2; exit 1; }
grep "ringzero: LibTorch" "$root/build-cuda/configure.log" | sed 's/^-- //' >&2
cmake --build "$root/build-cuda" -j "$(nproc)"
