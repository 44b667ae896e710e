#!/usr/bin/env bash
# The GPU check (issue #12), for a machine with an NVIDIA GPU: builds build-cuda/ (LibTorch 2.x
# from the torch wheel, launch/setup_cuda.sh), then runs the learner's training path
# (ringzero-bench-learner: self-play records decoded and inserted into a replay window, batches
# built, train steps, weight publishes into a real shared-memory WeightSlot) on the CPU and on
# the GPU in one sitting, and prints samples/s trained and the weight-publish time of both.
#
#   tests/gpu/check.sh [--device cuda:N] [--seconds S] [--game connect4] [--blocks 2] [--filters 32] [--batch 128]
#
# Without a usable GPU (no nvidia-smi, no device listed, or LibTorch cannot use it) it says so
# and exits 0 with nothing measured. Record what it prints in docs/performance.md with the
# GPU's name (printed) and the CPU topology (printed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
device=cuda
bench_args=()
while (($#)); do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --seconds|--game|--blocks|--filters|--batch) bench_args+=("$1" "$2"); shift 2 ;;
    *) echo "tests/gpu/check.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done

gpus=$(nvidia-smi -L 2>/dev/null || true)
if [[ -z "$gpus" ]]; then
  echo "gpu check: no NVIDIA GPU on this machine (nvidia-smi lists none): nothing measured"
  exit 0
fi
bash "$root/launch/setup_cuda.sh"
bench="$root/build-cuda/learner/ringzero-bench-learner"
# LibTorch must see the GPU too (a driver new enough for the wheel's CUDA): a short probe.
if ! probe=$("$bench" --device "$device" --seconds 0.01 "${bench_args[@]}" 2>&1); then
  echo "gpu check: LibTorch cannot use the GPU: $(tail -n 1 <<<"$probe"): nothing measured"
  exit 0
fi
echo "== $(date -u +%FT%TZ), $(git -C "$root" rev-parse --short HEAD)"
echo "== GPU: $gpus"
echo "== CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) online CPUs; $(lscpu | grep -E '^(Thread|Core|Socket)' | tr -s ' ' | paste -sd';')"
for d in cpu "$device"; do
  echo "== ringzero-bench-learner --device $d ${bench_args[*]}"
  "$bench" --device "$d" "${bench_args[@]}"
done
