# What the kill soaks share (tests/chaos/soak.sh: one run; tests/scale/soak.sh: two hosts):
# the build tree, one-line reports and failures, the argument checks and the few probes both
# use. Sourced, not run, after `soak_name` is set (the prefix of every line it prints).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${RZ_BUILD_DIR:-$root/build}"
launch="$build/launch/ringzero-launch"
monitor="$build/launch/ringzero-monitor"
failures=0

say() { echo "$soak_name: $*"; }
fail() { say "CHECK FAILED: $*"; failures=$((failures + 1)); }
now_ms() { date +%s%3N; }
# The first number named $1 in the JSON text $2.
num() { grep -o "\"$1\":[0-9.]*" <<<"$2" | head -1 | cut -d: -f2; }
# The pid of role $2 in run directory $1 (0 if it has none).
pid_in() { local p; p="$(cat "$1/pids/$2.pid" 2>/dev/null)"; echo "${p:-0}"; }
# A living process (a zombie is dead).
alive() { [[ "$1" -gt 0 ]] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# --kills and --seconds ($kills, $seconds), and the binaries named in $@, or one line and exit 2.
check_soak_arguments() {
  [[ "$kills" =~ ^[0-9]+$ && "$kills" -ge 1 ]] || { echo "soak.sh: --kills must be a whole number >= 1, not '$kills'" >&2; exit 2; }
  [[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 10 ]] || { echo "soak.sh: --seconds must be a whole number >= 10, not '$seconds'" >&2; exit 2; }
  local bin
  for bin in "$launch" "$monitor" "$@"; do
    [[ -x "$bin" ]] || { echo "soak.sh: $bin is missing; build it first (cmake --build build)" >&2; exit 2; }
  done
}

# The tally: kills and recoveries by role, the longest recovery and what it was.
declare -A killed_by_role=() longest_by_role=()
total_kills=0 recoveries=0 sum_ms=0 longest_ms=0 longest_what=none

# A recovery of role $1 that took $2 ms ($3: what to name if it is the longest).
record_recovery() {
  recoveries=$((recoveries + 1)) sum_ms=$((sum_ms + $2))
  (($2 > ${longest_by_role[$1]:-0})) && longest_by_role[$1]=$2
  (($2 > longest_ms)) && { longest_ms=$2; longest_what="$3"; }
  return 0
}

# The last lines (kills per role $@, recoveries, failures); removes $scratch on success, keeps
# and names it otherwise. Exits 0 iff every check passed.
finish_soak() {
  local r roles_text="" longest_text="" mean_ms=$((recoveries > 0 ? sum_ms / recoveries : 0))
  for r in "$@"; do
    roles_text+=" $r=${killed_by_role[$r]:-0}"
    longest_text+=" $r=${longest_by_role[$r]:-0}"
  done
  say "total: $total_kills kills ($roles_text ), $recoveries recoveries, mean ${mean_ms} ms, longest ${longest_ms} ms ($longest_what), checks failed: $failures"
  say "longest recovery per role, ms:$longest_text"
  if ((failures == 0)); then
    rm -rf "$scratch"
    exit 0
  fi
  say "kept $scratch for a look"
  exit 1
}
