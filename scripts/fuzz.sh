#!/bin/sh
# Runs each fuzz target for SECONDS (default 180) from a corpus seeded with the ingest fixtures
# and sample returns. Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# A crash is saved under fuzz/artifacts/<target>/; make it a fixture and a regression test
# (tests/all/fuzz_regressions.rs) on stable. Results: BENCHMARKS.md, "Fuzzing".
set -eu
SECONDS_EACH=${1:-180}
cd "$(dirname "$0")/../fuzz"
seed() { # target, extension
    mkdir -p "corpus/$1"
    for f in ../tests/fixtures/ingest/*."$2" ../tests/fixtures/fuzz/*."$2"; do
        [ -e "$f" ] && cp "$f" "corpus/$1/" || true
    done
}
seed ingest_xlsx xlsx
seed ingest_xls xls
seed ingest_ods ods
if [ -d ../sample_data/returns ]; then
    ls ../sample_data/returns/*.xlsx | head -4 | while read -r f; do cp "$f" corpus/ingest_xlsx/; done
fi
mkdir -p corpus/cell_value corpus/header
printf '\0001,234.5' > corpus/cell_value/text
printf '表号:JN101\n填报单位:邹城市统计局\t2025年1—9月\n统一社会信用代码\t单位详细名称\t行业代码\t工业总产值(万元)\n' > corpus/header/jn101
for t in cell_value header ingest_xlsx ingest_xls ingest_ods; do
    echo "== $t: ${SECONDS_EACH}s"
    cargo +nightly fuzz run "$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=1048576 2>&1 \
        | grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs|SUMMARY|ERROR|panicked|Test unit written" || true
done
