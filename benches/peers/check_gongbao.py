#!/usr/bin/env python3
"""Checks gongbao's published county figures against the generator's expected.csv.

Reads OUT/warehouse/indicator_values (Parquet, Hive-partitioned) and the regions of REFERENCE, and
compares each unit's enterprises and output_ytd with EXPECTED (computed by the generator from its
own integers, not by gongbao). Exit 0 and "ok N units" when every unit matches.

Usage: python benches/peers/check_gongbao.py OUT REFERENCE EXPECTED
"""
import csv
import sys
from pathlib import Path

import polars as pl


def main():
    out, reference, expected = (Path(a) for a in sys.argv[1:4])
    names = {r["code"]: r["name"] for r in csv.DictReader(open(reference / "regions.csv", encoding="utf-8"))}
    iv = pl.read_parquet(str(out / "warehouse" / "indicator_values" / "**" / "*.parquet"), hive_partitioning=True)
    iv = iv.filter((pl.col("breakdown") == "_T") & pl.col("indicator").is_in(["enterprises", "output_ytd"]))
    got = {}
    for r in iv.iter_rows(named=True):
        if r["region_code"] in names:
            got.setdefault(names[r["region_code"]], {})[r["indicator"]] = r["value"]
    bad = 0
    rows = list(csv.DictReader(open(expected, encoding="utf-8")))
    for e in rows:
        g = got.get(e["region"], {})
        ok = g.get("enterprises") == float(e["enterprises"]) and abs(g.get("output_ytd", -1) - float(e["output_ytd"])) < 0.05
        if not ok:
            bad += 1
            if bad <= 5:
                print(f"MISMATCH {e['region']}: expected {e['enterprises']} / {e['output_ytd']}, got {g}", file=sys.stderr)
    if bad:
        print(f"{bad} of {len(rows)} units differ", file=sys.stderr)
        sys.exit(1)
    print(f"ok {len(rows)} units")


if __name__ == "__main__":
    main()
