#!/usr/bin/env bash
# Issue #15 end to end on a fresh tic-tac-toe run: train briefly (a real supervised run: an
# actor, the learner and the live evaluator; the learner SIGKILLed once midway and restarted
# by the supervisor from its checkpoint), stop it, then check with the real Python
# packages (check_export.py) that TensorBoard's own reader sees the learner's and the
# evaluator's curves with metrics.csv's and eval.csv's tags, steps and values, and that the
# run's final checkpoint exports in both formats with LibTorch's outputs and, fed by
# docs/export.md's encoding, plays ringzero-eval's raw-policy moves.
# Exit 77 (CTest: skipped) only when the Python package registry cannot be reached.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${RZ_BUILD_DIR:-$root/build}"
source "$root/tests/export/python_env_or_skip.sh" "tensorboard/torch/onnx"

work=$(mktemp -d "${TMPDIR:-/tmp}/rz-tb-run.XXXXXX")
run_dir="$work/run"
cleanup() {
  RZ_BUILD_DIR="$build" "$root/launch/launch.sh" stop --run-dir "$run_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
rows() { [[ -f "$1" ]] && tail -n +2 "$1" | wc -l || echo 0; }

# Small and fast: metrics every second, an evaluation of every published version in a few
# games of few simulations.
RZ_BUILD_DIR="$build" "$root/launch/launch.sh" start --detach --game tictactoe --actors 1 \
  --run-dir "$run_dir" --seed 3 --net.blocks 1 --net.filters 16 --mcts.simulations 16 \
  --learner.batch_size 64 --learner.min_replay 200 --learner.publish_every 10 \
  --learner.metrics_seconds 1 --learner.checkpoint_seconds 5 \
  --eval.games 4 --eval.sims 8 --eval.opponent_sims 8 --eval.every_versions 1 >/dev/null
# Rows at a step > 0 (the learner has trained).
trained_rows() {
  [[ -f "$1" ]] || { echo 0; return; }
  grep -c '^[0-9.]*,[1-9]' "$1" || true
}
# Until the learner has trained through a few metrics rows and has a checkpoint (bounded).
for ((i = 0; i < 240; i++)); do
  (($(trained_rows "$run_dir/metrics.csv") >= 3)) && compgen -G "$run_dir/checkpoints/ckpt-*.rzck" >/dev/null && break
  sleep 0.5
done
# SIGKILL the learner: the supervisor restarts it from its checkpoint, and its TensorBoard
# file must then show the resumed lineage (check_export.py --expect-restart).
before=$(trained_rows "$run_dir/metrics.csv")
kill -KILL "$(cat "$run_dir/pids/learner.pid")"
# Until the restarted learner has trained through more rows and the evaluator has scored two
# versions (bounded: 120 s).
for ((i = 0; i < 240; i++)); do
  (($(trained_rows "$run_dir/metrics.csv") >= before + 3 && $(rows "$run_dir/eval.csv") >= 2)) && break
  sleep 0.5
done
RZ_BUILD_DIR="$build" "$root/launch/launch.sh" stop --run-dir "$run_dir" >/dev/null
echo "run: $(rows "$run_dir/metrics.csv") metrics rows, $(rows "$run_dir/eval.csv") eval rows"

checkpoint=$(ls "$run_dir"/checkpoints/ckpt-*.rzck | sort | tail -n 1)
"$build/common/export/ringzero-export" --checkpoint "$checkpoint" --format torchscript --out "$work/ttt.pt"
"$build/common/export/ringzero-export" --checkpoint "$checkpoint" --format onnx --out "$work/ttt.onnx"
"$build/tests/export/rz-export-reference" "$checkpoint" 128 2 "$work/reference.bin" "$work/moves.txt"
"$build/common/eval/ringzero-eval" moves --positions "$work/moves.txt" --checkpoint "$checkpoint" \
  --sims 0 >"$work/eval_moves.txt"
"$venv/bin/python" "$root/tests/export/check_export.py" --game tictactoe --run-dir "$run_dir" --expect-restart \
  --reference "$work/reference.bin" --torchscript "$work/ttt.pt" --onnx "$work/ttt.onnx" \
  --eval-moves "$work/eval_moves.txt" --min-positions 100
