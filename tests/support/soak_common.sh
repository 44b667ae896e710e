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
