#!/usr/bin/env python3
"""Extra reference point (not one of the three peers): python-calamine cell lists, plain Python.

Closest thing in Python to "bare calamine reading the same files": no DataFrame, the same header
search and normalisation as the peers, the same CSV on stdout. Sums in integer tenths of 万元.

Usage: python benches/peers/peer_calamine_raw.py DIR
"""
import re
import sys
from pathlib import Path

from python_calamine import CalamineWorkbook

CODE = re.compile(r"^[0-9A-Z]{18}$")
FIELDS = {("工业总产值", "本年累计"): "output_ytd", ("工业总产值", "上年同期"): "output_prev",
          ("营业收入", "本年累计"): "revenue_ytd", ("营业收入", "上年同期"): "revenue_prev"}
KEYS = ["output_ytd", "output_prev", "revenue_ytd", "revenue_prev"]


def num(x) -> int:
    if isinstance(x, (int, float)):
        return round(x * 10)
    s = str(x).replace(",", "").strip()
    if s in ("", "—", "-", "/"):
        return 0
    try:
        return round(float(s) * 10)
    except ValueError:
        return 0


def main():
    agg = {}
    for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            head = rows[:12]
            flat = [str(x) for r in head for x in r]
            if not any("JN101" in x for x in flat):
                continue
            region = next(x for x in flat if "填报单位" in x)
            region = re.sub(r"^填报单位(\(盖章\))?[:：]", "", region).replace("统计局", "").strip()
            hr = next(i for i, r in enumerate(head) if "统一社会信用代码" in r)
            cols, g = {}, ""
            for c, (top, sub) in enumerate(zip(rows[hr], rows[hr + 1])):
                g = top if top != "" else g
                for (gk, sk), k in FIELDS.items():
                    if g.startswith(gk) and sub == sk:
                        cols[k] = c
                if top == "统一社会信用代码":
                    code_col = c
            a = agg.setdefault(region, dict(n=0, **{k: 0 for k in KEYS}))
            for r in rows[hr + 2:]:
                if CODE.match(str(r[code_col]).strip().upper()):
                    a["n"] += 1
                    for k, c in cols.items():
                        a[k] += num(r[c])
    out = ["region,enterprises,output_ytd,output_prev,output_growth,revenue_ytd,revenue_prev,revenue_growth"]
    for region in sorted(agg):
        a = agg[region]
        out.append(f"{region},{a['n']},{a['output_ytd'] / 10:.1f},{a['output_prev'] / 10:.1f},"
                   f"{(a['output_ytd'] / a['output_prev'] - 1) * 100:.4f},{a['revenue_ytd'] / 10:.1f},"
                   f"{a['revenue_prev'] / 10:.1f},{(a['revenue_ytd'] / a['revenue_prev'] - 1) * 100:.4f}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
