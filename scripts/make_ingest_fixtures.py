#!/usr/bin/env python3
"""Regenerates the binary ingest fixtures under tests/fixtures/ingest/.

Most of the ingest corpus (tests/all/ingest_corpus.rs) is written from code at test time with
rust_xlsxwriter. The files here are the ones rust_xlsxwriter cannot write:

  zoucheng_jn101.xls        old Excel 97-2003 (BIFF8): the canonical JN101 data in 千元, merged
                            two-row headers, numbers typed as text, a 合计 row, notes (xlwt)
  zoucheng_jn101.ods        OpenDocument: the same data in 万元, columns in another order, a hidden
                            decoy sheet (hand-written XML, zipped with the standard library)
  encrypted.xlsx            an .xlsx with an opening password (OLE container holding an
                            EncryptedPackage), made with msoffcrypto-tool
  zip_bomb.xlsx             a real workbook whose sheet part inflates to 300 MB of blanks
                            (about 300 kB packed)

Run from the project root:

    pip install xlwt==1.3.0 msoffcrypto-tool==6.1.0
    python3 scripts/make_ingest_fixtures.py

The canonical rows (ROWS below) are the same as in tests/all/ingest_corpus.rs; change both together.
"""

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from decimal import Decimal

import xlwt

OUT = os.path.join("tests", "fixtures", "ingest")

# credit_code, name, industry_code, output (ytd, prev), va, revenue, profit, export, employees, note
ROWS = [
    ("91370883MA3C00001X", "邹城市示例机械有限公司", "0610", ("15000", "13000"), ("4000", "3500"),
     ("12000", "10000"), ("-500", "200"), ("0", "0"), 320, ""),
    ("91370883MA3C00002Y", "邹城市示例化工有限公司", "2614", ("200000.5", "180000"), ("50000", "45000.3"),
     ("123456.7", "100000"), ("10000", "9000"), ("1234.5", "1000"), 880, "新投产"),
    ("91370883MA3C00003W", "邹城市示例电力有限公司", "4411", ("6000", "5000"), ("1500", "1200"),
     ("5800", "4900"), ("100", "90"), ("0", "0"), 60, ""),
    ("91370883MA3C00004U", "邹城市示例纺织有限公司", "1713", ("8888.8", "7777.7"), ("2222.2", "1999.9"),
     ("9000.1", "8000"), ("0", "-12.3"), ("300", "250"), 150, ""),
]
PAIRS = ["工业总产值(当年价格)", "工业增加值", "营业收入", "利润总额", "出口交货值"]


def amounts(row):
    return [v for pair in row[3:8] for v in pair]


def make_xls():
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("表1")
    ws.write_merge(0, 0, 0, 15, "济宁市规模以上工业企业主要经济指标月报")
    ws.write(1, 0, "表号:JN101")
    ws.write(1, 6, "制定机关:济宁市统计局")
    ws.write(2, 0, "填报单位(盖章):邹城市统计局")
    ws.write(2, 6, "2025年1—9月")
    ws.write(2, 12, "计量单位:千元")
    for c, h in enumerate(["统一社会信用代码", "单位详细名称", "行业代码"]):
        ws.write_merge(3, 4, c, c, h)
    for i, h in enumerate(PAIRS):
        c = 3 + 2 * i
        ws.write_merge(3, 3, c, c + 1, h)
        ws.write(4, c, "本年累计")
        ws.write(4, c + 1, "上年同期")
    ws.write_merge(3, 4, 13, 13, "期末从业人员(人)")
    ws.write_merge(3, 4, 14, 14, "备注")
    r = 5
    for k, row in enumerate(ROWS):
        ws.write(r, 0, row[0])
        ws.write(r, 1, row[1])
        ws.write(r, 2, int(row[2]))  # stored as a number: 0610 arrives as 610
        for j, v in enumerate(amounts(row)):
            qian = Decimal(v) * 10
            if k == 1:
                ws.write(r, 3 + j, "{:,}".format(qian))  # typed as text with separators
            elif j >= 8 and qian == 0:
                ws.write(r, 3 + j, "—")
            else:
                ws.write(r, 3 + j, float(qian))
        ws.write(r, 13, row[8])
        if row[9]:
            ws.write(r, 14, row[9])
        r += 1
        if k == 1:
            r += 1  # a blank row in the middle
    ws.write(r, 1, "合计")
    for j in range(10):
        ws.write(r, 3 + j, float(sum(Decimal(amounts(row)[j]) for row in ROWS) * 10))
    ws.write(r, 13, sum(row[8] for row in ROWS))
    ws.write(r + 2, 0, "注:本表金额单位为千元。")
    ws.write(r + 3, 0, "单位负责人:张三    填表人:李四    报出日期:2025年10月8日")
    wb.save(os.path.join(OUT, "zoucheng_jn101.xls"))


