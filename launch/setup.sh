#!/usr/bin/env bash
# Shared by the README's two commands: installs the Debian packages ringzero needs (when
# run as root; otherwise prints the exact apt-get line and stops) and builds a Release tree
# in build/ with every core. Usage: launch/setup.sh [--tests]   (--tests also builds tests)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_tests=OFF
[[ "${1:-}" == "--tests" ]] && build_tests=ON

packages=(cmake g++ make ccache libtorch-dev libboost-dev libboost-program-options-dev
          libfmt-dev catch2 libopenblas0-pthread gnuplot-nox procps
          redis-server redis-tools libhiredis-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ringzero: missing packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "ringzero: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's reference BLAS makes LibTorch's batch-1 convolutions ~10x slower; OpenBLAS must
# be the selected libblas.so.3 (it is by priority unless someone pinned another).
alt=libblas.so.3-$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
openblas=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas | head -n1 || true)
current=$(readlink -f "/etc/alternatives/$alt" 2>/dev/null || true)
if [[ -n "$openblas" && "$current" != "$(readlink -f "$openblas")" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    update-alternatives --set "$alt" "$openblas" >/dev/null
  else
    echo "ringzero: warning: slow reference BLAS selected; fix with: sudo update-alternatives --set $alt $openblas" >&2
  fi
fi

cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=$build_tests >/dev/null
cmake --build "$root/build" -j "$(nproc)"
