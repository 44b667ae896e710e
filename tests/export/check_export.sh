#!/usr/bin/env bash
# The committed Connect Four model (docs/models/connect4-60min.rzck) exported in both formats
# and checked with the real Python packages (check_export.py): TorchScript in Python and ONNX
# Runtime against LibTorch's outputs on 256 random positions, onnx.checker, and
# docs/examples/ringzero_play.py against `ringzero-eval moves --sims 0` on 500 positions of
# the shared Connect Four test sets (125 from each).
# Exit 77 (CTest: skipped) only when the Python package registry cannot be reached.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${RZ_BUILD_DIR:-$root/build}"
data="${RZ_SHARED_DATA:-$root/../shared/data}/connect4"
model="$root/docs/models/connect4-60min.rzck"
source "$root/tests/export/python_env_or_skip.sh" "torch/onnx/onnxruntime"

work=$(mktemp -d "${TMPDIR:-/tmp}/rz-check-export.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/common/export/ringzero-export" --checkpoint "$model" --format torchscript --out "$work/c4.pt"
"$build/common/export/ringzero-export" --checkpoint "$model" --format onnx --out "$work/c4.onnx"
"$build/tests/export/rz-export-reference" "$model" 256 1 "$work/reference.bin"
for set in Test_L1_R1 Test_L2_R1 Test_L2_R2 Test_L3_R1; do
  head -n 125 "$data/$set"
done >"$work/positions.txt"
"$build/common/eval/ringzero-eval" moves --positions "$work/positions.txt" --checkpoint "$model" \
  --sims 0 >"$work/eval_moves.txt"
"$venv/bin/python" "$root/tests/export/check_export.py" --game connect4 \
  --reference "$work/reference.bin" --torchscript "$work/c4.pt" --onnx "$work/c4.onnx" \
  --eval-moves "$work/eval_moves.txt" --play-script "$root/docs/examples/ringzero_play.py"
