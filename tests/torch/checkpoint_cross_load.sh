#!/usr/bin/env bash
# Checkpoints cross-load between the two LibTorch builds (issue #12): a run trained by one
# build's learner on the CPU is stopped (final checkpoint), resumed by the other build's learner
# (start --resume: it must load that checkpoint and keep training to a newer one), stopped
# again, and resumed once more by the first build. Both directions, one run directory, real
# processes (ringzero-launch of each build, its actors and learner), learner.device=cpu.
#
#   tests/torch/checkpoint_cross_load.sh            (CTest: checkpoint_cross_load)
#
# Needs both build/ (Debian's LibTorch 1.13) and build-cuda/ (the torch 2.x wheel) beside this
# checkout, built; otherwise it says which is missing and exits 77 (CTest: skipped).
# RZ_BUILD_A / RZ_BUILD_B override the two trees. Exit 0 iff both directions resumed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_a="${RZ_BUILD_A:-$root/build}"
build_b="${RZ_BUILD_B:-$root/build-cuda}"
for b in "$build_a" "$build_b"; do
  for bin in launch/ringzero-launch actor/ringzero-actor learner/ringzero-learner; do
    if [[ ! -x "$b/$bin" ]]; then
      echo "checkpoint_cross_load: skipped: $b/$bin is not built; build both trees first" \
           "(tests/run.sh builds build/, tests/run.sh --cuda builds build-cuda/)" >&2
      exit 77
    fi
  done
done

work=$(mktemp -d /tmp/rz-cross-load-XXXXXX)
run="$work/run"
current=""
cleanup() {
  [[ -n "$current" ]] && "$current/launch/ringzero-launch" stop --run-dir "$run" --timeout 30 >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

newest_step() {  # the step of the newest checkpoint (ckpt-<step>.rzck), 0 if none
  local f
  f=$(ls "$run"/checkpoints/ckpt-*.rzck 2>/dev/null | sort | tail -n 1 || true)
  [[ -z "$f" ]] && { echo 0; return; }
  f=${f##*/ckpt-}; f=${f%.rzck}; echo $((10#$f))
}

# Starts the run with build $1 (extra arguments after), waits until a checkpoint newer than
# step $2 exists, and stops it cleanly.
train_past() {
  local build="$1" after="$2"; shift 2
  current="$build"
  "$build/launch/ringzero-launch" start --detach --run-dir "$run" "$@" >"$work/start.log" 2>&1 ||
    { cat "$work/start.log" >&2; echo "checkpoint_cross_load: start with $build failed" >&2; exit 1; }
  local deadline=$((SECONDS + 120))
  until (($(newest_step) > after)); do
    if ((SECONDS > deadline)); then
      tail -n 20 "$run/logs/learner.log" >&2 || true
      echo "checkpoint_cross_load: no checkpoint past step $after within 120 s under $build" >&2
      exit 1
    fi
    sleep 0.5
  done
  "$build/launch/ringzero-launch" stop --run-dir "$run" --timeout 60 >/dev/null
  current=""
}


tiny=(--game tictactoe --actors 1 --net.blocks 1 --net.filters 8 --mcts.simulations 8
      --actor.games_in_flight 4 --learner.batch_size 16 --learner.min_replay 30
      --learner.publish_every 5 --learner.checkpoint_every 10 --learner.device cpu
      --learner.replay_positions 5000 --shm.lane_bytes 1048576 --shm.max_record_bytes 65536
      --eval.enabled false --seed 7)

# A trains first; B resumes A's checkpoint; A resumes B's.
train_past "$build_a" 0 "${tiny[@]}"
first=$(newest_step)
echo "checkpoint_cross_load: $build_a wrote a checkpoint at step $first" >&2
for pass in "$build_b $build_a" "$build_a $build_b"; do
  set -- $pass
  to="$1" from="$2"
  before=$(newest_step)
  train_past "$to" "$before" --resume
  log="$run/logs/learner.log"
  if ! grep -q "resumed from .*ckpt-0*${before}\.rzck (step ${before}," "$log"; then
    grep -i "resum\|error\|warning" "$log" | tail -n 10 >&2 || true
    echo "checkpoint_cross_load: FAILED: the learner of $to did not resume $from's checkpoint of step $before" >&2
    exit 1
  fi
  echo "checkpoint_cross_load: $to resumed $from's checkpoint (step $before) and trained to step $(newest_step)" >&2
done
echo "checkpoint_cross_load: passed: both directions" >&2
