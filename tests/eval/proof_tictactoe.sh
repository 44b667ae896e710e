#!/usr/bin/env bash
# Tic-tac-toe proof (issue #6 item 7): within 3 minutes on a 2-core machine, training reaches
# an agent (MCTS, 50 simulations, guided by the network) that never loses to the perfect
# player in 100 games, 50 with each colour.
#
#   tests/eval/proof_tictactoe.sh [TRAIN_SECONDS]        (default 150; at most 180)
#
# A real run: launch/launch.sh start --detach (1 actor + the learner, the supervisor's normal
# path), training for TRAIN_SECONDS of wall clock, launch.sh stop (the learner writes its
# final checkpoint), then `ringzero-eval arena` of the newest checkpoint at 50 simulations
# against `minimax` (exhaustive negamax: perfect play). Exit 0 iff the agent lost no game.
# The run directory is kept (runs/proof-ttt-<time>) for a look at its logs and metrics.
# RZ_BUILD_DIR selects the build tree as for launch.sh (default: build/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${RZ_BUILD_DIR:-$root/build}"
train_seconds="${1:-150}"
if ! [[ "$train_seconds" =~ ^[0-9]+$ ]] || ((train_seconds < 10 || train_seconds > 180)); then
  echo "proof_tictactoe.sh: TRAIN_SECONDS must be an integer in [10, 180], not '$train_seconds'" >&2
  exit 2
fi
run_dir="${RZ_PROOF_RUN_DIR:-$root/runs/proof-ttt-$(date -u +%Y%m%d-%H%M%S)}"
eval_bin="$build/common/eval/ringzero-eval"
# A run directory given by the caller (CTest) is the caller's scratch space: start afresh.
[[ -n "${RZ_PROOF_RUN_DIR:-}" ]] && rm -rf "$run_dir"

# A small network and a fast learner: tic-tac-toe has 5478 positions, so a 2x32 residual net
# is ample, and a steady trickle of published weights lets the actor's data improve quickly.
settings=(
  --game tictactoe --actors 1 --run-dir "$run_dir" --seed 1
  --net.blocks 2 --net.filters 32
  --mcts.simulations 50
  --learner.batch_size 128 --learner.lr 0.02 --learner.min_replay 500
  --learner.replay_positions 20000 --learner.samples_per_position 8
  --learner.publish_every 20 --learner.checkpoint_every 100 --learner.checkpoint_seconds 20
  --eval.enabled false
)
# Build first (outside the clock): launch.sh would otherwise rebuild stale binaries on start.
cmake --build "$build" -j "$(nproc)" --target ringzero-launch ringzero-monitor ringzero-actor \
  ringzero-learner ringzero-eval >/dev/null
started=$(date +%s)
echo "proof: training tic-tac-toe for ${train_seconds}s in $run_dir" >&2
RZ_BUILD_DIR="$build" "$root/launch/launch.sh" start --detach "${settings[@]}" >/dev/null
sleep "$train_seconds"
RZ_BUILD_DIR="$build" "$root/launch/launch.sh" stop --run-dir "$run_dir" >&2
trained=$(($(date +%s) - started))

checkpoint=$(ls "$run_dir"/checkpoints/ckpt-*.rzck 2>/dev/null | sort | tail -n 1)
if [[ -z "$checkpoint" ]]; then
  echo "proof: no checkpoint in $run_dir/checkpoints after ${trained}s: see $run_dir/logs/learner.log" >&2
  exit 1
fi
echo "proof: ${trained}s wall clock from start to stopped run; evaluating $checkpoint" >&2
result=$("$eval_bin" arena --game tictactoe --a "net:$checkpoint:50" --b minimax --games 100 --json)
echo "$result"
losses=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["a_first"][2] + r["a_second"][2])' "$result")
if ((losses != 0)); then
  echo "proof: FAILED: the agent lost $losses of 100 games to the perfect player" >&2
  exit 1
fi
echo "proof: passed: no loss in 100 games against the perfect player (${trained}s of training)" >&2
