#!/usr/bin/env bash
# Scale-out kill soak (issue #11): a learner host (--serve) and an actor host (join) on this
# machine, over loopback through the run's real redis-server, where a random process of either
# host is SIGKILLed at a random instant, over and over; at the end every record the actor host
# committed must have been ingested exactly once.
#
#   tests/scale/soak.sh [--kills N] [--seconds S] [--game tictactoe|connect4] [--netns]
#
# --netns: the learner host runs in its own network namespace, reached over a veth pair
# (10.213.X.2), so the traffic really crosses an interface; without it, loopback. Needs root
# (CAP_NET_ADMIN): without it the script says so and exits 77 (CTest: skipped).
#
# Victims: the relay, the ingest, redis-server, the learner, the actor of either host, the
# actor host's supervisor (then `join` again at once, same run directory: a new epoch) and
# the learner host's supervisor (then `start --resume` at once). It stops after N kills or S
# seconds, whichever comes first.
#
# After every kill it waits for the recovery: both hosts up (every role alive) and remote
# records arriving again (the learner host's records_ingested for this host grows); the time
# from the kill to that is the recovery time. Then it checks:
#   - sequence_gaps is 0 (no remote record was skipped);
#   - records_ingested never went back;
#   - the ingest refused nothing (no message is malformed, invalid or of another version:
#     only our relay writes to the stream).
# At the end it stops the actor host and checks, exactly: records ingested == the records the
# actor host's lanes committed, summed over its epochs (each epoch's last relay prints its
# final count: "relay stopped (epoch E): lanes committed N records, released M"), with every
# epoch's records released (sent and acknowledged); no entry pending in the consumer group and
# the stream empty. Then it stops the learner host: no process, no segment, no Redis left.
#
# Prints the kills per role, the recoveries (mean, longest, longest per role) and the final
# counts; exit 0 iff every check passed. RZ_BUILD_DIR selects the build tree (default:
# build/). Scratch space: a fresh directory under ${TMPDIR:-/tmp}, removed on success (kept and
# named on failure).
set -uo pipefail
soak_name=scale-soak
source "$(dirname "${BASH_SOURCE[0]}")/../support/soak_common.sh"

kills=100
seconds=600
game=tictactoe
netns=0
while (($#)); do
  case "$1" in
    --kills) kills="${2:-}"; shift 2 ;;
    --seconds) seconds="${2:-}"; shift 2 ;;
    --game) game="${2:-}"; shift 2 ;;
    --netns) netns=1; shift ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$game" == tictactoe || "$game" == connect4 ]] || { echo "soak.sh: --game must be tictactoe or connect4, not '$game'" >&2; exit 2; }
check_soak_arguments "$build/actor/ringzero-relay" "$build/learner/ringzero-ingest"
command -v redis-cli >/dev/null || { echo "soak.sh: redis-cli is missing: install redis-tools (launch/setup.sh installs redis-server with it)" >&2; exit 2; }

# The learner host's address, and the prefix that runs a command on it.
lhost=127.0.0.1
on_learner_host=()
if ((netns)); then
  ns="rz-soak-$$" veth="rzs$$"
  subnet="10.213.$((RANDOM % 250))"
  if ! ip netns add "$ns" 2>/dev/null; then
    echo "scale-soak: skipped: cannot create a network namespace (ip netns add needs root or CAP_NET_ADMIN); the loopback soak is the fallback"
    exit 77
  fi
  trap 'ip netns del "$ns" 2>/dev/null; ip link del "${veth}a" 2>/dev/null' EXIT
  if ! { ip link add "${veth}a" type veth peer name "${veth}b" &&
    ip link set "${veth}b" netns "$ns" &&
    ip addr add "$subnet.1/24" dev "${veth}a" && ip link set "${veth}a" up &&
    ip netns exec "$ns" ip addr add "$subnet.2/24" dev "${veth}b" &&
    ip netns exec "$ns" ip link set "${veth}b" up &&
    ip netns exec "$ns" ip link set lo up; } 2>/dev/null; then
    echo "scale-soak: skipped: cannot set up a veth pair into namespace $ns (needs CAP_NET_ADMIN); the loopback soak is the fallback"
    exit 77
  fi
  lhost="$subnet.2"
  on_learner_host=(ip netns exec "$ns")
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/rz-scale-soak-XXXXXX")"
chmod 700 "$scratch"
learn="$scratch/learn" join="$scratch/join"
# A loopback port nothing listens on.
while :; do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
deadline=$((SECONDS + seconds))
last_ingested=0

json() { "$monitor" --run-dir "$1" --once --json 2>/dev/null; }
rcli() { redis-cli -h "$lhost" -p "$port" --no-auth-warning -a "$(head -c 64 "$learn/secret")" "$@"; }

