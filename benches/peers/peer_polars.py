#!/usr/bin/env python3
"""Peer implementation: polars + fastexcel (calamine underneath, Arrow out).

Same job and output as peer_pandas.py: every JN101 sheet in DIR, normalised, per-county output and
revenue sums and same-caliber growth, CSV on stdout.

Usage: python benches/peers/peer_polars.py DIR
"""
import re
import sys
from pathlib import Path

import fastexcel
import polars as pl

FIELDS = {("工业总产值", "本年累计"): "output_ytd", ("工业总产值", "上年同期"): "output_prev",
          ("营业收入", "本年累计"): "revenue_ytd", ("营业收入", "上年同期"): "revenue_prev"}


def num(col: str) -> pl.Expr:
    s = pl.col(col).str.replace_all(",", "").str.strip_chars()
    return s.cast(pl.Float64, strict=False).fill_null(0.0)


def read_sheet(sheet) -> pl.DataFrame | None:
    df = sheet.to_polars()
    cols = df.columns
    head = df.head(12)
    flat = [str(x) for c in cols for x in head[c].to_list() if x is not None]
    if not any("JN101" in x for x in flat):
        return None
    region = next(x for x in flat if "填报单位" in x)
    region = re.sub(r"^填报单位(\(盖章\))?[:：]", "", region).replace("统计局", "").strip()
    hr = next(i for i in range(head.height) if any(head[c][i] == "统一社会信用代码" for c in cols))
    groups, g = [], None
    for c in cols:
        v = df[c][hr]
        g = v if v not in (None, "") else g
        groups.append(g)
    sel = {}
    for c, g in zip(cols, groups):
        s = df[c][hr + 1]
        for (gk, sk), name in FIELDS.items():
            if g and g.startswith(gk) and s == sk:
                sel[name] = c
        if g == "统一社会信用代码":
            sel["credit_code"] = c
    data = df.slice(hr + 2)
    code = pl.col(sel["credit_code"]).str.strip_chars().str.to_uppercase()
    data = data.filter(code.str.contains(r"^[0-9A-Z]{18}$").fill_null(False))
    return data.select([num(c).alias(k) for k, c in sel.items() if k != "credit_code"]).with_columns(
        pl.lit(region).alias("region"))


def main():
    frames = []
    for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
        wb = fastexcel.read_excel(str(path))
        for name in wb.sheet_names:
            sh = wb.load_sheet(name, header_row=None, dtypes="string")
            r = read_sheet(sh)
            if r is not None:
                frames.append(r)
    allr = pl.concat(frames, how="diagonal")
    g = (allr.group_by("region")
         .agg(pl.len().alias("enterprises"), pl.col("output_ytd").sum(), pl.col("output_prev").sum(),
              pl.col("revenue_ytd").sum(), pl.col("revenue_prev").sum())
         .with_columns(((pl.col("output_ytd") / pl.col("output_prev") - 1) * 100).alias("output_growth"),
                       ((pl.col("revenue_ytd") / pl.col("revenue_prev") - 1) * 100).alias("revenue_growth"))
         .sort("region"))
    out = g.select("region", "enterprises",
                   *[pl.col(k).map_elements(lambda x: f"{x:.1f}", return_dtype=pl.String).alias(k)
                     for k in ("output_ytd", "output_prev")],
                   pl.col("output_growth").map_elements(lambda x: f"{x:.4f}", return_dtype=pl.String),
                   *[pl.col(k).map_elements(lambda x: f"{x:.1f}", return_dtype=pl.String).alias(k)
                     for k in ("revenue_ytd", "revenue_prev")],
                   pl.col("revenue_growth").map_elements(lambda x: f"{x:.4f}", return_dtype=pl.String))
    sys.stdout.write(out.write_csv())


if __name__ == "__main__":
    main()
