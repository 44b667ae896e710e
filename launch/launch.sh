#!/usr/bin/env bash
# ringzero's entry point. With no arguments: build if needed, then train Connect Four with
# (cores - 1) actors and one learner in runs/<UTC time>, supervised in the foreground
# (Ctrl-C stops it cleanly; the learner writes a final checkpoint).
#
#   launch/launch.sh [start] [--game tictactoe|connect4|dotsandboxes] [--actors N] [--minutes M]
#                    [--run-dir DIR] [--config FILE] [--resume] [--detach] [--<option> VALUE ...]
#   launch/launch.sh start ... --serve HOST:PORT [--secret-file F]   (learner host, scale-out)
#   launch/launch.sh join --learner HOST:PORT --secret-file F [--actors N] [--run-dir DIR]
#                    [--host-id ID] [--detach]                        (actor host, scale-out)
#   launch/launch.sh status|stop|restart-learner|monitor [--run-dir DIR] [...]
#   launch/launch.sh play [--run-dir DIR | --checkpoint FILE | --weights BLOB] [...]
#   launch/launch.sh plot [--run-dir DIR] [--out DIR]
#   launch/launch.sh export --checkpoint CKPT --format torchscript|onnx --out FILE
#
# Every command takes --help. Without --run-dir, status/stop/restart-learner/monitor/play/plot
# use runs/latest (the run started last from this checkout). The work is done by
# build/launch/ringzero-launch (play: build/common/play/ringzero-play, plot: launch/plot.sh,
# export: build/common/export/ringzero-export);
# this script only builds and fills in defaults.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# RZ_BUILD_DIR: use another build tree (developers with their own); it is then only rebuilt
# with cmake --build, never set up.
build="${RZ_BUILD_DIR:-$root/build}"
export RZ_LAUNCH_SCRIPT="${RZ_LAUNCH_SCRIPT:-$0}"

usage() {
  cat <<USAGE
usage: $0 [command] [options]        (each command takes --help)
  start            start a training run (the default command)
                   [--game tictactoe|connect4|dotsandboxes] [--actors N] [--run-dir DIR]
                   [--minutes M (end after M minutes of training; default: until stopped)]
                   [--config FILE] [--resume] [--detach] [--<option> VALUE ...]
                   [--serve HOST:PORT [--secret-file F]]  also take games from actor hosts
  join             run actors for a learner host started with --serve (docs/scale-out.md)
                   --learner HOST:PORT --secret-file F [--actors N] [--run-dir DIR]
                   [--host-id ID] [--detach]
  status           every process of a run: alive, counters, restarts
  monitor          live table of a run (--once, --json)
  restart-learner  restart the learner from its checkpoint; the actors keep playing
  stop             stop a run cleanly (final checkpoint; no process or shared memory left)
  play             play against a run's newest checkpoint in the terminal
                   [--run-dir DIR | --checkpoint FILE | --weights BLOB] [--color first|second]
                   [--sims N]
  plot             draw a run's training curves to DIR/plots/*.png [--run-dir DIR] [--out DIR]
  export           a checkpoint as a TorchScript module or an ONNX model (docs/export.md)
                   --checkpoint CKPT --format torchscript|onnx --out FILE
Without --run-dir, the commands other than start use runs/latest.
On a machine with at most 4 cores, a new run started without --config uses the small-machine
settings (docs/usage.md): --net.blocks 2 --net.filters 32 --mcts.simulations 40 (100 for
dotsandboxes; not for tictactoe: its default 50 stays) --actor.games_in_flight 32, each
unless given.
USAGE
}

command=start
case "${1:-}" in
  start|join|stop|status|restart-learner|monitor|play|plot|export) command="$1"; shift ;;
  -h|--help|help) usage; exit 0 ;;
  -*|"") ;;
  *) echo "launch.sh: unknown command '$1'; use start, join, status, monitor, restart-learner, stop, play, plot or export (see $0 --help)" >&2
     exit 2 ;;
esac

# plot needs no binary of ours (gnuplot draws; plot.sh defaults to runs/latest).
[[ "$command" == plot ]] && exec "$root/launch/plot.sh" "$@"

# Builds `targets` (all of them through setup.sh in the default tree) or exits with the log.
build_targets() {
  mkdir -p "$build"
  local build_log="$build/launch-build.log" build_command
  echo "ringzero: building into $build (the first build takes a few minutes; log: $build_log)" >&2
  if [[ -n "${RZ_BUILD_DIR:-}" ]]; then
    build_command=(cmake --build "$build" -j "$(nproc)" --target "$@")
  else
    build_command=(bash "$root/launch/setup.sh")
  fi
  if ! "${build_command[@]}" >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    echo "launch.sh: the build failed (full log: $build_log)" >&2
    exit 1
  fi
}

# An option the user gave, as `--name value` or `--name=value`.
given() {
  local name="$1" arg
  shift
  for arg in "$@"; do
    [[ "$arg" == "$name" || "$arg" == "$name="* ]] && return 0
  done
  return 1
}

if [[ "$command" == play ]]; then
  play="$build/common/play/ringzero-play"
  [[ -x "$play" ]] || build_targets ringzero-play
  if ! given --run-dir "$@" && ! given --checkpoint "$@" && ! given --weights "$@"; then
    if ! given --help "$@" && ! given -h "$@" && [[ ! -e "$root/runs/latest" ]]; then
      echo "launch.sh: play needs --run-dir DIR, --checkpoint FILE or --weights BLOB (no runs/latest here yet)" >&2
      exit 2
    fi
    set -- "$@" --run-dir "$root/runs/latest"
  fi
  exec "$play" "$@"
fi

