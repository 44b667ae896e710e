#!/usr/bin/env bash
# Which binaries may load CUDA (issue #12), checked with ldd on the built binaries: the learner
# is the only one that links LibTorch's CUDA half. The actor, the evaluator (ringzero-eval),
# play, the supervisor and the monitor must resolve no CUDA library at all, so that a CUDA
# LibTorch can never be mapped into a process the supervisor forks (cmake/ringzero_torch.cmake
# decides this by construction). The live-process side is in test_actor_process and
# test_launch_processes (/proc/PID/maps).
#
#   tests/torch/check_linkage.sh [BUILD_DIR]      (CTest: torch_linkage; default RZ_BUILD_DIR)
#
# With a CUDA LibTorch (build-cuda/) the learner must also resolve libtorch_cuda: the check
# then sees a tree where linking it into the others would be possible. With Debian's CPU-only
# LibTorch that half is reported as not applicable (there is no CUDA library to link).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${RZ_BUILD_DIR:-$root/build}}"
# What makes or serves a CUDA context: LibTorch's CUDA half, the driver, NCCL, cuDNN, NVRTC,
# cuBLAS. The CUDA runtime (libcudart) and CUPTI are on this list too unless the LibTorch CPU
# library itself needs them: the CUDA wheel's libtorch_cpu.so has DT_NEEDED libcudart.so.13 and
# libcupti.so.13 (its profiler), so every process running that LibTorch maps them; they create
# no context until called, and nothing of ours calls them outside the learner.
cuda_libs='libtorch_cuda|libc10_cuda|libcuda\.so|libnccl|libcudnn|libnvrtc|libcublas'
failed=0
torch_cpu_lib=$(ldd "$build/learner/ringzero-learner" | grep -oE '/[^ ]*/libtorch_cpu\.so[^ ]*' | head -n1 || true)
if [[ -n "$torch_cpu_lib" ]] && grep -qE 'NEEDED.*libcudart' <<<"$(readelf -d "$torch_cpu_lib")"; then
  echo "torch_linkage: note: $torch_cpu_lib itself needs libcudart and libcupti: those two are allowed as its dependencies" >&2
else
  cuda_libs="$cuda_libs|libcudart|libcupti"
fi

declare -A libs  # binary -> its ldd output
for bin in actor/ringzero-actor common/eval/ringzero-eval common/play/ringzero-play \
           common/export/ringzero-export actor/ringzero-relay learner/ringzero-ingest \
           launch/ringzero-launch launch/ringzero-monitor learner/ringzero-learner; do
  path="$build/$bin"
  [[ -x "$path" ]] || { echo "torch_linkage: $path is not built" >&2; exit 1; }
  libs[$bin]=$(ldd "$path") || { echo "torch_linkage: ldd $path failed" >&2; exit 1; }
  if grep -q "not found" <<<"${libs[$bin]}"; then
    grep "not found" <<<"${libs[$bin]}" >&2
    echo "torch_linkage: FAILED: $bin has unresolved libraries" >&2
    failed=1
  fi
done

for bin in actor/ringzero-actor common/eval/ringzero-eval common/play/ringzero-play \
           common/export/ringzero-export actor/ringzero-relay learner/ringzero-ingest \
           launch/ringzero-launch launch/ringzero-monitor; do
  if hits=$(grep -E "$cuda_libs" <<<"${libs[$bin]}"); then
    echo "$hits" >&2
    echo "torch_linkage: FAILED: $bin links a CUDA library (link ringzero_torch_cpu, not ringzero_torch)" >&2
    failed=1
  else
    echo "torch_linkage: $bin: no CUDA library" >&2
  fi
done
# The supervisor, the monitor, the relay and the ingest link no LibTorch at all, so not even
# libcudart.
for bin in launch/ringzero-launch launch/ringzero-monitor actor/ringzero-relay \
           learner/ringzero-ingest; do
  if grep -qE 'libtorch|libc10|libcudart|libcupti' <<<"${libs[$bin]}"; then
    echo "torch_linkage: FAILED: $bin links LibTorch or CUDA; it must not (torch-free by design)" >&2
    failed=1
  fi
done

learner_libs=${libs[learner/ringzero-learner]}
torch_dir=$(grep -oE '=> [^ ]*/libtorch_cpu\.so' <<<"$learner_libs" | head -n1 | sed 's/^=> //; s|/libtorch_cpu\.so$||')
[[ -n "$torch_dir" ]] || { echo "torch_linkage: FAILED: the learner links no libtorch_cpu" >&2; exit 1; }
if [[ -e "$torch_dir/libtorch_cuda.so" ]]; then
  if grep -q 'libtorch_cuda\.so' <<<"$learner_libs"; then
    echo "torch_linkage: learner links libtorch_cuda ($torch_dir)" >&2
  else
    echo "torch_linkage: FAILED: the learner does not link libtorch_cuda although $torch_dir has it" >&2
    failed=1
  fi
else
  echo "torch_linkage: the LibTorch in $torch_dir has no CUDA: the learner's CUDA link is not applicable here" >&2
fi
((failed == 0)) && echo "torch_linkage: passed" >&2
exit "$failed"
