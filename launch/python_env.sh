#!/usr/bin/env bash
# ringzero's one Python virtual environment: the `torch` wheel (its LibTorch 2.x with CUDA is
# what `tests/run.sh --cuda` builds against), onnx, onnxruntime and tensorboard (the export
# and the Python test tools). Never the system Python: the environment lives in a cache
# directory, one per requirements file content, and is created on first use.
#
# Usage: launch/python_env.sh          prints the environment's directory (creating it)
#        launch/python_env.sh --check  prints it only if it is complete, else exits 1
# Exit codes: 0 ready; 1 not ready (--check); 3 the Python package registry is unreachable
# (callers that only test may skip, with that reason); anything else is a real failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
req="$root/launch/python-requirements.txt"
cache="${RINGZERO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ringzero}"
tag=$(sha256sum "$req" | cut -c1-12)
venv="$cache/venv-$tag"

if [[ -f "$venv/.complete" ]]; then echo "$venv"; exit 0; fi
[[ "${1:-}" == "--check" ]] && exit 1

py=$(command -v python3 || true)
if [[ -z "$py" ]]; then
  echo "ringzero: python3 not found; install it with: apt-get install -y python3 python3-venv" >&2
  exit 2
fi
umask 077
mkdir -p "$cache"
# One creator at a time (two test runs may start together); the loser waits, then reuses.
exec 9>"$cache/venv.lock"
flock 9
if [[ -f "$venv/.complete" ]]; then echo "$venv"; exit 0; fi
rm -rf "$venv"
if ! "$py" -m venv "$venv" >&2; then
  echo "ringzero: could not create a virtual environment with $py; install python3-venv" >&2
  exit 2
fi
echo "ringzero: installing Python packages into $venv (torch is large: minutes the first time)" >&2
log="$cache/pip-install.log"
if ! "$venv/bin/pip" install --disable-pip-version-check -q -r "$req" >"$log" 2>&1; then
  if grep -qiE 'connection|resolve|network is unreachable|timed out|No matching distribution' "$log"; then
    echo "ringzero: the Python package registry is unreachable (see $log); Python-based steps are skipped" >&2
    rm -rf "$venv"
    exit 3
  fi
  echo "ringzero: pip install failed; see $log" >&2
  rm -rf "$venv"
  exit 2
fi
touch "$venv/.complete"
echo "$venv"