if [[ "$command" == export ]]; then
  exporter="$build/common/export/ringzero-export"
  [[ -x "$exporter" ]] || build_targets ringzero-export
  exec "$exporter" "$@"
fi

# Build when a binary is missing, or (for start) when a source is newer than one: a running
# run keeps the binaries it started with, so status/stop/monitor never wait for a build.
binaries=("$build/launch/ringzero-launch" "$build/launch/ringzero-monitor"
          "$build/actor/ringzero-actor" "$build/learner/ringzero-learner")
# The run's evaluator (eval.enabled, on by default) is started by start only.
[[ "$command" == start ]] && binaries+=("$build/common/eval/ringzero-eval")
# Scale-out (docs/scale-out.md): a learner host's ingest, an actor host's relay.
if [[ "$command" == start ]] && { given --serve "$@" || given --scale.serve "$@"; }; then
  binaries+=("$build/learner/ringzero-ingest")
fi
[[ "$command" == join ]] && binaries+=("$build/actor/ringzero-relay")
needs_build=0
for b in "${binaries[@]}"; do
  if [[ ! -x "$b" ]]; then needs_build=1; break; fi
done
if ((needs_build == 0)) && [[ "$command" == start || "$command" == join ]]; then
  oldest=$(ls -t "${binaries[@]}" | tail -n1)
  newer=$(find "$root/CMakeLists.txt" "$root/shm" "$root/common" "$root/actor" "$root/learner" \
            "$root/launch" \( -name '*.cc' -o -name '*.h' -o -name CMakeLists.txt \) \
            -newer "$oldest" -print -quit 2>/dev/null || true)
  [[ -n "$newer" ]] && needs_build=1
fi
if ((needs_build)); then
  build_targets ringzero-launch ringzero-monitor ringzero-actor ringzero-learner ringzero-eval \
    ringzero-ingest ringzero-relay
fi

has_run_dir=0
for arg in "$@"; do
  [[ "$arg" == --run-dir || "$arg" == --run-dir=* ]] && has_run_dir=1
done
extra=()
# Small machines: Connect Four with the default network (4x64) and 200 simulations per move
# plays ~50x slower than with 2x32 and 40 (docs/learner.md measured that setting: 10 minutes
# on 2 cores, 199/200 against random). A new run without a config file gets it, option by
# option unless given; a resumed run keeps its own config.ini.
if [[ "$command" == start ]] && (($(nproc) <= 4)) && ! given --config "$@" && ! given --resume "$@" &&
   ! given --help "$@" && ! given -h "$@"; then
  game=connect4
  for ((i = 1; i <= $#; i++)); do
    arg="${!i}"
    if [[ "$arg" == --game ]]; then j=$((i + 1)); game="${!j:-}"; fi
    [[ "$arg" == --game=* ]] && game="${arg#--game=}"
  done
  # Dots and Boxes the same (issue #17: on 2 cores its 4x64/200 defaults made 240 learner steps
  # in 8 minutes and beat random 58/100; these settings 10,870 steps, 100/100), and
  # Tic-tac-toe's network likewise (its game default of 50 simulations stays).
  if [[ "$game" == connect4 || "$game" == dotsandboxes* || "$game" == tictactoe ]]; then
    small=()
    given --net.blocks "$@" || small+=(--net.blocks 2)
    given --net.filters "$@" || small+=(--net.filters 32)
    # Dots and Boxes: 100 simulations. With 40 its learner, not its actor, was the bottleneck
    # (30 minutes on 2 cores: 0.8 samples per position) and MCTS-200 won 86/100 against
    # MCTS-1000; better targets cost no learner time (docs/results.md).
    sims=40
    [[ "$game" == dotsandboxes* ]] && sims=100
    [[ "$game" == tictactoe ]] || given --mcts.simulations "$@" || small+=(--mcts.simulations $sims)
    given --actor.games_in_flight "$@" || small+=(--actor.games_in_flight 32)
    if ((${#small[@]})); then
      case "$game" in
        connect4) title="Connect Four" ;; tictactoe) title="Tic-tac-toe" ;; *) title="Dots and Boxes" ;;
      esac
      echo "ringzero: $(nproc) cores: $title with the small-machine settings ${small[*]} (pass your own to change them)" >&2
      extra+=("${small[@]}")
    fi
  fi
fi
if [[ "$command" == join ]]; then
  if ((has_run_dir == 0)); then
    extra+=(--run-dir "$root/runs/join-$(date -u +%Y%m%d-%H%M%S)")
  fi
elif [[ "$command" == start ]]; then
  if ((has_run_dir == 0)) && [[ " $* " != *" --resume "* ]]; then
    extra+=(--run-dir "$root/runs/$(date -u +%Y%m%d-%H%M%S)")
    # ringzero-launch points runs/latest at the new run once its options are accepted.
    export RZ_LATEST_LINK="$root/runs/latest"
  elif ((has_run_dir == 0)) && [[ -e "$root/runs/latest" ]]; then
    extra+=(--run-dir "$(readlink -f "$root/runs/latest")")
    echo "ringzero: resuming the latest run ${extra[-1]}" >&2
  fi
elif ((has_run_dir == 0)) && [[ " $* " != *" --help "* && " $* " != *" -h "* ]]; then
  if [[ ! -e "$root/runs/latest" ]]; then
    echo "launch.sh: $command needs --run-dir DIR (no runs/latest here yet)" >&2
    exit 2
  fi
  extra=(--run-dir "$(readlink -f "$root/runs/latest")")
  echo "ringzero: using the latest run ${extra[1]}" >&2
fi
exec "$build/launch/ringzero-launch" "$command" "$@" "${extra[@]}"
