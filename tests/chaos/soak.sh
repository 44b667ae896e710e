#!/usr/bin/env bash
# Kill soak (issue #13): a real run where a random role is SIGKILLed at a random instant, over
# and over, and every recovery is checked.
#
#   tests/chaos/soak.sh [--kills N] [--seconds S] [--games LIST]
#
# Roles: an actor (the supervisor restarts it on its lane), the learner (restarted with
# --resume), the evaluator, or the supervisor itself (then `start --resume` at once: the new
# learner must wait for the old one still writing its final checkpoint). The first half of
# the kills run on Tic-tac-toe, the second half on Connect Four (--games tictactoe,connect4;
# one game is fine too), each game getting its share of N and S. It stops after N kills or S
# seconds, whichever comes first (plus the last recovery and the final stop).
#
# After every recovery it checks:
#   - the run is up again: every role alive and running (the time from the kill to this is
#     the recovery time);
#   - every ring lane is consistent: its sequence words (records committed - consumed) and
#     its byte counters (tail - head) agree on whether records are in flight;
#   - the learner refused no record (bad_records = 0 in metrics.csv, no "skipping bad record"
#     or ring-corrupt line in learner.log): nothing torn or duplicated reached it;
#   - no checkpoint is corrupt: no "skipping checkpoint" warning in learner.log (every learner
#     start reads the newest one back whole, checksum included) and no set-aside file;
#   - weight versions never went back: every learner's "published starting weights as
#     version N" is above every version published before it, and metrics.csv's
#     weight_version never decreases;
#   - counters never go back (actors' records committed, the learner's records consumed).
# At the end it stops the run and checks that no process of the run and no segment is left.
#
# Prints one summary line per game and a total: kills per role, recoveries, longest and mean
# recovery, checks failed; exit 0 iff every check passed. RZ_BUILD_DIR selects the build
# tree (default: build/). Scratch space: a fresh directory under ${TMPDIR:-/tmp}, removed on
# success (kept and named on failure).
set -uo pipefail
soak_name=soak
source "$(dirname "${BASH_SOURCE[0]}")/../support/soak_common.sh"

kills=1000
seconds=600
games="tictactoe,connect4"
while (($#)); do
  case "$1" in
    --kills) kills="${2:-}"; shift 2 ;;
    --seconds) seconds="${2:-}"; shift 2 ;;
    --games) games="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
check_soak_arguments "$build/actor/ringzero-actor" "$build/learner/ringzero-learner" \
  "$build/common/eval/ringzero-eval"
IFS=',' read -r -a game_list <<<"$games"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/rz-soak-XXXXXX")"
chmod 700 "$scratch"
deadline=$((SECONDS + seconds))

json() { "$monitor" --run-dir "$run" --once --json 2>/dev/null; }
pid_of() { pid_in "$run" "$1"; }

# Every role alive and running, per the monitor (the supervisor's view and the stats slots).
run_up() {
  local j
  j="$(json)" || return 1
  [[ -n "$j" ]] || return 1
  grep -q '"supervisor_alive":true' <<<"$j" || return 1
  grep -q '"alive":false' <<<"$j" && return 1
  local states
  states="$(grep -o '"state":"[a-z-]*"' <<<"$j" | sort -u | tr '\n' ' ')"
  [[ "$states" == '"state":"running" ' ]] || return 1
  return 0
}

wait_up() {  # $1 = timeout s
  local until=$((SECONDS + $1))
  while ((SECONDS < until)); do
    run_up && return 0
    sleep 0.2
  done
  return 1
}

last_consumed=0 last_committed=0 last_version=0
check_run() {
  local j lanes bad
  j="$(json)"
  # Ring lanes: sequence words and byte counters agree.
  while read -r lane; do
    [[ -z "$lane" ]] && continue
    local recs bytes
    recs="$(num records_in_flight "$lane")"; bytes="$(num bytes_in_flight "$lane")"
    if { [[ "$recs" == 0 ]] && [[ "$bytes" != 0 ]]; } || { [[ "$recs" != 0 ]] && [[ "$bytes" == 0 ]]; }; then
      fail "lane inconsistent: $lane"
    fi
  done < <(grep -o '"lane":[0-9]*,"records_in_flight":[0-9]*,"bytes_in_flight":[0-9]*' <<<"$j")
  # Counters never go back.
  local consumed committed=0 c
  consumed="$(grep -o '"learner":{[^}]*' <<<"$j" | grep -o '"records_consumed":[0-9]*' | cut -d: -f2)"
  for c in $(grep -o '"actors":\[[^]]*' <<<"$j" | grep -o '"records_committed":[0-9]*' | cut -d: -f2); do
    committed=$((committed + c))
  done
  ((${consumed:-0} >= last_consumed)) || fail "records consumed went back: $last_consumed -> $consumed"
  ((committed >= last_committed)) || fail "records committed went back: $last_committed -> $committed"
  last_consumed=${consumed:-0} last_committed=$committed
  # Nothing bad reached the learner.
  if [[ -f "$run/metrics.csv" ]]; then
    bad="$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="bad_records") c=i} NR>1 && c && $c>0 {print $c}' "$run/metrics.csv" | tail -1)"
    [[ -z "$bad" ]] || fail "the learner counted $bad bad records"
    if ! awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="weight_version") c=i; next} c {if ($c < last) {exit 1}; last=$c}' "$run/metrics.csv"; then
      fail "metrics.csv weight_version went back"
    fi
  fi
  if grep -q "skipping bad record\|ring_corrupt\|skipping checkpoint" "$run/logs/learner.log" 2>/dev/null; then
    fail "learner.log: $(grep -m1 "skipping bad record\|ring_corrupt\|skipping checkpoint" "$run/logs/learner.log")"
  fi
  # Weight versions: each learner starts above everything published before it.
  local prev=0 v
  for v in $(grep -o "published starting weights as version [0-9]*" "$run/logs/learner.log" 2>/dev/null | awk '{print $NF}'); do
    ((v > prev)) || fail "weight version went back: a learner started at $v after $prev"
    prev=$v
  done
  check_checkpoints
}

