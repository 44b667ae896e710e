#!/usr/bin/env bash
# Renders a run's training curves to PNG with gnuplot, into RUN/plots/:
#
#   losses.png      total, policy and value loss against training step and against time
#   throughput.png  new positions/s from the actors and samples trained/s by the learner,
#                   against time
#   versions.png    published weight version against time (with the mean version lag of the
#                   records the learner consumed)
#   accuracy.png    only if RUN/eval.csv exists: its *accuracy* columns against step and time
#   winrate.png     only if RUN/eval.csv exists: its *win* / *score* columns likewise
#
#   launch/plot.sh [--run-dir DIR] [--out DIR]
#
# Input: RUN/metrics.csv as the learner writes it (learner/metrics_csv.h). Columns are found
# by their header names, and rows without the header's column count (a row torn by a killed
# learner) are skipped, so a live run can be plotted at any moment. RUN/eval.csv (written by
# a live evaluator) is optional: header "time,step,weight_version,..." then any columns; see
# docs/play.md. Every PNG is written to a temporary name and renamed, so a reader never sees
# half an image. Errors are one line on stderr and a non-zero exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gnuplot="${RZ_GNUPLOT:-gnuplot}"  # tests point this at a missing binary

die() { echo "plot.sh: $*" >&2; exit 1; }
# Text for inside a gnuplot single-quoted string (where '' stands for one quote): paths and
# column names come from the user.
gq() { local s="$1" q="'"; printf '%s' "${s//$q/$q$q}"; }

usage() {
  cat <<USAGE
usage: $0 [--run-dir DIR] [--out DIR]
  --run-dir DIR  the run to plot (default: runs/latest, the run started last)
  --out DIR      where the PNGs go (default: DIR/plots)
Writes losses.png, throughput.png, versions.png and, when DIR/eval.csv exists,
accuracy.png and winrate.png. Needs gnuplot (apt-get install gnuplot-nox).
USAGE
}

