#!/usr/bin/env python3
"""Peer implementation (what a statistician would write): pandas read_excel, any engine.

Reads every JN101 sheet of every workbook in DIR, normalises (header rows found by content, merged
group headers forward-filled, numbers typed as text parsed, 合计/notes dropped), and prints per county:
region, enterprises, output/revenue sums and same-caliber growth, as CSV on stdout.

Usage: python benches/peers/peer_pandas.py DIR [--engine openpyxl|calamine]
"""
import argparse
import re
import sys
from pathlib import Path

import pandas as pd

CODE = re.compile(r"^[0-9A-Z]{18}$")
FIELDS = {("工业总产值", "本年累计"): "output_ytd", ("工业总产值", "上年同期"): "output_prev",
          ("营业收入", "本年累计"): "revenue_ytd", ("营业收入", "上年同期"): "revenue_prev"}


def to_num(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.replace(",", "", regex=False).str.strip()
    s = s.replace({"": None, "—": None, "-": None, "/": None})
    return pd.to_numeric(s, errors="coerce").fillna(0.0)


def read_sheet(df: pd.DataFrame):
    head = df.head(12).astype("string").fillna("")
    flat = head.to_numpy().ravel().tolist()
    if not any("JN101" in x for x in flat):
        return None
    region = next(x for x in flat if "填报单位" in x)
    region = re.sub(r"^填报单位(\(盖章\))?[:：]", "", region).replace("统计局", "").strip()
    hr = next(i for i in range(len(head)) if (head.iloc[i] == "统一社会信用代码").any())
    groups = df.iloc[hr].ffill()
    subs = df.iloc[hr + 1].fillna("")
    cols = {}
    for c in range(df.shape[1]):
        g, s = str(groups.iloc[c]), str(subs.iloc[c])
        for (gk, sk), name in FIELDS.items():
            if g.startswith(gk) and s == sk:
                cols[name] = c
        if g == "统一社会信用代码":
            cols["credit_code"] = c
    data = df.iloc[hr + 2:]
    code = data.iloc[:, cols["credit_code"]].astype("string").str.strip().str.upper()
    data = data[code.str.match(CODE.pattern).fillna(False)]
    out = pd.DataFrame({k: to_num(data.iloc[:, c]) for k, c in cols.items() if k != "credit_code"})
    out["region"] = region
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--engine", default="openpyxl")
    a = ap.parse_args()
    frames = []
    for path in sorted(Path(a.dir).glob("*.xlsx")):
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine=a.engine, dtype=object)
        for df in sheets.values():
            r = read_sheet(df)
            if r is not None:
                frames.append(r)
    allr = pd.concat(frames, ignore_index=True)
    g = allr.groupby("region").agg(enterprises=("output_ytd", "size"), output_ytd=("output_ytd", "sum"),
                                   output_prev=("output_prev", "sum"), revenue_ytd=("revenue_ytd", "sum"),
                                   revenue_prev=("revenue_prev", "sum")).reset_index()
    g["output_growth"] = (g["output_ytd"] / g["output_prev"] - 1) * 100
    g["revenue_growth"] = (g["revenue_ytd"] / g["revenue_prev"] - 1) * 100
    g = g[["region", "enterprises", "output_ytd", "output_prev", "output_growth", "revenue_ytd", "revenue_prev",
           "revenue_growth"]].sort_values("region")
    for k in ("output_ytd", "output_prev", "revenue_ytd", "revenue_prev"):
        g[k] = g[k].map(lambda x: f"{x:.1f}")
    for k in ("output_growth", "revenue_growth"):
        g[k] = g[k].map(lambda x: f"{x:.4f}")
    g.to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main()