check_checkpoints() {
  local f
  for f in "$run"/checkpoints/*; do
    [[ -e "$f" ]] || continue
    case "$(basename "$f")" in
      ckpt-*.rzck|lock|weight_version) ;;
      *.tmp.*) ;;  # a temporary of a writer killed before its rename: never read
      *) fail "unexpected file in checkpoints/: $(basename "$f") (a set-aside corrupt checkpoint?)" ;;
    esac
  done
}

soak_game() {  # $1 = game, $2 = kills for it
  local game="$1" want="$2" done_kills=0
  run="$scratch/run-$game"
  local net=(--net.blocks 1 --net.filters 8)
  [[ "$game" == connect4 ]] && net=(--net.blocks 1 --net.filters 16)
  local settings=(--game "$game" --actors 2 --run-dir "$run" "${net[@]}" --mcts.simulations 8
    --actor.games_in_flight 4 --learner.batch_size 16 --learner.min_replay 30
    --learner.publish_every 5 --learner.checkpoint_every 10 --learner.metrics_seconds 1
    --learner.keep_checkpoints 2 --learner.replay_positions 5000 --shm.lane_bytes 1048576
    --shm.max_record_bytes 65536 --launch.restart_backoff_ms 100 --launch.max_restarts 1000000
    --eval.enabled true --eval.games 2 --eval.sims 8 --eval.opponent_sims 8 --eval.every_versions 5)
  if ! "$launch" start --detach "${settings[@]}" >"$scratch/start-$game.log" 2>&1; then
    fail "$game: the run did not start: $(tail -1 "$scratch/start-$game.log")"
    return
  fi
  wait_up 120 || { fail "$game: the run never came up"; return; }
  last_consumed=0 last_committed=0
  local roles=(actor-0 actor-1 learner eval supervisor)
  while ((done_kills < want && SECONDS < deadline)); do
    local role="${roles[RANDOM % ${#roles[@]}]}" pid
    if [[ "$role" == supervisor ]]; then
      pid="$(cut -d' ' -f1 "$run/lock" 2>/dev/null)"
    else
      pid="$(pid_of "$role")"
    fi
    alive "${pid:-0}" || { sleep 0.2; continue; }
    # A random instant within the next 1.5 s.
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    ((RANDOM % 3 == 0)) && sleep 0.5
    alive "$pid" || continue
    kill -9 "$pid" 2>/dev/null || continue
    local t0 t1
    t0="$(now_ms)"
    done_kills=$((done_kills + 1)) total_kills=$((total_kills + 1))
    killed_by_role[$role]=$((${killed_by_role[$role]:-0} + 1))
    if [[ "$role" == supervisor ]]; then
      # At once, while the old learner may still be writing its final checkpoint.
      local out
      if ! out="$("$launch" start --resume --detach --run-dir "$run" 2>&1)"; then
        fail "$game: start --resume after a supervisor kill failed: $(tail -1 <<<"$out")"
        wait_up 60 || return
      fi
      last_consumed=0 last_committed=0  # counters resume from the saved snapshot
    else
      while alive "$pid"; do sleep 0.05; done
    fi
    if ! wait_up 120; then
      fail "$game: no recovery within 120 s after killing $role"
      return
    fi
    t1="$(now_ms)"
    local ms=$((t1 - t0))
    record_recovery "$role" "$ms" "$role, $game"
    check_run
  done
  # The end: a clean stop leaves nothing.
  local out
  out="$("$launch" stop --run-dir "$run" --timeout 120 2>&1)" || fail "$game: stop failed: $out"
  local shm
  shm="$(cat "$run/shm_name" 2>/dev/null)"
  [[ -n "$shm" && -e "/dev/shm$shm" ]] && fail "$game: segment $shm left after stop"
  if pgrep -f -- "$run" >/dev/null; then
    fail "$game: processes left after stop: $(pgrep -a -f -- "$run" | head -3 | tr '\n' ';')"
  fi
  say "$game: $done_kills kills, checks failed so far: $failures"
}

# Kills and time are shared out evenly between the games (what one game leaves over goes to
# the next).
end_of_all=$deadline
games_left=${#game_list[@]}
for g in "${game_list[@]}"; do
  left=$((kills - total_kills))
  ((left > 0)) || break
  ((SECONDS < end_of_all)) || break
  share=$(((left + games_left - 1) / games_left))
  deadline=$((SECONDS + (end_of_all - SECONDS) / games_left))
  soak_game "$g" "$share"
  games_left=$((games_left - 1))
done

finish_soak actor-0 actor-1 learner eval supervisor