def ods_cell(v):
    if v is None:
        return "<table:table-cell/>"
    if isinstance(v, (int, float, Decimal)):
        return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'


def ods_row(cells):
    return "<table:table-row>" + "".join(ods_cell(c) for c in cells) + "</table:table-row>"


def make_ods():
    # Columns in another order: name, credit code, employees, the pairs (revenue first), industry.
    order = [2, 0, 1, 3, 4]  # indexes into PAIRS
    top = ["单位名称", "统一社会信用代码", "期末从业人员"]
    sub = [None, None, None]
    for i in order:
        top += [PAIRS[i], PAIRS[i]]  # top header repeated over both columns (no merge)
        sub += ["本年累计", "上年同期"]
    top += ["行业代码", "备注"]
    sub += [None, None]
    rows = [
        ["济宁市规模以上工业企业主要经济指标月报"],
        ["表号:JN101"],
        ["填报单位:邹城市统计局", None, "2025年1—9月", None, "计量单位:万元"],
        top,
        sub,
    ]
    for row in ROWS:
        cells = [row[1], row[0].lower(), row[8]]
        for i in order:
            for v in row[3 + i]:
                cells.append("" if (i == 4 and Decimal(v) == 0) else Decimal(v))
        cells += [row[2], row[9] or None]
        rows.append(cells)
    rows.append([None])
    rows.append(["注:数据来源于一套表联网直报平台。"])
    table = "".join(ods_row(r) for r in rows)
    decoy = ods_row(["草稿"]) + ods_row([1, 2, 3])
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.2">
<office:automatic-styles>
<style:style style:name="ta_hidden" style:family="table"><style:table-properties table:display="false"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
<table:table table:name="草稿" table:style-name="ta_hidden">{decoy}</table:table>
<table:table table:name="规上工业">{table}</table:table>
</office:spreadsheet></office:body></office:document-content>"""
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""
    path = os.path.join(OUT, "zoucheng_jn101.ods")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", (2025, 10, 8, 0, 0, 0)),
                   "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        for name, text in [("content.xml", content), ("META-INF/manifest.xml", manifest)]:
            z.writestr(zipfile.ZipInfo(name, (2025, 10, 8, 0, 0, 0)), text, compress_type=zipfile.ZIP_DEFLATED)


def plain_xlsx():
    """A small real return to encrypt / inflate: the first sample workbook."""
    return os.path.join("sample_data", "returns", "任城区_2025年1-2月_倍增监测报表.xlsx")


def make_encrypted():
    out = os.path.join(OUT, "encrypted.xlsx")
    subprocess.run(["msoffcrypto-tool", "-e", "-p", "jining2025", plain_xlsx(), out], check=True)


def make_zip_bomb():
    src = zipfile.ZipFile(plain_xlsx())
    path = os.path.join(OUT, "zip_bomb.xlsx")
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    tail = b"</sheetData></worksheet>"
    blanks = 300 * 1024 * 1024
    with zipfile.ZipFile(path, "w") as z:
        for info in src.infolist():
            data = src.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, (2025, 10, 8, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "xl/worksheets/sheet1.xml":
                with z.open(zi, "w", force_zip64=True) as w:
                    w.write(head)
                    chunk = b" " * (1024 * 1024)
                    for _ in range(blanks // len(chunk)):
                        w.write(chunk)
                    w.write(tail)
            else:
                z.writestr(zi, data)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_xls()
    make_ods()
    make_encrypted()
    make_zip_bomb()
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))
