#!/usr/bin/env bash
# Benchmark "Scale" (BENCHMARKS.md): gongbao's production build against the peer scripts of
# benches/peers/ (pandas + openpyxl, pandas + calamine, polars + fastexcel, python-calamine loops)
# on generated inboxes of a city, a province and the country, run interleaved (round by round, so
# that the machine's load weighs on all alike), medians printed as a Markdown table.
#
#   scripts/bench_scale.sh [RUNS]            # default 3 runs of everything
#
# Per scale (`gongbao sample --scale city|province|national`, written once to $BENCH_DIR/<scale>):
#   gongbao full      a run from an empty output folder (ingest, audit, Parquet, models, disclosure,
#                     bulletin Markdown + PDF, county feedback, publication)
#   gongbao nothing   the next night on that folder, nothing new
#   peers             the ingest-and-sum job only; each output is compared with expected.csv
# plus the sample's city month (`gongbao run --period 2025-09` on sample_data/, PDF included), a
# check of gongbao's county figures against expected.csv, and (DETERMINISM=1, the default) a run
# pinned to one core (taskset, RAYON_NUM_THREADS=1) whose Parquet must be byte-identical.
# With INGEST=1, also the limit of reading the files: for each scale, gongbao's ingest against bare
# calamine reading the same workbooks cell by cell (`cargo bench --bench ingest`, the production
# profile; its first build takes about as long as the release build).
#
# Environment: SCALES ("city province national"), BENCH_DIR (/tmp/gongbao-bench), NO_BUILD=1 (use
# $CARGO_TARGET_DIR/release/gongbao as built), PY (a python with the peers' packages; by default a
# venv is made in $BENCH_DIR/venv with pip), PEERS / NATIONAL_PEERS (which peers; pandas + openpyxl
# takes ~10 min a run on the national inbox, so it is left out there unless named), DETERMINISM=0.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
scales="${SCALES:-city province national}"
work="${BENCH_DIR:-/tmp/gongbao-bench}"
peers="${PEERS:-pandas-openpyxl pandas-calamine polars calamine-loops}"
national_peers="${NATIONAL_PEERS:-polars calamine-loops}"
bin="${CARGO_TARGET_DIR:-target}/release/gongbao"
mkdir -p "$work"
[ -n "${NO_BUILD:-}" ] || cargo build --release --locked
[ -x "$bin" ] || { echo "no release binary at $bin" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/gongbao"

if [ -z "${PY:-}" ]; then
  PY="$work/venv/bin/python"
  if ! "$PY" -c 'import pandas, openpyxl, python_calamine, polars, fastexcel' 2>/dev/null; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet pandas openpyxl python-calamine polars fastexcel
  fi
fi

results="$work/results.tsv"
: > "$results"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# measure SCALE TOOL RUN CHECK-COMMAND -- COMMAND...: wall seconds and peak RSS of COMMAND (its
# stdout in $tmp/out), then CHECK-COMMAND (true/false) decides the last column.
measure() {
  local scale="$1" tool="$2" run="$3" check="$4"
  shift 5
  local ok=yes
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > "$tmp/out" 2> "$tmp/err" || ok="exit $?"
  if [ "$ok" = yes ] && ! eval "$check"; then ok=NO; fi
  read -r wall rss < <(tail -n 1 "$tmp/time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scale" "$tool" "$run" "$wall" "$rss" "$ok" | tee -a "$results" >&2
}

peer_cmd() {
  case "$1" in
    pandas-openpyxl) echo "$PY benches/peers/peer_pandas.py --engine openpyxl" ;;
    pandas-calamine) echo "$PY benches/peers/peer_pandas.py --engine calamine" ;;
    polars) echo "$PY benches/peers/peer_polars.py" ;;
    calamine-loops) echo "$PY benches/peers/peer_calamine_raw.py" ;;
  esac
}

for scale in $scales; do
  dir="$work/$scale"
  if [ ! -f "$dir/expected.csv" ]; then
    rm -rf "$dir"
    "$bin" sample --scale "$scale" --out "$dir" >&2
  fi
done

rows_of() { awk -F, 'NR > 1 {n += $2} END {print n}' "$1/expected.csv"; }

