#!/usr/bin/env bash
# Regenerates the page images of the sample bulletin shown in the README:
#   docs/bulletin-page1.png         page 1 (title, overview)
#   docs/bulletin-county-table.png  the page with 表4 (the county table)
#
# Needs poppler-utils (pdftoppm, pdftotext): apt-get install -y poppler-utils
# Usage: scripts/bulletin-pages.sh [bulletin.pdf]
#   default: runs the sample (cargo run -- run, output/) and uses output/bulletins/2025-09/bulletin.pdf
# The bulletin itself is built with the bundled fonts only (GONGBAO_SYSTEM_FONTS=0), as on a
# fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdftoppm >/dev/null || { echo "pdftoppm not found: apt-get install -y poppler-utils" >&2; exit 1; }
PDF=${1:-}
if [ -z "$PDF" ]; then
    GONGBAO_SYSTEM_FONTS=0 cargo run --quiet -- run >/dev/null
    PDF=output/bulletins/2025-09/bulletin.pdf
fi
pages=$(pdfinfo "$PDF" | awk '/^Pages:/ {print $2}')
county=1
for p in $(seq 1 "$pages"); do
    if pdftotext -f "$p" -l "$p" "$PDF" - | tr -d ' \n' | grep -q '表4'; then county=$p; break; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 70 dpi keeps each image around 100-200 KB while the Chinese text stays legible.
pdftoppm -png -r 70 -f 1 -l 1 -singlefile "$PDF" "$tmp/p1"
pdftoppm -png -r 70 -f "$county" -l "$county" -singlefile "$PDF" "$tmp/county"
mkdir -p docs
cp "$tmp/p1.png" docs/bulletin-page1.png
cp "$tmp/county.png" docs/bulletin-county-table.png
echo "docs/bulletin-page1.png (page 1), docs/bulletin-county-table.png (page $county)"
