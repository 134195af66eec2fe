#!/usr/bin/env bash
# Benchmark "No-op night" (BENCHMARKS.md): a full run on the sample inbox into an empty output
# folder, against a night with nothing new on the same output folder. Both measured in this one
# invocation, N rounds each (default 3), median reported, with the ratio.
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
full=(); noop=()
for i in $(seq "$rounds"); do
  out="$work/out$i"
  t0=$(now); "$bin" run --out "$out" >/dev/null 2>&1; t1=$(now)
  "$bin" run --out "$out" >"$work/noop.txt" 2>&1; t2=$(now)
  grep -q "未改写任何输出" "$work/noop.txt" || { echo "the second run was not a no-op" >&2; exit 1; }
  full+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"); noop+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(median "${full[@]}"); n=$(median "${noop[@]}")
printf 'full run (112 workbooks, 8 periods): %.3f s (median of %d)\n' "$f" "$rounds"
printf 'no-op night (nothing new):           %.3f s (median of %d)\n' "$n" "$rounds"
awk -v f="$f" -v n="$n" 'BEGIN {printf "ratio full / no-op:                  %.0f×\n", f / n}'
