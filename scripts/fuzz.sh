#!/bin/sh
# Runs each fuzz target for SECONDS (default 300) from a corpus seeded with the ingest fixtures
# and sample returns (the whole files for the byte-level targets; their XML parts for the
# structure-aware ones). Needs the nightly toolchain, cargo-fuzz (`cargo install cargo-fuzz`),
# unzip and python3. A crash is saved under fuzz/artifacts/<target>/; make it a fixture under
# tests/fixtures/fuzz/ and a regression test (tests/all/fuzz_regressions.rs) on stable.
# Results: BENCHMARKS.md, "Fuzzing". Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -eu
SECONDS_EACH=${1:-300}
[ $# -gt 0 ] && shift
TARGETS=${*:-"cell_value header ingest_xlsx ingest_xls ingest_ods ods_content xlsx_sheet"}
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
# The structure-aware targets: an .ods's content.xml, an .xlsx's worksheet parts (the first rows
# of each sample sheet, so that one execution stays fast).
mkdir -p corpus/ods_content corpus/xlsx_sheet
for f in ../tests/fixtures/ingest/*.ods; do unzip -p "$f" content.xml > "corpus/ods_content/$(basename "$f").xml"; done
python3 - <<'PY'
import glob, os, re, zipfile
for i, path in enumerate(sorted(glob.glob("../sample_data/returns/*2025年1-2月*.xlsx"))[:3]):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name).decode()
                rows = [m.end() for m in re.finditer("</row>", xml)]
                if len(rows) > 12:
                    xml = xml[: rows[11]] + "</sheetData></worksheet>"
                out = f"corpus/xlsx_sheet/{i}_{os.path.basename(name)}"
                open(out, "w").write(xml)
PY
mkdir -p corpus/cell_value corpus/header
printf '\0001,234.5' > corpus/cell_value/text
printf '\001\000\000\000\000\000\000\360\077' > corpus/cell_value/float
printf '\003\000\000\000\000\000\100\345\100' > corpus/cell_value/date
printf '\0008.3%%' > corpus/cell_value/percent
printf '表号:JN101\n填报单位:邹城市统计局\t2025年1—9月\n统一社会信用代码\t单位详细名称\t行业代码\t工业总产值(万元)\n' > corpus/header/jn101
for t in $TARGETS; do
    case $t in ods_content|xlsx_sheet) dict="-dict=xml.dict" ;; *) dict="" ;; esac
    echo "== $t: ${SECONDS_EACH}s"
    mkdir -p logs
    cargo +nightly fuzz run "$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=20 \
        -max_len=1048576 $dict > "logs/$t.log" 2>&1 || true
    grep -E "DONE|Done [0-9]+ runs|SUMMARY|ERROR|panicked|Test unit written" "logs/$t.log" | tail -6 || true
done
