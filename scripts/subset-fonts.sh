#!/usr/bin/env bash
# Makes the CJK font subsets bundled in fonts/ (see fonts/README.md).
#
# Source: Debian's fonts-noto-cjk (Noto Serif CJK / Noto Sans CJK, SIL Open Font License 1.1),
# face "SC" (Simplified Chinese) of each collection. Subset: every character of GB 2312, ASCII,
# Latin-1, general punctuation, CJK symbols and punctuation, full-width forms and the bulletin's
# own symbols (— … ＃ ％ ℃ ×). Needs pyftsubset from fonttools.
#
#   apt-get install -y fonts-noto-cjk
#   pip install fonttools
#   scripts/subset-fonts.sh            # writes fonts/*.otf
#
# The bulletin uses three faces: Serif Regular (body, tables), Serif Bold (title, emphasis) and
# Sans Bold (headings, 黑体 style; chart labels).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${NOTO_CJK_DIR:-/usr/share/fonts/opentype/noto}
OUT=fonts
command -v pyftsubset >/dev/null || { echo "pyftsubset not found: pip install fonttools" >&2; exit 1; }
for f in NotoSerifCJK-Regular NotoSerifCJK-Bold NotoSansCJK-Bold; do
    [ -f "$SRC/$f.ttc" ] || { echo "$SRC/$f.ttc not found: apt-get install -y fonts-noto-cjk" >&2; exit 1; }
done

chars=$(mktemp)
trap 'rm -f "$chars"' EXIT
python3 - "$chars" <<'PY'
import sys
cps = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
cps |= set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
cps |= {0x2103, 0x2116, 0x2160, 0x2161, 0x2162, 0x2163, 0x2164, 0x2212, 0x00D7, 0x2192, 0x25CF, 0x25A0}
# GB 2312: rows 0xA1-0xF7, columns 0xA1-0xFE.
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            cps.add(ord(bytes([hi, lo]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
with open(sys.argv[1], "w") as f:
    f.write(",".join("U+%04X" % c for c in sorted(cps)))
PY

# face index 2 = SC in the Debian collections
subset() {
    pyftsubset "$SRC/$1.ttc" --font-number=2 --unicodes-file="$chars" \
        --layout-features='kern,liga,locl,palt,vert,vrt2' --no-hinting \
        --name-IDs='*' --name-languages='*' --output-file="$OUT/$2.otf"
    echo "$OUT/$2.otf: $(du -k "$OUT/$2.otf" | cut -f1) KiB"
}
subset NotoSerifCJK-Regular NotoSerifSC-Regular-subset
subset NotoSerifCJK-Bold NotoSerifSC-Bold-subset
subset NotoSansCJK-Bold NotoSansSC-Bold-subset