# The learner host's row for our actor host, and its counters.
host_row() { grep -o '"host_id":"soakB"[^}]*' <<<"$1"; }
ingested_now() { local r; r="$(host_row "$(json "$learn")")"; num records_ingested "$r"; }

# Every role of both hosts alive (the supervisors' view and the stats slots), the relay
# reaching the learner host.
both_up() {
  local jl jj
  jl="$(json "$learn")" && jj="$(json "$join")" || return 1
  jj="$(sed 's/"learner":{[^}]*}//' <<<"$jj")"  # an actor host has no learner
  grep -q '"supervisor_alive":true' <<<"$jl" && grep -q '"supervisor_alive":true' <<<"$jj" || return 1
  grep -q '"alive":false' <<<"$jl$jj" && return 1
  grep -q '"learner_reachable":true' <<<"$jj" || return 1
  return 0
}

# Up again and remote records arriving: at least 20 more ingested than `from`.
wait_recovered() {  # $1 = timeout s, $2 = ingested before the kill
  local until=$((SECONDS + $1)) n
  while ((SECONDS < until)); do
    if both_up; then
      n="$(ingested_now)"
      ((${n:-0} >= $2 + 20)) && return 0
    fi
    sleep 0.2
  done
  return 1
}

check_counts() {
  local jl row gaps n refused
  jl="$(json "$learn")"
  row="$(host_row "$jl")"
  gaps="$(num sequence_gaps "$row")"
  [[ "${gaps:-x}" == 0 ]] || fail "sequence_gaps is ${gaps:-missing}: $row"
  n="$(num records_ingested "$row")"
  ((${n:-0} >= last_ingested)) || fail "records_ingested went back: $last_ingested -> $n"
  last_ingested=${n:-0}
  for refused in refused_malformed refused_version refused_oversized refused_invalid; do
    local v
    v="$(grep -o '"ingest":{[^}]*' <<<"$jl" | grep -o "\"$refused\":[0-9]*" | cut -d: -f2)"
    [[ "${v:-0}" == 0 ]] || fail "the ingest counted $refused = $v"
  done
}

net=(--net.blocks 1 --net.filters 8)
[[ "$game" == connect4 ]] && net=(--net.blocks 1 --net.filters 16)
settings=(--game "$game" "${net[@]}" --mcts.simulations 8 --actor.games_in_flight 4
  --learner.batch_size 16 --learner.min_replay 30 --learner.publish_every 5
  --learner.checkpoint_every 10 --learner.metrics_seconds 1 --learner.keep_checkpoints 2
  --learner.replay_positions 5000 --shm.lane_bytes 1048576 --shm.max_record_bytes 65536
  --launch.restart_backoff_ms 100 --launch.max_restarts 1000000 --eval.enabled false)
join_host() {
  "$launch" join --detach --actors 1 --run-dir "$join" --learner "$lhost:$port" \
    --secret-file "$scratch/secret" --host-id soakB --launch.restart_backoff_ms 100 \
    --launch.max_restarts 1000000
}

if ! "${on_learner_host[@]}" "$launch" start --detach --actors 1 --run-dir "$learn" \
    "${settings[@]}" --serve "$lhost:$port" >"$scratch/start.log" 2>&1; then
  say "the learner host did not start: $(tail -1 "$scratch/start.log")"
  exit 1
fi
cp "$learn/secret" "$scratch/secret" && chmod 600 "$scratch/secret"
if ! join_host >"$scratch/join.log" 2>&1; then
  say "the actor host did not join: $(tail -1 "$scratch/join.log")"
  "$launch" stop --run-dir "$learn" >/dev/null 2>&1
  exit 1
fi
wait_recovered 120 0 || fail "the two hosts never came up with records flowing"
where="loopback"
((netns)) && where="network namespace $ns over veth $subnet.1 <-> $subnet.2"
say "$game, learner host $lhost:$port ($where), $(nproc) CPUs, $(date -u +%FT%TZ)"