run_dir="$root/runs/latest"
out_dir=""
while (($#)); do
  case "$1" in
    --run-dir|--out)
      [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value: see $0 --help"
      if [[ "$1" == --run-dir ]]; then run_dir="$2"; else out_dir="$2"; fi
      shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1': see $0 --help" ;;
  esac
done

[[ -d "$run_dir" ]] || die "run directory '$run_dir' does not exist: pass --run-dir DIR of a run (launch.sh start --run-dir DIR)"
metrics="$run_dir/metrics.csv"
[[ -f "$metrics" ]] || die "no metrics.csv in '$run_dir': the learner writes it once training starts; check the run directory or wait"
[[ -s "$metrics" ]] || die "'$metrics' is empty: the learner has not written its header yet; wait and retry"
command -v "$gnuplot" >/dev/null 2>&1 || die "gnuplot not found: install it with 'sudo apt-get install gnuplot-nox' (launch/setup.sh does)"
[[ -n "$out_dir" ]] || out_dir="$run_dir/plots"
mkdir -p "$out_dir" || die "cannot create '$out_dir': check permissions or pass --out DIR"

work="$(mktemp -d "${TMPDIR:-/tmp}/rz-plot.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# extract CSV DATA COLUMN... : whitespace-separated DATA with the columns "elapsed" (time
# since the first row, in the unit written to DATA.unit) then the named columns, for every
# complete numeric row. A named column the header lacks is an error (exit 3). With a
# column name "@PATTERN", every column whose name matches the regex is taken, and their names
# go to DATA.names.
extract() {
  local csv="$1" data="$2"; shift 2
  awk -F, -v want="$*" -v data="$data" '
    function numeric(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
    NR == 1 {
      ncol = NF
      for (i = 1; i <= NF; ++i) { gsub(/[ \r]/, "", $i); idx[$i] = i }
      if (!("time" in idx)) { print "no time column" > "/dev/stderr"; bad = 1; exit }
      n = split(want, w, " ")
      k = 0
      for (j = 1; j <= n; ++j) {
        if (substr(w[j], 1, 1) == "@") {
          pattern = substr(w[j], 2)
          for (i = 1; i <= ncol; ++i) {
            name = $i
            if (tolower(name) ~ pattern) { col[++k] = i; names = names (names == "" ? "" : " ") name }
          }
        } else {
          if (!(w[j] in idx)) { print "no " w[j] " column" > "/dev/stderr"; bad = 1; exit }
          col[++k] = idx[w[j]]
        }
      }
      next
    }
    NF == ncol {
      sub(/\r$/, "")
      ok = numeric($idx["time"])
      # An empty field (an evaluator that skipped a measurement) is a gap in the curve.
      for (j = 1; j <= k; ++j) if ($col[j] != "" && !numeric($col[j])) ok = 0
      if (!ok) next
      ++rows; t[rows] = $idx["time"] + 0
      line[rows] = ""
      for (j = 1; j <= k; ++j) line[rows] = line[rows] " " ($col[j] == "" ? "NaN" : $col[j])
    }
    END {
      if (bad) exit 3
      if (rows == 0) exit 0
      t0 = t[1]; span = 0
      for (r = 1; r <= rows; ++r) if (t[r] - t0 > span) span = t[r] - t0
      # Minutes read best up to a few hours; beyond that, hours.
      div = span > 3 * 3600 ? 3600 : 60
      print (div == 60 ? "minutes" : "hours") > (data ".unit")
      print names > (data ".names")
      for (r = 1; r <= rows; ++r) printf "%.4f%s\n", (t[r] - t0) / div, line[r] > data
    }' "$csv"
}

# PNG writing through a temporary file: `render NAME SCRIPT` runs gnuplot with the terminal
# set up, then renames the result into place.
terminal="pngcairo size 1100,800 font 'sans,10'"
"$gnuplot" -e "set terminal pngcairo" >/dev/null 2>&1 || terminal="png size 1100,800"
render() {
  local name="$1" script="$2" tmp="$out_dir/.$1.tmp.$$"
  if ! "$gnuplot" >"$work/gnuplot.log" 2>&1 <<GNUPLOT
set terminal $terminal
set output '$(gq "$tmp")'
set termoption noenhanced
set grid
set key below horizontal
$script
GNUPLOT
  then
    rm -f "$tmp"
    die "gnuplot failed on $name: $(grep -m1 -v '^\s*$' "$work/gnuplot.log" || echo 'no message')"
  fi
  mv -f "$tmp" "$out_dir/$name"
  echo "$out_dir/$name"
}

data="$work/metrics.dat"
columns="step loss_total loss_policy loss_value new_positions_per_s samples_per_s weight_version mean_version_lag"
extract "$metrics" "$data" $columns 2>"$work/extract.err" ||
  die "'$metrics' is not in the learner's format ($(head -c 200 "$work/extract.err" | tr '\n' ' ')): expected the header of learner/metrics_csv.h"
[[ -s "$data" ]] || die "'$metrics' has no complete rows yet: the learner writes one every learner.metrics_seconds once training starts; wait and retry"
unit="$(cat "$data.unit")"
rows=$(wc -l <"$data")
# Columns of $data: 1 elapsed, 2 step, 3-5 losses, 6-7 throughput, 8 version, 9 version lag.
style="with linespoints pointtype 7 pointsize 0.4"
((rows > 200)) && style="with lines"

render losses.png "
set multiplot layout 2,1 title 'losses ($rows rows of $(gq "$metrics"))'
set xlabel 'training step'; set ylabel 'loss'
plot '$(gq "$data")' using 2:3 $style lw 2 title 'total', '' using 2:4 $style lw 2 title 'policy', '' using 2:5 $style lw 2 title 'value'
set xlabel 'time since the first row ($unit)'
plot '$(gq "$data")' using 1:3 $style lw 2 title 'total', '' using 1:4 $style lw 2 title 'policy', '' using 1:5 $style lw 2 title 'value'
unset multiplot"

render throughput.png "
set title 'throughput'
set xlabel 'time since the first row ($unit)'; set ylabel 'per second'
set yrange [0:*]
plot '$(gq "$data")' using 1:6 $style lw 2 title 'new positions/s (actors)', '' using 1:7 $style lw 2 title 'samples trained/s (learner)'"

render versions.png "
set title 'published weights'
set xlabel 'time since the first row ($unit)'; set ylabel 'weight version'
set y2label 'mean version lag of consumed records'
set ytics nomirror; set y2tics
set yrange [0:*]; set y2range [0:*]
plot '$(gq "$data")' using 1:8 $style lw 2 title 'weight version', '' using 1:9 axes x1y2 $style lw 1 title 'mean version lag (right axis)'"

# The evaluator's file is optional: plot what it has, explain what it lacks.
eval_csv="$run_dir/eval.csv"
if [[ ! -f "$eval_csv" ]]; then
  echo "plot.sh: no eval.csv in '$run_dir': accuracy.png and winrate.png skipped (an evaluator writes it; see docs/play.md)" >&2
  exit 0
fi
for kind in accuracy winrate; do
  pattern='accuracy'
  [[ "$kind" == winrate ]] && pattern='win|score'
  edata="$work/$kind.dat"
  if ! extract "$eval_csv" "$edata" step "@$pattern" 2>"$work/extract.err"; then
    echo "plot.sh: '$eval_csv' lacks the columns time,step: $kind.png skipped" >&2
    continue
  fi
  names="$(cat "$edata.names" 2>/dev/null || true)"
  if [[ ! -s "$edata" || -z "$names" ]]; then
    echo "plot.sh: '$eval_csv' has no complete rows with a column matching '$pattern': $kind.png skipped" >&2
    continue
  fi
  eunit="$(cat "$edata.unit")"
  render "$kind.png" "
set multiplot layout 2,1 title '$kind ($(gq "$eval_csv"))'
names = '$(gq "$names")'
set xlabel 'training step'; set ylabel '$kind'
plot for [i=1:words(names)] '$(gq "$edata")' using 2:(column(i+2)) with linespoints pointtype 7 pointsize 0.5 lw 2 title word(names, i)
set xlabel 'time since the first evaluation ($eunit)'
plot for [i=1:words(names)] '$(gq "$edata")' using 1:(column(i+2)) with linespoints pointtype 7 pointsize 0.5 lw 2 title word(names, i)
unset multiplot"
done
