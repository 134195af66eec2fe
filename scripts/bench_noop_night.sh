#!/usr/bin/env bash
# Benchmark "No-op night" (BENCHMARKS.md): a full run on the sample inbox into an empty output
# folder, against a night with nothing new on the same output folder; then a rebuild of every
# period (backfill) with the workbooks taken from the parsed-workbook cache, against the same
# rebuild with that cache emptied (every workbook opened again). All measured in this one
# invocation, N rounds each (default 3), medians reported, with the ratios.
#   scripts/bench_noop_night.sh [rounds]
# Uses the binary of the README's build (cargo build; the dev profile with optimised dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
[ -n "${NO_BUILD:-}" ] || cargo build --quiet   # NO_BUILD=1: use the binary as built
bin=target/debug/gongbao
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
full=(); noop=(); cached=(); uncached=()
for i in $(seq "$rounds"); do
  out="$work/out$i"
  t0=$(now); "$bin" run --out "$out" >/dev/null 2>&1; t1=$(now)
  "$bin" run --out "$out" >"$work/noop.txt" 2>&1; t2=$(now)
  grep -q "未改写任何输出" "$work/noop.txt" || { echo "the second run was not a no-op" >&2; exit 1; }
  "$bin" run --out "$out" --from 2025-02 --to 2025-09 >"$work/cached.txt" 2>&1; t3=$(now)
  grep -q "打开 0 个" "$work/cached.txt" || { echo "the cached rebuild opened workbooks" >&2; exit 1; }
  rm -rf "$out/cache/parsed"; t4=$(now)
  "$bin" run --out "$out" --from 2025-02 --to 2025-09 >/dev/null 2>&1; t5=$(now)
  d() { awk -v a="$1" -v b="$2" 'BEGIN {print b - a}'; }
  full+=("$(d "$t0" "$t1")"); noop+=("$(d "$t1" "$t2")"); cached+=("$(d "$t2" "$t3")"); uncached+=("$(d "$t4" "$t5")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(median "${full[@]}"); n=$(median "${noop[@]}"); c=$(median "${cached[@]}"); u=$(median "${uncached[@]}")
printf 'full run (112 workbooks, 8 periods): %.3f s (median of %d)\n' "$f" "$rounds"
printf 'no-op night (nothing new):           %.3f s (median of %d)\n' "$n" "$rounds"
awk -v f="$f" -v n="$n" 'BEGIN {printf "ratio full / no-op:                  %.0f×\n", f / n}'
printf 'rebuild of 8 periods, workbooks from the cache:   %.3f s (median of %d)\n' "$c" "$rounds"
printf 'rebuild of 8 periods, every workbook opened:     %.3f s (median of %d)\n' "$u" "$rounds"
awk -v c="$c" -v u="$u" 'BEGIN {printf "ratio opened / cached:                            %.2f×\n", u / c}'