for run in $(seq "$runs"); do
  # The sample's city month, PDF included.
  rm -rf "$work/sample-out"
  measure sample "gongbao full" "$run" 'test -s "$work/sample-out/bulletins/2025-09/bulletin.pdf"' -- \
    "$bin" run --period 2025-09 --out "$work/sample-out"
  measure sample "gongbao nothing" "$run" 'grep -q "未改写任何输出" "$tmp/out" "$tmp/err"' -- \
    "$bin" run --period 2025-09 --out "$work/sample-out"
  for scale in $scales; do
    dir="$work/$scale"
    rm -rf "$dir/out"
    measure "$scale" "gongbao full" "$run" true -- \
      "$bin" run --inbox "$dir/returns" --reference "$dir/reference" --out "$dir/out"
    if [ "$run" = 1 ]; then
      "$PY" benches/peers/check_gongbao.py "$dir/out" "$dir/reference" "$dir/expected.csv" >&2
    fi
    measure "$scale" "gongbao nothing" "$run" 'grep -q "未改写任何输出" "$tmp/out" "$tmp/err"' -- \
      "$bin" run --inbox "$dir/returns" --reference "$dir/reference" --out "$dir/out"
    list="$peers"
    [ "$scale" = national ] && list="$national_peers"
    for peer in $list; do
      # shellcheck disable=SC2046
      measure "$scale" "$peer" "$run" 'cmp -s "$tmp/out" "$dir/expected.csv"' -- $(peer_cmd "$peer") "$dir/returns"
    done
  done
done

if [ "${DETERMINISM:-1}" = 1 ]; then
  for scale in $scales; do
    [ "$scale" = national ] && continue
    dir="$work/$scale"
    rm -rf "$dir/out1"
    RAYON_NUM_THREADS=1 taskset -c 0 "$bin" run --inbox "$dir/returns" --reference "$dir/reference" --out "$dir/out1" > /dev/null 2>&1
    sums() { (cd "$1/warehouse/" && find -L . -name '*.parquet' -print0 | sort -z | xargs -0 sha256sum); }
    if diff <(sums "$dir/out") <(sums "$dir/out1") > "$tmp/diff"; then
      echo "$scale: Parquet byte-identical with one thread and with $(nproc) cores ($(sums "$dir/out" | wc -l) files)" >&2
    else
      echo "$scale: Parquet DIFFERS between one thread and $(nproc) cores:" >&2
      head -20 "$tmp/diff" >&2
    fi
  done
fi

# The table: medians per scale and tool, rows/s, and each time as a multiple of gongbao's full run.
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; runs: $runs"
echo
echo "| inbox | JN101 rows | program | median wall | median peak RSS | rows/s | × gongbao full | output checked |"
echo "|---|---:|---|---:|---:|---:|---:|---|"
for scale in sample $scales; do
  if [ "$scale" = sample ]; then rows=0; label="sample 2025-09 (14 workbooks)"; else
    rows=$(rows_of "$work/$scale"); label="$scale ($(ls "$work/$scale/returns" | wc -l) workbooks)"; fi
  base=$(awk -F'\t' -v s="$scale" '$1 == s && $2 == "gongbao full" {print $4}' "$results" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  for tool in "gongbao full" "gongbao nothing" pandas-openpyxl pandas-calamine polars calamine-loops; do
    awk -F'\t' -v s="$scale" -v t="$tool" '$1 == s && $2 == t' "$results" > "$tmp/sel"
    [ -s "$tmp/sel" ] || continue
    wall=$(cut -f4 "$tmp/sel" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    rss=$(cut -f5 "$tmp/sel" | sort -g | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)] / 1024}')
    ok=$(cut -f6 "$tmp/sel" | sort -u | tr '\n' ' ')
    awk -v l="$label" -v r="$rows" -v t="$tool" -v w="$wall" -v m="$rss" -v b="$base" -v ok="$ok" 'BEGIN {
      rps = (r > 0 && w > 0) ? sprintf("%.0f", r / w) : "";
      printf "| %s | %s | %s | %.2f s | %s MiB | %s | %.2f× | %s |\n", l, (r > 0 ? r : ""), t, w, m, rps, w / b, ok }'
  done
done

# The limit of reading the files: gongbao's ingest against bare calamine, per scale.
if [ -n "${INGEST:-}" ]; then
  for scale in $scales; do
    echo
    cargo bench --locked --bench ingest -- "$work/$scale/returns" "$runs" 2>/dev/null
  done
fi