roles=(relay ingest redis learner actor-learn actor-join join-supervisor learn-supervisor)
committed_before=0 epochs=0  # records of the actor host's finished epochs
while ((total_kills < kills && SECONDS < deadline && failures == 0)); do
  role="${roles[RANDOM % ${#roles[@]}]}"
  case "$role" in
    relay) pid="$(pid_in "$join" relay)" ;;
    ingest | redis | learner) pid="$(pid_in "$learn" "$role")" ;;
    actor-learn) pid="$(pid_in "$learn" actor-0)" ;;
    actor-join) pid="$(pid_in "$join" actor-0)" ;;
    join-supervisor) pid="$(pid_in "$join" launch)" ;;
    learn-supervisor) pid="$(pid_in "$learn" launch)" ;;
  esac
  alive "${pid:-0}" || { sleep 0.2; continue; }
  # A random instant within the next 1.5 s.
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  ((RANDOM % 3 == 0)) && sleep 0.5
  alive "$pid" || continue
  before="$(ingested_now)"
  kill -9 "$pid" 2>/dev/null || continue
  t0="$(now_ms)"
  total_kills=$((total_kills + 1))
  killed_by_role[$role]=$((${killed_by_role[$role]:-0} + 1))
  case "$role" in
    join-supervisor)
      # Its actor exits (SIGTERM from the kernel), so the dead supervisor's segment (still
      # there, read-only for the monitor) holds the epoch's final count; its relay, still
      # sending what the lanes hold, exits when done (its last log line goes down with the
      # supervisor's log pipe). Then `join` again at once: it waits for that relay.
      actor="$(pid_in "$join" actor-0)"
      until_s=$((SECONDS + 30))
      while alive "$actor" && ((SECONDS < until_s)); do sleep 0.05; done
      c="$(grep -o '"ring":{"records_in_flight":[0-9]*,"bytes_in_flight":[0-9]*,"records_committed":[0-9]*' <<<"$(json "$join")" | grep -o '[0-9]*$')"
      [[ -n "$c" ]] || fail "no final count of epoch $((epochs + 1)) in the dead supervisor's segment"
      committed_before=$((committed_before + ${c:-0})) epochs=$((epochs + 1))
      out="$(join_host 2>&1)" || fail "join after a supervisor kill failed: $(tail -1 <<<"$out")" ;;
    learn-supervisor)
      # Its children get SIGTERM from the kernel; the resume waits for the old ones to finish.
      out="$("${on_learner_host[@]}" "$launch" start --resume --detach --run-dir "$learn" 2>&1)" ||
        fail "start --resume after a supervisor kill failed: $(tail -1 <<<"$out")" ;;
  esac
  if ! wait_recovered 180 "${before:-0}"; then
    fail "no recovery within 180 s after killing $role"
    break
  fi
  ms=$(($(now_ms) - t0))
  record_recovery "$role" "$ms" "$role"
  check_counts
done

# The end: stop the actor host; every record its epochs committed was ingested exactly once.
out="$("$launch" stop --run-dir "$join" --timeout 120 2>&1)" || fail "stopping the actor host failed: $out"
# The last epoch's count: its relay's last line, printed through the live supervisor's pipe.
last="$(grep -o 'relay stopped (epoch [0-9]*): lanes committed [0-9]* records, released [0-9]*' \
  "$join/logs/relay.log" | tail -1)"
read -r c r < <(awk '{print $7, $10}' <<<"$last")
[[ -n "${c:-}" ]] || fail "the actor host's relay printed no final count"
[[ "${c:-x}" == "${r:-y}" ]] || fail "the last epoch's lanes committed ${c:-?} records, the relay released ${r:-?}"
committed=$((committed_before + ${c:-0})) epochs=$((epochs + 1))
until_s=$((SECONDS + 120))
while ((SECONDS < until_s)); do
  n="$(ingested_now)"
  ((${n:-0} >= committed)) && [[ "$(rcli XLEN rz:records)" == 0 ]] && break
  sleep 0.5
done
n="$(ingested_now)"
row="$(host_row "$(json "$learn")")"
[[ "${n:-x}" == "$committed" ]] || fail "ingested ${n:-nothing}, the actor host committed $committed over $epochs epochs"
[[ "$(num sequence_gaps "$row")" == 0 ]] || fail "sequence_gaps: $row"
pending="$(rcli XPENDING rz:records ingest | head -1)"
[[ "$pending" == 0 ]] || fail "$pending entries still pending in the consumer group"
xlen="$(rcli XLEN rz:records)"
[[ "$xlen" == 0 ]] || fail "rz:records still holds $xlen entries"
say "final: actor host committed $committed records over $epochs epochs; ingested ${n:-?}, duplicates dropped $(num duplicates_dropped "$row"), sequence gaps $(num sequence_gaps "$row"), pending $pending, stream length $xlen"

out="$("$launch" stop --run-dir "$learn" --timeout 120 2>&1)" || fail "stopping the learner host failed: $out"
for dir in "$learn" "$join"; do
  shm="$(cat "$dir/shm_name" 2>/dev/null)"
  [[ -n "$shm" && -e "/dev/shm$shm" ]] && fail "segment $shm left after stop"
done
if pgrep -f -- "$scratch" >/dev/null; then
  fail "processes left after stop: $(pgrep -a -f -- "$scratch" | head -3 | tr '\n' ';')"
fi

finish_soak "${roles[@]}"
